// How old the newest archive may be before it counts as missing, and how long a backup is given to finish
// before the restore that depends on it may start. Pure.
import { type Cron, longestGapMinutes } from './schedule.js';

/** Extra time on top of the schedule's longest gap before an archive is stale (a slow night, a retried run). */
export const GRACE_MINUTES = 120;

/** Time a backup is given to finish; a restore starting sooner after a backup would wait on its lock. */
export const BACKUP_WINDOW_MINUTES = 30;

/** The age, in minutes, after which the newest archive is stale: longest gap of the schedule + grace. */
export function staleAfterMinutes(backup: Cron, grace = GRACE_MINUTES): number {
  return longestGapMinutes(backup) + grace;
}
