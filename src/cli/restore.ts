import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentOptions, specContext } from './environment.js';

export function registerRestore(program: Command, ctx: CliContext): void {
  environmentOptions(
    program
      .command('restore')
      .description(
        "Restore production's archive into staging (or qa, development, when their spec has a restore section): verify it first (borg check, manifest, trial restore), and only then swap it in. Into production itself only as disaster recovery.",
      )
      .argument(
        '<environment>',
        'the environment restored (staging, qa, development; production with --disaster-recovery)',
      )
      .requiredOption('--from <environment>', 'whose backup to restore (production)')
      .option('--archive <name>', 'restore this archive instead of the newest (crvs backup list)')
      .option(
        '--verify-only',
        "verify and trial-restore into a scratch database; leave the environment's data alone",
      )
      .option(
        '--disaster-recovery',
        'restore production from its own backup: a fresh backup of what is there first, the app stopped meanwhile',
      )
      .option('--yes', 'do not ask to type the environment name')
      .option('--json', 'print the drill report as JSON'),
  )
    .addHelpText(
      'after',
      examples(
        [
          'crvs restore staging --from production',
          'asks you to type "staging", then restores the newest archive',
        ],
        [
          'crvs restore qa --from production --yes',
          "qa gets production's records (environments.qa.restore; qa then holds citizen data)",
        ],
        [
          'crvs restore staging --from production --verify-only',
          'prove the newest archive restores; change nothing',
        ],
        [
          'crvs restore staging --from production --archive production-2027-01-01T00:00:00Z --yes',
          'a given archive, in CI',
        ],
        [
          'crvs restore production --from production --disaster-recovery',
          'a rebuilt production (provisioned, deployed, empty) gets its records back',
        ],
      ),
    )
    .action(
      async (
        environment: string,
        o: EnvironmentFlags & {
          from: string;
          archive?: string;
          verifyOnly?: boolean;
          disasterRecovery?: boolean;
          yes?: boolean;
        },
      ) => {
        const { checkRestore, restore } = await import('../usecases/backup.js');
        const { s, fx, out } = await specContext(ctx, o);
        const request = {
          from: o.from,
          ...(o.archive ? { archive: o.archive } : {}),
          ...(o.verifyOnly ? { verifyOnly: true } : {}),
          ...(o.disasterRecovery ? { disasterRecovery: true } : {}),
        };
        checkRestore(s, environment, request);
        if (!o.verifyOnly && !o.yes) {
          if (!ctx.io.interactive)
            throw new UsageError(
              `a restore replaces every record of ${environment}; confirm with --yes when no one can type`,
            );
          const { input } = await import('@inquirer/prompts');
          const typed = await input({
            message: `Every record on ${environment} will be replaced by ${o.from}'s backup. Type "${environment}" to go on:`,
          });
          if (typed.trim() !== environment)
            throw new UsageError('the name did not match; nothing was changed');
        }
        const r = await restore(fx, s, environment, request);
        out.out(
          o.json
            ? JSON.stringify(r, null, 2)
            : `${environment}: ${r.detail} in ${r.durationSeconds} s (archive ${r.ageMinutes ?? '?'} min old)` +
                (r.freshBackup ? `; what it held before is in ${r.freshBackup}` : ''),
        );
      },
    );
}
