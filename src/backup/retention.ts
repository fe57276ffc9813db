// Retention, and the guard in front of it. Pure.
//
// Pruning needs the repository key, so it runs from a trusted place holding the secrets store, never on the
// backup server. Before it prunes, it compares borg's archive list with the list it recorded after its own last
// run: production can only add archives, so any archive of that list that is gone now was deleted through
// production's append-only key (a compromised production). Such a delete is still undoable (append-only keeps
// the data until a compact), and a prune + compact now would make it permanent: the guard refuses.

export interface Retention {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface TimedArchive {
  name: string;
  /** UTC. */
  time: Date;
}

const RULES: { rule: keyof Retention; period: (d: Date) => string }[] = [
  { rule: 'daily', period: (d) => d.toISOString().slice(0, 10) },
  { rule: 'weekly', period: isoWeek },
  { rule: 'monthly', period: (d) => d.toISOString().slice(0, 7) },
];

function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-${String(week).padStart(2, '0')}`;
}

/**
 * The archives `borg prune --keep-daily/--keep-weekly/--keep-monthly` keeps, following borg 1.2's rules: per
 * rule, newest first, the newest archive of each period not kept by an earlier rule, until the count is reached;
 * when a rule runs out of archives it keeps the oldest one as well.
 */
export function kept(archives: TimedArchive[], keep: Retention): Map<string, string> {
  const because = new Map<string, string>();
  const sorted = [...archives].sort((a, b) => b.time.getTime() - a.time.getTime());
  for (const { rule, period } of RULES) {
    const n = keep[rule];
    if (n === 0) continue;
    let last: string | undefined;
    let count = 0;
    let a: TimedArchive | undefined;
    for (a of sorted) {
      const p = period(a.time);
      if (p === last) continue;
      last = p;
      if (because.has(a.name)) continue;
      count++;
      because.set(a.name, `${rule} #${count}`);
      if (count === n) break;
    }
    if (a && count < n && !because.has(a.name)) because.set(a.name, `${rule}[oldest] #${count + 1}`);
  }
  return because;
}

export interface PrunePlan {
  keep: { name: string; because: string }[];
  prune: string[];
}

export function planPrune(archives: TimedArchive[], keep: Retention): PrunePlan {
  const because = kept(archives, keep);
  const sorted = [...archives].sort((a, b) => b.time.getTime() - a.time.getTime());
  return {
    keep: sorted
      .filter((a) => because.has(a.name))
      .map((a) => ({ name: a.name, because: because.get(a.name) ?? '' })),
    prune: sorted.filter((a) => !because.has(a.name)).map((a) => a.name),
  };
}

export type GuardVerdict =
  | { ok: true; firstRun: boolean }
  | { ok: false; vanished: string[]; message: string; hint: string };

/**
 * Compare the archives in the repository now with those recorded after the last prune. Every recorded archive
 * must still be there; new ones may have appeared.
 */
export function guardPrune(recorded: string[] | undefined, current: string[]): GuardVerdict {
  if (!recorded) return { ok: true, firstRun: true };
  const now = new Set(current);
  const vanished = recorded.filter((n) => !now.has(n)).sort();
  if (!vanished.length) return { ok: true, firstRun: false };
  return {
    ok: false,
    vanished,
    message: `${vanished.length} archive${vanished.length === 1 ? '' : 's'} vanished since the last prune, which retention did not remove: ${vanished.join(', ')}`,
    hint:
      'only the append-only key could have deleted them (production compromised?); nothing was pruned or compacted, ' +
      'so they can still be recovered: see "Undo deletes made through the append-only key" in docs/backups.md',
  };
}
