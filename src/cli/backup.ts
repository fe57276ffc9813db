import type { Command } from 'commander';
import { REPOSITORY_KEY } from '../backup/wiring.js';
import { renderTable } from '../report/table.js';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentOptions, specContext } from './environment.js';

const mb = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 1e6).toFixed(1)} MB`);

export function registerBackup(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('backup')
    .description(
      'Encrypted, append-only backups of production on the backup server: run one now, list, verify, prune, see the restore drills of staging (or qa, development).',
    )
    .addHelpText(
      'after',
      examples(
        ['crvs backup run production', 'a backup now, as the timer runs it'],
        ['crvs backup list production', 'archives with their time and sizes'],
        [
          'crvs backup verify production',
          "borg's check of the newest archive, data read back, and its manifest",
        ],
        ['crvs backup drills staging', 'the daily restore drills: archive, age, counts, result'],
        ['crvs backup prune production --dry-run', 'which archives backups.retention keeps'],
      ),
    );

  environmentOptions(
    cmd
      .command('run')
      .description('Back the environment up now (the same unit as the timer: a failure also alerts).')
      .argument('<environment>', 'the environment backed up (backups.source, production)')
      .option('--json', 'print the result as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags) => {
    const { runBackup } = await import('../usecases/backup.js');
    const { s, fx, out } = await specContext(ctx, o);
    const r = await runBackup(fx, s, environment);
    out.out(
      o.json
        ? JSON.stringify(r, null, 2)
        : `${environment}: ${r.archive} in ${r.seconds ?? '?'} s, ${mb(r.stats?.original_size)} read, ` +
            `${mb(r.stats?.deduplicated_size)} new after deduplication\n` +
            `repository key in the ${environment} secrets store (${REPOSITORY_KEY}): ${r.repositoryKey}`,
    );
  });

  environmentOptions(
    cmd
      .command('list')
      .description(
        'List the archives in the backup repository: time, size, size after compression, new data.',
      )
      .argument('<environment>', 'the environment backed up')
      .option('--json', 'print the archives as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags) => {
    const { archives } = await import('../usecases/backup.js');
    const { s, fx, out } = await specContext(ctx, o);
    const list = await archives(fx, s, environment);
    if (o.json) {
      out.out(JSON.stringify(list, null, 2));
      return;
    }
    if (!list.length) {
      out.out(`${environment}: no archive yet (crvs backup run ${environment})`);
      return;
    }
    out.out(
      renderTable(
        ['ARCHIVE', 'TIME', 'SIZE', 'COMPRESSED', 'DEDUPLICATED', 'FILES'],
        list.map((a) => [
          a.name,
          a.time,
          mb(a.originalBytes),
          mb(a.compressedBytes),
          mb(a.deduplicatedBytes),
          String(a.files),
        ]),
      ),
    );
  });

  environmentOptions(
    cmd
      .command('verify')
      .description(
        "Check an archive (default: the newest) with borg, every chunk read back, then its manifest's counts.",
      )
      .argument('<environment>', 'the environment backed up')
      .option('--archive <name>', 'the archive to check (crvs backup list)')
      .option('--json', 'print the result as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags & { archive?: string }) => {
    const { verifyArchive } = await import('../usecases/backup.js');
    const { s, fx, out } = await specContext(ctx, o);
    const r = await verifyArchive(fx, s, environment, o.archive);
    if (o.json) {
      out.out(JSON.stringify(r, null, 2));
      return;
    }
    const m = r.manifest;
    out.out(`${r.archive}: intact (borg check --verify-data), release ${m.release}, started ${m.startedAt}`);
    out.out(
      renderTable(
        ['STORE', 'RECORDS', 'BYTES'],
        [
          ...m.stores.map((st) => [
            st.name,
            String(Object.values(st.records).reduce((n, x) => n + x, 0)),
            String(st.bytes),
          ]),
          ['attachments', String(m.attachments.count), String(m.attachments.bytes)],
        ],
      ),
    );
  });

  environmentOptions(
    cmd
      .command('prune')
      .description(
        'Apply backups.retention from here (needs the store: the prune key and passphrase), after checking that no archive vanished since the last prune.',
      )
      .argument('<environment>', 'the environment backed up')
      .option('--dry-run', 'show which archives would be kept and pruned; change nothing')
      .option('--json', 'print the result as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags & { dryRun?: boolean }) => {
    const { pruneBackups } = await import('../usecases/backup.js');
    const { s, fx, out } = await specContext(ctx, o);
    const r = await pruneBackups(fx, s, environment, o.dryRun ? { dryRun: true } : {});
    if (o.json) {
      out.out(JSON.stringify(r, null, 2));
      return;
    }
    out.out(
      renderTable(
        ['ARCHIVE', o.dryRun ? 'WOULD BE' : 'RESULT'],
        [...r.keep.map((k) => [k.name, `kept (${k.because})`]), ...r.prune.map((n) => [n, 'pruned'])],
      ),
    );
    out.out(
      `${environment}: ${r.keep.length} kept, ${r.prune.length} ${o.dryRun ? 'to prune (dry run, nothing changed)' : 'pruned and compacted'}` +
        (r.firstRun ? '; first prune from here: the archive list is now recorded for the next one' : ''),
    );
  });

  environmentOptions(
    cmd
      .command('drills')
      .description('Show the restore drills kept on the environment, newest first.')
      .argument(
        '<environment>',
        'an environment that restores production (staging, qa, development), or production (its recoveries)',
      )
      .option('-n, --lines <n>', 'drills to show', '10')
      .option('--json', 'print the drills as JSON'),
  ).action(async (environment: string, o: EnvironmentFlags & { lines: string }) => {
    const { drills } = await import('../usecases/backup.js');
    const { s, fx, out } = await specContext(ctx, o);
    const list = (await drills(fx, s, environment)).slice(0, Number(o.lines));
    if (o.json) {
      out.out(JSON.stringify(list, null, 2));
      return;
    }
    if (!list.length) {
      out.out(`${environment}: no drill yet (crvs restore ${environment} --from production)`);
      return;
    }
    out.out(
      renderTable(
        ['STARTED', 'RESULT', 'ARCHIVE', 'AGE', 'DURATION', 'DETAIL'],
        list.map((d) => [
          d.startedAt,
          d.result,
          d.archive ?? '-',
          d.ageMinutes === undefined ? '-' : `${d.ageMinutes} min`,
          `${d.durationSeconds} s`,
          d.detail,
        ]),
      ),
    );
  });
}
