// The verdict of a restore verification, as a value: only `ok` may touch staging's data. The checks run in the
// order that keeps staging safe: is there an archive, is it fresh, is it intact, does it hold what its manifest
// says. Pure: the inputs are what the drill observed.
import { compareWithManifest, type Manifest, type ManifestParse, type Observed } from './manifest.js';
import type { ArchiveName } from './naming.js';

export type Verdict =
  | { kind: 'missing'; detail: string }
  | { kind: 'stale'; archive: string; ageMinutes: number; limitMinutes: number; detail: string }
  | { kind: 'corrupt'; archive: string; ageMinutes: number; detail: string }
  | { kind: 'counts-mismatch'; archive: string; ageMinutes: number; mismatches: string[]; detail: string }
  | { kind: 'ok'; archive: string; ageMinutes: number; manifest: Manifest; detail: string };

export interface Evidence {
  now: Date;
  /** Newest archive of the source environment (naming.newestArchive), if any. */
  newest?: ArchiveName;
  /** Age limit from the schedule: freshness.staleAfterMinutes. */
  staleAfterMinutes: number;
  /** `borg check` of that archive: exit code and its last output line. */
  check?: { code: number; output: string };
  /** The archive's manifest, as extracted and parsed. */
  manifest?: ManifestParse;
  /** What the trial restore into the scratch database saw. */
  observed?: Observed;
}

const minutesBetween = (a: Date, b: Date) => Math.floor((a.getTime() - b.getTime()) / 60_000);

export function judge(e: Evidence): Verdict {
  if (!e.newest) return { kind: 'missing', detail: 'no archive of the source environment in the repository' };
  const archive = e.newest.name;
  const ageMinutes = minutesBetween(e.now, e.newest.time);
  if (ageMinutes > e.staleAfterMinutes) {
    return {
      kind: 'stale',
      archive,
      ageMinutes,
      limitMinutes: e.staleAfterMinutes,
      detail: `the newest archive ${archive} is ${ageMinutes} minutes old; the schedule allows ${e.staleAfterMinutes}`,
    };
  }
  if (!e.check) return { kind: 'corrupt', archive, ageMinutes, detail: 'borg check did not run' };
  if (e.check.code !== 0) {
    return {
      kind: 'corrupt',
      archive,
      ageMinutes,
      detail: `borg check exited ${e.check.code}: ${e.check.output.trim() || '(no output)'}`,
    };
  }
  if (!e.manifest) return { kind: 'corrupt', archive, ageMinutes, detail: 'the archive has no manifest' };
  if (!e.manifest.ok) return { kind: 'corrupt', archive, ageMinutes, detail: e.manifest.problem };
  const m = e.manifest.manifest;
  if (m.archive !== archive) {
    return {
      kind: 'corrupt',
      archive,
      ageMinutes,
      detail: `the manifest belongs to ${m.archive}, not to ${archive}`,
    };
  }
  if (!e.observed) return { kind: 'corrupt', archive, ageMinutes, detail: 'the trial restore did not run' };
  const mismatches = compareWithManifest(m, e.observed);
  if (mismatches.length) {
    return { kind: 'counts-mismatch', archive, ageMinutes, mismatches, detail: mismatches.join('; ') };
  }
  return { kind: 'ok', archive, ageMinutes, manifest: m, detail: `${archive} verified` };
}

/** The one gate in front of staging's data. */
export const maySwapIn = (v: Verdict): v is Extract<Verdict, { kind: 'ok' }> => v.kind === 'ok';
