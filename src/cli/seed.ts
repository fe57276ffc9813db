import type { Command } from 'commander';
import { CrvsError, UsageError } from '../errors.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentContext, environmentOptions } from './environment.js';

export function registerSeed(program: Command, ctx: CliContext): void {
  environmentOptions(
    program
      .command('seed')
      .description('Load reference data (offices, locations, users) once, from inside the cluster.')
      .argument('<environment>', 'environment')
      .option('--force', 'seed again (never on production)')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText(
      'after',
      examples(['crvs seed qa', 'first seed'], ['crvs seed qa --force', 'reload reference data on qa']),
    )
    .action(async (environment: string, o: EnvironmentFlags & { force?: boolean }) => {
      if (o.force && environment === 'production')
        throw new UsageError('production is seeded once; --force is refused there');
      const { runSeed } = await import('../usecases/seed.js');
      const { c, fx, out } = await environmentContext(ctx, environment, o);
      const r = await runSeed(fx, c, { force: Boolean(o.force), reset: false });
      if (r.outcome === 'refused')
        throw new CrvsError('E_SEEDED', `${environment} is already seeded; nothing was changed`, {
          hint:
            environment === 'production' ? 'production is seeded once' : 'crvs seed --force, or crvs reset',
        });
      out.out(
        o.json
          ? JSON.stringify({ environment, ...r }, null, 2)
          : `${environment}: ${r.log.split('\n').pop()}`,
      );
    });
}
