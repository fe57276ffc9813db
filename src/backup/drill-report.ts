// The report every restore drill leaves on staging (one JSON object per line in DRILL_LOG), and how
// `crvs backup drills <env>` reads them back. Pure.
import type { Verdict } from './verdict.js';

export const DRILL_LOG = '/var/lib/crvs/backup/restore-drills.jsonl';

export interface DrillReport {
  environment: string;
  source: string;
  startedAt: string;
  durationSeconds: number;
  // error: the drill could not look (backup server unreachable, wrong passphrase); staging untouched.
  result: Verdict['kind'] | 'error' | 'swap-failed' | 'app-check-failed';
  archive?: string;
  ageMinutes?: number;
  counts?: Record<string, number>;
  detail: string;
  /** Seconds per phase, in order (check, database, attachments, swap, appCheck); those reached only. */
  phases?: Record<string, number>;
}

export function drillReport(
  base: { environment: string; source: string; startedAt: Date; finishedAt: Date },
  verdict: Verdict,
  counts?: Record<string, number>,
): DrillReport {
  return {
    environment: base.environment,
    source: base.source,
    startedAt: base.startedAt.toISOString(),
    durationSeconds: Math.round((base.finishedAt.getTime() - base.startedAt.getTime()) / 1000),
    result: verdict.kind,
    ...('archive' in verdict ? { archive: verdict.archive, ageMinutes: verdict.ageMinutes } : {}),
    ...(counts ? { counts } : {}),
    detail: verdict.detail,
  };
}

/** Reports from the log, newest first; a torn last line (a drill killed while writing) is skipped. */
export function parseDrillLog(text: string): DrillReport[] {
  const out: DrillReport[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as DrillReport;
      if (typeof r.result === 'string' && typeof r.startedAt === 'string') out.push(r);
    } catch {
      /* a partial line */
    }
  }
  return out.reverse();
}

/** One line per drill for the table of `crvs backup drills`. */
export function drillLine(r: DrillReport): string {
  const age =
    r.ageMinutes === undefined
      ? '-'
      : `${Math.floor(r.ageMinutes / 60)}h${String(r.ageMinutes % 60).padStart(2, '0')}m`;
  return [r.startedAt, r.result, r.archive ?? '-', age, `${r.durationSeconds}s`, r.detail].join('  ');
}
