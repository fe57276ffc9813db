import type { Command } from 'commander';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentContext, environmentOptions } from './environment.js';

export function registerRollback(program: Command, ctx: CliContext): void {
  environmentOptions(
    program
      .command('rollback')
      .description(
        'Redeploy an earlier release kept on the manager (default: the one before the running one).',
      )
      .argument('<environment>', 'environment')
      .argument('[version]', 'release to go back to')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText(
      'after',
      examples(
        ['crvs rollback production', 'back to the previous release'],
        ['crvs rollback qa v1', 'a given one'],
      ),
    )
    .action(async (environment: string, version: string | undefined, o: EnvironmentFlags) => {
      const { applyRelease, planRollback } = await import('../usecases/deploy.js');
      const { c, fx, out } = await environmentContext(ctx, environment, o);
      const r = await applyRelease(fx, c, await planRollback(fx, c, version));
      out.out(
        o.json
          ? JSON.stringify({ environment, ...r }, null, 2)
          : `${environment}: rolled back to ${r.version}`,
      );
    });
}
