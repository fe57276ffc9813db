import type { Command } from 'commander';
import { CrvsError } from '../errors.js';
import { packagePath } from '../paths.js';
import { type CliContext, examples } from './context.js';

/** The README's main job. Until the lab lands it validates and sizes the embedded national example. */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('The main job on the embedded default: validate and plan the national example spec.')
    .addHelpText('after', examples(['crvs demo', 'run the embedded rehearsal']))
    .action(async () => {
      const { runMain } = await import('./main.js');
      const spec = packagePath('examples', 'national', 'crvs.yaml');
      for (const argv of [
        ['validate', spec],
        ['plan', '--spec', spec],
      ]) {
        const code = await runMain(argv, ctx.io);
        if (code !== 0)
          throw new CrvsError('E_DEMO', `crvs ${argv[0]} of the embedded example failed`, { exitCode: code });
      }
    });
}
