import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { PHASES, type Phase } from '../config/phases.js';
import { UsageError } from '../errors.js';
import { type CliContext, examples } from './context.js';
import { SPEC_FLAG, SPEC_HELP, specPath } from './spec-option.js';

export const number =
  (what: string, min = 0) =>
  (value: string): number => {
    const n = Number(value.replace(/[_,]/g, ''));
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${what} must be a number >= ${min}`);
    return n;
  };

interface PlanOptions {
  spec?: string;
  population?: number;
  birthRate?: number;
  deathRate?: number;
  attachments?: number;
  years?: number;
  phase?: Phase;
  json?: boolean;
}

export function registerPlan(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description(
      "Size servers and disks with the seed's formula, from the spec's sizing section or from flags.",
    )
    .option(SPEC_FLAG, SPEC_HELP)
    .option('-p, --population <n>', 'population covered', number('population', 1))
    .option('--birth-rate <n>', 'crude birth rate per 1000 (default 17.299)', number('birth rate'))
    .option('--death-rate <n>', 'crude death rate per 1000 (default 7.7)', number('death rate'))
    .option('--attachments <n>', 'average attachments per record (default 3)', number('attachments'))
    .option('--years <n>', 'years of records to hold (default 1)', number('years', 1))
    .addOption(
      new Option(
        '--phase <phase>',
        'project phase (default: national with flags, inferred from a spec)',
      ).choices(PHASES),
    )
    .option('--json', 'print the plan as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs plan --population 30000000', 'national scale, 30M people'],
        ['crvs plan -p 5000000 --attachments 2 --years 5 --phase pilot', 'a pilot sized for five years'],
        ['crvs plan --spec crvs.yaml --json', "from the spec's sizing section, as JSON"],
      ),
    )
    .action(async (opts: PlanOptions) => {
      const { loadSpec } = await import('../config/load.js');
      const { inferPhase } = await import('../config/cluster.js');
      const { capacityPlan } = await import('../plan/capacity.js');
      const { sizingInputs } = await import('../plan/sizing.js');
      const { renderCapacityPlan } = await import('./plan-report.js');
      const out = ctx.output({ json: opts.json ?? false });
      const file = specPath(ctx.io, opts.spec);
      const useSpec = opts.spec !== undefined || (opts.population === undefined && existsSync(file));
      const loaded = useSpec ? await loadSpec(file) : undefined;
      const inputs = sizingInputs(loaded?.spec.sizing, {
        ...(opts.population !== undefined ? { population: opts.population } : {}),
        ...(opts.birthRate !== undefined ? { birthRate: opts.birthRate } : {}),
        ...(opts.deathRate !== undefined ? { deathRate: opts.deathRate } : {}),
        ...(opts.attachments !== undefined ? { attachmentsPerRecord: opts.attachments } : {}),
        ...(opts.years !== undefined ? { years: opts.years } : {}),
      });
      if (!inputs) {
        throw new UsageError(
          loaded ? `${file} has no sizing section and --population was not given` : 'no population given',
          'pass --population N, or run in a folder whose crvs.yaml has a sizing section',
        );
      }
      const phase = opts.phase ?? loaded?.spec.phase ?? (loaded ? inferPhase(loaded.spec) : 'national');
      const plan = capacityPlan(inputs, phase);
      const declared = loaded
        ? Object.fromEntries(
            Object.entries(loaded.spec.environments).map(([k, e]) => [k, e?.servers.length ?? 0]),
          )
        : undefined;
      if (opts.json) out.out(JSON.stringify({ ...plan, ...(declared ? { declared } : {}) }, null, 2));
      else out.out(renderCapacityPlan(plan, declared));
    });
}
