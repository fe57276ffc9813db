// The manifest each archive carries as its last file (`crvs-manifest.json`): what the backup saw while it
// streamed, so that a restore can prove it got all of it back. Builder, parser and verifier. Pure.
import { createHash } from 'node:crypto';

export const MANIFEST_FILE = 'crvs-manifest.json';

export interface StoreRecord {
  /** Source name, e.g. `postgres`. */
  name: string;
  /** File of the source inside the archive (streams) or its directory (trees). */
  path: string;
  /** Rows per table or documents per collection, as counted in the stream (empty when not countable). */
  records: Record<string, number>;
  bytes: number;
  /** sha256 of the stream as it went into the archive (streams only). */
  sha256?: string;
}

export interface Manifest {
  format: 1;
  environment: string;
  archive: string;
  release: string;
  /** UTC, ISO 8601: when the backup started. */
  startedAt: string;
  stores: StoreRecord[];
  attachments: { count: number; bytes: number; listSha256: string };
  totalBytes: number;
  /** Every source's producer exited 0; a manifest is written only then, so false never reaches an archive. */
  complete: true;
}

/**
 * Digest of an attachment list: sha256 of the relative paths, sorted by code unit, one per line, each line ended
 * by "\n". The backup runner and the restore compute it the same way (an empty list digests the empty string).
 */
export function attachmentListDigest(paths: string[]): string {
  const sorted = [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(sorted.map((p) => `${p}\n`).join(''))
    .digest('hex');
}

/** Canonical text: keys in a fixed order, two-space indent, final newline. */
export function renderManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

export type ManifestParse = { ok: true; manifest: Manifest } | { ok: false; problem: string };

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isDigest = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

export function parseManifest(text: string): ManifestParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `the manifest is not JSON: ${(e as Error).message}` };
  }
  const m = data as Partial<Manifest> | null;
  if (!m || typeof m !== 'object') return { ok: false, problem: 'the manifest is not an object' };
  if (m.format !== 1) return { ok: false, problem: `unknown manifest format ${JSON.stringify(m.format)}` };
  for (const key of ['environment', 'archive', 'release', 'startedAt'] as const) {
    if (typeof m[key] !== 'string' || !m[key]) return { ok: false, problem: `the manifest has no ${key}` };
  }
  if (Number.isNaN(new Date(m.startedAt as string).getTime()))
    return { ok: false, problem: `startedAt ${m.startedAt} is not a time` };
  if (m.complete !== true) return { ok: false, problem: 'the manifest does not say the backup was complete' };
  if (!Array.isArray(m.stores)) return { ok: false, problem: 'the manifest has no store list' };
  for (const s of m.stores) {
    if (typeof s?.name !== 'string' || typeof s.path !== 'string' || !isCount(s.bytes))
      return { ok: false, problem: `a store entry is malformed: ${JSON.stringify(s)}` };
    if (!s.records || typeof s.records !== 'object' || !Object.values(s.records).every(isCount))
      return { ok: false, problem: `store ${s.name} has malformed record counts` };
    if (s.sha256 !== undefined && !isDigest(s.sha256))
      return { ok: false, problem: `store ${s.name} has a malformed sha256` };
  }
  const a = m.attachments;
  if (!a || !isCount(a.count) || !isCount(a.bytes) || !isDigest(a.listSha256))
    return { ok: false, problem: 'the manifest has malformed attachment totals' };
  if (!isCount(m.totalBytes)) return { ok: false, problem: 'the manifest has no total size' };
  const sum = m.stores.reduce((n, s) => n + s.bytes, 0) + a.bytes;
  if (sum !== m.totalBytes)
    return { ok: false, problem: `totalBytes ${m.totalBytes} is not the sum of its parts (${sum})` };
  return { ok: true, manifest: m as Manifest };
}

/** What a restore saw, to compare with the manifest. Only the stores it could count are listed. */
export interface Observed {
  stores: { name: string; records?: Record<string, number>; bytes?: number; sha256?: string }[];
  attachments?: { count: number; listSha256: string };
}

/** Every difference between the manifest and what was restored, as sentences. Empty: they agree. */
export function compareWithManifest(m: Manifest, seen: Observed): string[] {
  const out: string[] = [];
  for (const store of m.stores) {
    const s = seen.stores.find((x) => x.name === store.name);
    if (!s) {
      out.push(`${store.name}: not restored`);
      continue;
    }
    if (s.sha256 !== undefined && store.sha256 !== undefined && s.sha256 !== store.sha256)
      out.push(`${store.name}: sha256 ${s.sha256} differs from the manifest's ${store.sha256}`);
    if (s.bytes !== undefined && s.bytes !== store.bytes)
      out.push(`${store.name}: ${s.bytes} bytes, the manifest says ${store.bytes}`);
    if (s.records) {
      const names = [...new Set([...Object.keys(store.records), ...Object.keys(s.records)])].sort();
      for (const t of names) {
        const want = store.records[t] ?? 0;
        const got = s.records[t] ?? 0;
        if (want !== got) out.push(`${store.name}.${t}: ${got} records, the manifest says ${want}`);
      }
    }
  }
  if (seen.attachments) {
    if (seen.attachments.count !== m.attachments.count)
      out.push(`attachments: ${seen.attachments.count} files, the manifest says ${m.attachments.count}`);
    else if (seen.attachments.listSha256 !== m.attachments.listSha256)
      out.push('attachments: the list of files differs from the manifest (same count, other names)');
  }
  return out;
}
