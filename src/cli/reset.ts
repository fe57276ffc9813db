import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentContext, environmentOptions } from './environment.js';

export function registerReset(program: Command, ctx: CliContext): void {
  environmentOptions(
    program
      .command('reset')
      .description('Clear all data of qa, development or staging and seed again. Refused on production.')
      .argument('<environment>', 'qa, development or staging')
      .option('--yes', 'do not ask to type the environment name')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText(
      'after',
      examples(['crvs reset qa', 'asks you to type "qa"'], ['crvs reset qa --yes', 'in CI']),
    )
    .action(async (environment: string, o: EnvironmentFlags & { yes?: boolean }) => {
      if (environment === 'production')
        throw new UsageError('reset is refused on production: it holds citizen data');
      if (!o.yes) {
        if (!ctx.io.interactive)
          throw new UsageError('reset deletes every record; confirm with --yes when no one can type');
        const { input } = await import('@inquirer/prompts');
        const typed = await input({
          message: `Every record on ${environment} will be deleted. Type "${environment}" to go on:`,
        });
        if (typed.trim() !== environment) throw new UsageError('the name did not match; nothing was changed');
      }
      const { runSeed } = await import('../usecases/seed.js');
      const { c, fx, out } = await environmentContext(ctx, environment, o);
      const r = await runSeed(fx, c, { force: true, reset: true });
      out.out(
        o.json
          ? JSON.stringify({ environment, ...r }, null, 2)
          : `${environment}: reset and ${r.log.split('\n').pop()}`,
      );
    });
}
