// Compose variable interpolation (`${NAME}`, `${NAME:-default}`, `${NAME-default}`; `$$` stays, see below), done
// by crvs instead of by the shell environment of whoever deploys: every variable the files use is resolved from
// the spec or the secrets store, and one that crvs does not know and has no default stops the render, as the
// reference's own check of required variables does. Pure.

/** What a variable stands for: a plain value, or a secret (its value never enters the document). */
export type Resolved = { value: string } | { secret: string };

export type Resolver = (name: string) => Resolved | undefined;

/** A secret's value inside a rendered string, until the overlay moves it to a Swarm secret. */
export const secretMark = (name: string) => `@@crvs-secret:${name}@@`;
export const SECRET_MARK = /@@crvs-secret:([A-Za-z0-9_.-]+)@@/g;
export const hasSecretMark = (s: string) => s.includes('@@crvs-secret:');
/** The secret a value is, when it is exactly one secret. */
export const wholeSecret = (s: string) => /^@@crvs-secret:([A-Za-z0-9_.-]+)@@$/.exec(s)?.[1];

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

export interface Interpolated<T> {
  value: T;
  /** Variables neither crvs nor the file can give a value. */
  unknown: string[];
}

export function interpolate<T>(
  doc: T,
  resolve: Resolver,
  literal: Record<string, string> = {},
): Interpolated<T> {
  const unknown = new Set<string>();
  const text = (s: string): string => {
    let out = s.replace(
      VARIABLE,
      (whole, name: string | undefined, op: string | undefined, fallback = '') => {
        // The rendered document is itself read by `docker stack deploy`, which unescapes `$$` again: keep it.
        if (whole === '$$') return whole;
        const r = resolve(name as string);
        if (r) return 'secret' in r ? secretMark(r.secret) : r.value;
        if (op === ':-' || op === '-') return fallback;
        unknown.add(name as string);
        return whole;
      },
    );
    for (const [k, v] of Object.entries(literal)) out = out.split(k).join(v);
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    return v;
  };
  return { value: walk(doc) as T, unknown: [...unknown].sort() };
}
