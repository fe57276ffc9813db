import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { type Command, Option } from 'commander';
import { PHASES, type Phase } from '../config/phases.js';
import type { StarterInput } from '../config/starter.js';
import { UsageError } from '../errors.js';
import { type CliContext, examples } from './context.js';
import { number } from './plan.js';
import { specPath } from './spec-option.js';

interface InitOptions {
  country?: string;
  domain?: string;
  phase?: Phase;
  population?: number;
  admin?: string;
  adminKey?: string;
  output?: string;
  force?: boolean;
  yes?: boolean;
}

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description(
      'Write a commented starter crvs.yaml for a phase and population (asks what it needs on a terminal).',
    )
    .option('--country <code>', 'ISO 3166-1 alpha-3 country code, e.g. FAR')
    .option('--domain <domain>', 'base domain, e.g. farajaland.gov.example')
    .addOption(new Option('--phase <phase>', 'poc, pilot or national').choices(PHASES))
    .option('-p, --population <n>', 'population covered', number('population', 1))
    .option('--admin <name>', 'first administrator user name')
    .option('--admin-key <key>', "first administrator's SSH public key line")
    .option('-o, --output <file>', 'where to write (default ./crvs.yaml)')
    .option('-f, --force', 'overwrite an existing file')
    .option('-y, --yes', 'never prompt; fail if a required value is missing')
    .addHelpText(
      'after',
      examples(
        ['crvs init', 'answer a few questions'],
        [
          'crvs init --yes --country FAR --domain farajaland.gov.example --phase pilot -p 5000000',
          'for scripts and CI',
        ],
      ),
    )
    .action(async (opts: InitOptions) => {
      const out = ctx.output();
      const file = specPath(ctx.io, opts.output);
      if (existsSync(file) && !opts.force) {
        throw new UsageError(
          `${relative(ctx.io.cwd, file) || file} already exists`,
          'pass --force to overwrite it',
        );
      }
      const { validateSpecText } = await import('../config/load.js');
      const { starterSpec } = await import('../config/starter.js');
      const input = await collect(opts, ctx);
      const text = starterSpec(input);
      const check = validateSpecText(text, file);
      if (!check.ok)
        throw new Error(`starter spec does not validate: ${check.problems.map((p) => p.message).join('; ')}`);
      await writeFile(file, text, { mode: 0o644 });
      out.out(
        `wrote ${relative(ctx.io.cwd, file) || file} (${input.phase}, ${input.country}, ${input.domain})`,
      );
      out.out('next: replace the placeholder addresses, then run crvs validate and crvs plan');
    });
}

/** Answers whose case or spacing cannot change their meaning are taken as meant: `far` is FAR. */
export const normalise = {
  country: (v: string) => v.trim().toUpperCase(),
  domain: (v: string) => v.trim().toLowerCase(),
};

const validators = {
  country: (v: string) =>
    /^[A-Z]{3}$/.test(normalise.country(v)) ? true : 'an ISO 3166-1 alpha-3 code, such as FAR',
  domain: (v: string) =>
    /^([a-z0-9-]+\.)+[a-z]{2,}$/.test(normalise.domain(v)) ? true : 'a domain such as farajaland.gov.example',
  population: (v: string) =>
    /^[0-9][0-9_,]*$/.test(v) && Number(v.replace(/[_,]/g, '')) > 0 ? true : 'a whole number',
};

async function collect(opts: InitOptions, ctx: CliContext): Promise<StarterInput> {
  const { sshPublicKey } = await import('../config/sections/admins.js');
  const adminKey = (v: string) => (sshPublicKey.safeParse(v).success ? true : 'an OpenSSH public key line');
  const ask = !opts.yes && ctx.io.interactive;
  const missing = (['country', 'domain', 'phase', 'population'] as const).filter(
    (k) => opts[k] === undefined,
  );
  if (missing.length && !ask) {
    throw new UsageError(
      `missing ${missing.map((m) => `--${m}`).join(', ')}`,
      'pass them as flags (no terminal to ask on), e.g. crvs init --yes --country FAR --domain x.example --phase pilot -p 5000000',
    );
  }
  for (const [key, check] of [
    ['country', validators.country],
    ['domain', validators.domain],
  ] as const) {
    const value = opts[key];
    const verdict = value === undefined ? true : check(value);
    if (verdict !== true) throw new UsageError(`--${key} must be ${verdict}`);
  }
  if (opts.adminKey && adminKey(opts.adminKey) !== true)
    throw new UsageError('--admin-key must be an OpenSSH public key line');
  // Prompts run only when `ask` is true: with missing values and no terminal we stopped above.
  const prompts = await import('@inquirer/prompts');
  const country = normalise.country(
    opts.country ??
      (await prompts.input({ message: 'Country code (ISO 3166-1 alpha-3)', validate: validators.country })),
  );
  const domain = normalise.domain(
    opts.domain ?? (await prompts.input({ message: 'Base domain', validate: validators.domain })),
  );
  const phase =
    opts.phase ??
    (await prompts.select<Phase>({
      message: 'Project phase',
      choices: [
        { value: 'poc', name: 'proof of concept: one qa server, no citizen data' },
        { value: 'pilot', name: 'pilot: qa, production, staging and backup, one server each' },
        { value: 'national', name: 'national: production cluster of 2 to 5 servers by population' },
      ],
    }));
  const population =
    opts.population ??
    Number(
      (await prompts.input({ message: 'Population covered', validate: validators.population })).replace(
        /[_,]/g,
        '',
      ),
    );
  let admin: StarterInput['admin'];
  if (opts.admin && opts.adminKey) admin = { name: opts.admin, sshKey: opts.adminKey };
  else if (ask) {
    const name = await prompts.input({ message: 'First administrator user name (empty to skip)' });
    if (name)
      admin = {
        name,
        sshKey: await prompts.input({ message: `${name}'s SSH public key`, validate: adminKey }),
      };
  }
  return { country, domain, phase, population, admin };
}
