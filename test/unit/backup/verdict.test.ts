import { describe, expect, it } from 'vitest';
import { drillLine, drillReport, parseDrillLog } from '../../../src/backup/drill-report.js';
import { parseManifest, renderManifest } from '../../../src/backup/manifest.js';
import { parseArchiveName } from '../../../src/backup/naming.js';
import { type Evidence, judge, maySwapIn } from '../../../src/backup/verdict.js';
import { MANIFEST } from './fixtures.js';

const newest = parseArchiveName('production-2027-01-01T00:00:00Z');
const good: Evidence = {
  now: new Date('2027-01-01T01:30:00Z'),
  newest,
  staleAfterMinutes: 1440 + 120,
  check: { code: 0, output: '' },
  manifest: parseManifest(renderManifest(MANIFEST)),
  observed: {
    stores: [{ name: 'postgres', records: { 'public.records': 2500, 'public.users': 2 } }],
    attachments: { count: 2, listSha256: MANIFEST.attachments.listSha256 },
  },
};

describe('restore verdicts', () => {
  it.each([
    ['ok', good, 'ok', 'production-2027-01-01T00:00:00Z verified'],
    [
      'no archive',
      { ...good, newest: undefined },
      'missing',
      'no archive of the source environment in the repository',
    ],
    [
      'older than the schedule allows',
      { ...good, now: new Date('2027-01-02T02:01:00Z') },
      'stale',
      'the newest archive production-2027-01-01T00:00:00Z is 1561 minutes old; the schedule allows 1560',
    ],
    [
      'borg check failed',
      { ...good, check: { code: 1, output: 'Index object count mismatch.\n' } },
      'corrupt',
      'borg check exited 1: Index object count mismatch.',
    ],
    ['no manifest', { ...good, manifest: undefined }, 'corrupt', 'the archive has no manifest'],
    [
      'a broken manifest',
      { ...good, manifest: parseManifest('{}') },
      'corrupt',
      'unknown manifest format undefined',
    ],
    [
      "another archive's manifest",
      { ...good, newest: parseArchiveName('production-2027-01-01T00:30:00Z') },
      'corrupt',
      'the manifest belongs to production-2027-01-01T00:00:00Z, not to production-2027-01-01T00:30:00Z',
    ],
    [
      'a row missing in the trial restore',
      {
        ...good,
        observed: { stores: [{ name: 'postgres', records: { 'public.records': 2499, 'public.users': 2 } }] },
      },
      'counts-mismatch',
      'postgres.public.records: 2499 records, the manifest says 2500',
    ],
  ])('%s', (_, evidence, kind, detail) => {
    const v = judge(evidence as Evidence);
    expect([v.kind, v.detail]).toEqual([kind, detail]);
    expect(maySwapIn(v)).toBe(kind === 'ok');
  });
});

describe('drill reports', () => {
  it('records archive, age, counts, duration and result, and reads them back newest first', () => {
    const base = {
      environment: 'staging',
      source: 'production',
      startedAt: new Date('2027-01-01T01:30:00Z'),
      finishedAt: new Date('2027-01-01T01:34:05Z'),
    };
    const ok = drillReport(base, judge(good), { 'public.records': 2500 });
    const missing = drillReport(
      { ...base, startedAt: new Date('2027-01-02T01:30:00Z'), finishedAt: new Date('2027-01-02T01:30:02Z') },
      judge({ ...good, newest: undefined }),
    );
    expect(ok).toEqual({
      environment: 'staging',
      source: 'production',
      startedAt: '2027-01-01T01:30:00.000Z',
      durationSeconds: 245,
      result: 'ok',
      archive: 'production-2027-01-01T00:00:00Z',
      ageMinutes: 90,
      counts: { 'public.records': 2500 },
      detail: 'production-2027-01-01T00:00:00Z verified',
    });
    const log = `${JSON.stringify(ok)}\n${JSON.stringify(missing)}\n{"torn`;
    expect(parseDrillLog(log).map(drillLine)).toEqual([
      '2027-01-02T01:30:00.000Z  missing  -  -  2s  no archive of the source environment in the repository',
      '2027-01-01T01:30:00.000Z  ok  production-2027-01-01T00:00:00Z  1h30m  245s  production-2027-01-01T00:00:00Z verified',
    ]);
  });
});
