import type { z } from 'zod';
import type { PathSegment } from './positions.js';

export interface SchemaProblem {
  path: PathSegment[];
  message: string;
  hint?: string;
  /** Point at the key rather than the value (unknown keys). */
  atKey?: boolean;
}

/** Turn zod issues into plain problems with our own wording. Unknown keys become one problem each. */
export function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  knownKeys: (path: PathSegment[]) => string[],
  data: unknown,
): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is PathSegment => typeof p !== 'symbol');
    const value = valueAt(data, path);
    if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
      out.push({ path, message: 'is required' });
      continue;
    }
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const suggestion = closest(key, knownKeys(path));
          out.push({
            path: [...path, key],
            message: `unknown key "${key}"`,
            hint: suggestion
              ? `did you mean "${suggestion}"?`
              : `allowed keys here: ${knownKeys(path).join(', ') || '(none)'}`,
            atKey: true,
          });
        }
        break;
      case 'invalid_type':
        out.push({
          path,
          message: `must be ${article(issue.expected)}, not ${describe(value)}`,
        });
        break;
      case 'invalid_value':
        out.push({
          path,
          message:
            issue.values.length === 1
              ? `must be ${JSON.stringify(issue.values[0])}`
              : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        });
        break;
      case 'invalid_union': {
        const disc = (issue as { discriminator?: string }).discriminator;
        out.push(
          disc
            ? { path: [...path, disc], message: `"${disc}" must select one of the documented variants` }
            : { path, message: 'does not match any allowed form' },
        );
        break;
      }
      case 'too_small':
        out.push({
          path,
          message:
            issue.origin === 'array'
              ? `must have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
              : issue.origin === 'string'
                ? `must be at least ${issue.minimum} characters`
                : `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`,
        });
        break;
      case 'too_big':
        out.push({
          path,
          message:
            issue.origin === 'array'
              ? `must have at most ${issue.maximum} items`
              : `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`,
        });
        break;
      case 'invalid_format':
        out.push({
          path,
          message: issue.message.startsWith('Invalid') ? `must be a valid ${issue.format}` : issue.message,
        });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

function valueAt(data: unknown, path: PathSegment[]): unknown {
  let node = data;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

function article(word: string): string {
  if (word === 'int') return 'a whole number';
  if (word === 'array') return 'a list';
  if (word === 'object') return 'a mapping';
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Closest known key by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}
