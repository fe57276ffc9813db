import { describe, expect, it } from 'vitest';
import { parsePruneRecord, pruneRecordFile, renderPruneRecord } from '../../../src/backup/prune-record.js';
import { guardPrune, planPrune, type TimedArchive } from '../../../src/backup/retention.js';

// 181 archives: noon and midnight backups with gaps over 120 days, then 30 hourly ones. The expected list is what
// `borg prune --dry-run --list --keep-daily 7 --keep-weekly 4 --keep-monthly 12` (borg 1.2.4) kept of the same
// archives, created with `borg create --timestamp`.
function history(): TimedArchive[] {
  const out: Date[] = [];
  const t = Date.UTC(2027, 0, 1);
  const day = 86_400_000;
  for (let d = 0; d < 120; d++) {
    if (d % 17 === 5) continue;
    out.push(new Date(t + d * day));
    if (d % 3 === 0) out.push(new Date(t + d * day + 12 * 3_600_000));
  }
  for (let h = 0; h < 30; h++) out.push(new Date(t + 120 * day + h * 3_600_000));
  return out.map((time) => ({ name: `production-${time.toISOString().slice(0, 19)}Z`, time }));
}

describe('retention', () => {
  it('keeps what borg prune keeps', () => {
    const plan = planPrune(history(), { daily: 7, weekly: 4, monthly: 12 });
    expect(plan.keep.map((k) => `${k.name} ${k.because}`)).toEqual([
      'production-2027-05-02T05:00:00Z daily #1',
      'production-2027-05-01T23:00:00Z daily #2',
      'production-2027-04-30T00:00:00Z daily #3',
      'production-2027-04-29T00:00:00Z daily #4',
      'production-2027-04-28T12:00:00Z daily #5',
      'production-2027-04-27T00:00:00Z daily #6',
      'production-2027-04-26T00:00:00Z daily #7',
      'production-2027-04-25T12:00:00Z weekly #1',
      'production-2027-04-17T00:00:00Z weekly #2',
      'production-2027-04-11T00:00:00Z weekly #3',
      'production-2027-04-04T12:00:00Z weekly #4',
      'production-2027-03-31T00:00:00Z monthly #1',
      'production-2027-02-28T00:00:00Z monthly #2',
      'production-2027-01-31T12:00:00Z monthly #3',
      'production-2027-01-01T00:00:00Z monthly[oldest] #4',
    ]);
    expect(plan.prune).toHaveLength(181 - 15);
  });
});

describe('the prune guard', () => {
  it('lets the first prune through and says it had nothing to compare with', () => {
    expect(guardPrune(undefined, ['a'])).toEqual({ ok: true, firstRun: true });
  });

  it('accepts new archives since the last prune', () => {
    expect(guardPrune(['a', 'b'], ['a', 'b', 'c'])).toEqual({ ok: true, firstRun: false });
  });

  it('refuses when archives vanished that retention did not remove', () => {
    expect(guardPrune(['a', 'b', 'c'], ['c', 'd'])).toEqual({
      ok: false,
      vanished: ['a', 'b'],
      message: '2 archives vanished since the last prune, which retention did not remove: a, b',
      hint:
        'only the append-only key could have deleted them (production compromised?); nothing was pruned or compacted, ' +
        'so they can still be recovered: see "Undo deletes made through the append-only key" in docs/backups.md',
    });
  });
});

describe('the prune record', () => {
  it('round-trips, sorted, and refuses another environment', () => {
    const text = renderPruneRecord('production', new Date('2027-01-02T03:04:05Z'), ['b', 'a']);
    expect(text).toBe(
      '{\n  "format": 1,\n  "environment": "production",\n  "at": "2027-01-02T03:04:05.000Z",\n  "archives": [\n    "a",\n    "b"\n  ]\n}\n',
    );
    expect(parsePruneRecord(text, 'production').archives).toEqual(['a', 'b']);
    expect(() => parsePruneRecord(text, 'staging')).toThrow('not a prune record of staging');
    expect(pruneRecordFile('production')).toBe('backups/production-archives.json');
  });
});
