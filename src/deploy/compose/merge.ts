// Merging compose files as `docker compose -f a -f b` and `docker stack deploy -c a -c b` do, following the
// Compose Specification's merge rules (compose-spec, "Merge and override"), for the keys OpenCRVS's files use:
// - mappings merge key by key, recursively; a scalar in a later file replaces the earlier one;
// - `environment`, `labels` (service and deploy), `extra_hosts` and `sysctls` merge by key, whether a file writes
//   them as a list of KEY=value or as a mapping (both become a mapping);
// - `command`, `entrypoint` and `healthcheck.test` are replaced whole;
// - `ports` merge by target/published/protocol, `volumes` by container path, `secrets` and `configs` by target
//   (or source when there is no target); any other list is concatenated without duplicates.
// Pure: takes parsed documents, returns a new one.

export type Doc = Record<string, unknown>;

const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

const BY_KEY = new Set(['environment', 'labels', 'extra_hosts', 'sysctls']);
const REPLACED = new Set(['command', 'entrypoint', 'test']);

/** `KEY=value` lists and mappings both become a mapping of strings (a bare `KEY` maps to null: unset). */
export function keyed(v: unknown): Record<string, string | null> {
  if (Array.isArray(v))
    return Object.fromEntries(
      v.map((item) => {
        const s = String(item);
        const i = s.indexOf('=');
        return i < 0 ? [s, null] : [s.slice(0, i), s.slice(i + 1)];
      }),
    );
  if (isMap(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? null : String(x)]));
  return {};
}

function identity(key: string, item: unknown): string {
  if (key === 'volumes') {
    if (typeof item === 'string') return item.split(':')[1] ?? item;
    if (isMap(item)) return String(item.target);
  }
  if ((key === 'secrets' || key === 'configs') && isMap(item)) return String(item.target ?? item.source);
  if (key === 'ports' && isMap(item)) return `${item.target}/${item.published}/${item.protocol ?? 'tcp'}`;
  return JSON.stringify(item);
}

function mergeList(key: string, base: unknown[], over: unknown[]): unknown[] {
  const out = new Map<string, unknown>();
  for (const item of [...base, ...over]) out.set(identity(key, item), item);
  return [...out.values()];
}

function mergeValue(key: string, base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (BY_KEY.has(key) && (Array.isArray(over) || isMap(over))) return { ...keyed(base), ...keyed(over) };
  if (REPLACED.has(key)) return over;
  if (Array.isArray(base) && Array.isArray(over)) return mergeList(key, base, over);
  if (isMap(base) && isMap(over)) return mergeMaps(base, over);
  return over;
}

function mergeMaps(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValue(k, base[k], v);
  return out;
}

/** The documents merged in order: each later one overrides the earlier ones. */
export function mergeCompose(docs: Doc[]): Doc {
  return docs.reduce<Doc>((acc, d) => mergeMaps(acc, d), {});
}
