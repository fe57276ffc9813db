import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { CI_KEY_SECRET } from '../github/ci-key.js';
import { Sensitive } from '../secrets/sensitive.js';
import { type CliContext, examples } from './context.js';
import { specContext } from './environment.js';
import { SPEC_FLAG, SPEC_HELP } from './spec-option.js';
import { VERSION } from './version.js';

const TOKEN_HELP =
  '\nToken: $GITHUB_TOKEN, then $GH_TOKEN, then `gh auth token`. Values are never printed.\n';

interface SyncFlags {
  spec?: string;
  identity?: string;
  ciKey?: string;
  dryRun?: boolean;
  prune?: boolean;
  json?: boolean;
}

/** The CI private key, from a file (never the command line); refuses the public half by mistake. */
async function readCiKey(file: string): Promise<Sensitive<string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read the CI key ${file}`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
    throw new UsageError(
      `${file} is not a private key`,
      'pass the private key whose public half is secrets/ci.pub (e.g. ssh-keygen -t ed25519 -N "" -f ci)',
    );
  return new Sensitive(text.endsWith('\n') ? text : `${text}\n`, CI_KEY_SECRET);
}

export function registerGithub(program: Command, ctx: CliContext): void {
  const github = program
    .command('github')
    .description(
      'The GitHub repository that runs the CD workflows: its environments, secrets and variables.',
    );

  github
    .command('sync')
    .description(
      "Create the GitHub environment and upload what changed: the store's secrets (sealed to the environment's key) and variables from the spec.",
    )
    .argument('<environment>', 'environment (production, staging, qa or development)')
    .option(SPEC_FLAG, SPEC_HELP)
    .option(
      '--identity <key>',
      'SSH private key that opens the store (default: $CRVS_IDENTITY or ~/.ssh/id_ed25519)',
    )
    .option(
      '--ci-key <file>',
      `also upload this private key file as ${CI_KEY_SECRET} (the private half of secrets/ci.pub)`,
    )
    .option('--dry-run', 'show what would change, by name; change nothing')
    .option('--prune', 'delete secrets and variables on GitHub that crvs no longer has')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs github sync qa --dry-run', 'what would be uploaded, by name'],
        ['crvs github sync production --ci-key ~/.ssh/crvs-ci', 'secrets, variables and the CI key'],
        ['GITHUB_TOKEN=... crvs github sync staging --prune', 'also delete what the store no longer has'],
      ).concat(TOKEN_HELP),
    )
    .action(async (environment: string, o: SyncFlags) => {
      const { githubSync } = await import('../usecases/github-sync.js');
      const { renderSync } = await import('../github/sync.js');
      const { s: sc, fx, out } = await specContext(ctx, o);
      const ciKey = o.ciKey ? await readCiKey(resolve(ctx.io.cwd, o.ciKey)) : undefined;
      const r = await githubSync(fx, sc, environment, {
        ...(ciKey ? { ciKey } : {}),
        dryRun: o.dryRun ?? false,
        prune: o.prune ?? false,
        userAgent: `crvs/${VERSION}`,
      });
      out.out(o.json ? JSON.stringify(r, null, 2) : renderSync(r));
    });
}
