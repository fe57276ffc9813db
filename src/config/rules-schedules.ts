// Rules for the two schedules of the backup flow: each must be a cron the systemd timer reads the same way, and
// a restore (staging's, or qa's or development's when scheduled) must not start while the backup it depends on is still running.
import { restoreSettings } from './environment.js';
import { BACKUP_WINDOW_MINUTES } from './freshness.js';
import type { PathSegment } from './positions.js';
import type { Rule, RuleContext } from './rule.js';
import { type Cron, firings, parseCron } from './schedule.js';

const CRON_HINT =
  'five fields, minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) day-of-week (0-7, 0 and 7 are Sunday); ' +
  'each a number, a list (1,15), a range (1-5), a step (*/15, 0-30/10) or *';

function checked(ctx: RuleContext, path: PathSegment[], text: string): Cron | undefined {
  const r = parseCron(text);
  if (r.ok) return r.cron;
  const field = r.error.index ? ` (field ${r.error.index} of "${text}")` : '';
  ctx.error(path, `${r.error.message}${field}`, CRON_HINT);
  return undefined;
}

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The first restore that would start less than BACKUP_WINDOW_MINUTES after a backup started, over one year
 * from a fixed date (pure and repeatable), with the backup it collides with.
 */
export function restoreDuringBackup(
  backup: Cron,
  restore: Cron,
): { restore: Date; backup: Date } | undefined {
  const from = new Date(Date.UTC(2027, 0, 1));
  const to = new Date(Date.UTC(2028, 0, 1));
  const backups = firings(backup, new Date(from.getTime() - 86_400_000), to);
  let i = 0;
  for (const r of firings(restore, from, to)) {
    while (i + 1 < backups.length && (backups[i + 1] as Date) <= r) i++;
    const b = backups[i];
    if (b && b <= r && r.getTime() - b.getTime() < BACKUP_WINDOW_MINUTES * 60_000)
      return { restore: r, backup: b };
  }
  return undefined;
}

export const SCHEDULE_RULES: Rule[] = [
  {
    name: 'schedules-read-as-the-timer-reads-them',
    check(ctx) {
      const { spec } = ctx;
      if (spec.backups) checked(ctx, ['backups', 'schedule'], spec.backups.schedule);
      for (const { environment, restore } of restoreSettings(spec))
        if (restore.schedule !== undefined)
          checked(ctx, ['environments', environment, 'restore', 'schedule'], restore.schedule);
    },
  },
  {
    name: 'restore-after-backup',
    check({ spec, error }) {
      const backups = spec.backups;
      if (!backups) return;
      const b = parseCron(backups.schedule);
      if (!b.ok) return;
      for (const { environment, restore } of restoreSettings(spec)) {
        if (!restore.enabled || restore.schedule === undefined) continue;
        const r = parseCron(restore.schedule);
        if (!r.ok) continue;
        const clash = restoreDuringBackup(b.cron, r.cron);
        if (!clash) continue;
        const minutes = (clash.restore.getTime() - clash.backup.getTime()) / 60_000;
        error(
          ['environments', environment, 'restore', 'schedule'],
          `the restore at ${hhmm(clash.restore)} (${day(clash.restore)}) starts ${minutes} minute${minutes === 1 ? '' : 's'} ` +
            `after the backup of ${hhmm(clash.backup)}; that backup holds the repository lock while it runs, so the ` +
            'restore would wait for it or restore an older archive',
          `leave at least ${BACKUP_WINDOW_MINUTES} minutes between a backup and the restore (backups.schedule is "${backups.schedule}")`,
        );
      }
    },
  },
];
