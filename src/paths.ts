import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json, ansible/, stacks/, examples/), from src/ or dist/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const packagePath = (...parts: string[]) => [PACKAGE_ROOT.replace(/\/$/, ''), ...parts].join('/');

/** A short sha256 of parts, separated so that ('ab','c') and ('a','bc') differ. */
export function hashOf(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** Hash of every file in a recipe folder (names and contents), in a stable order. */
export function folderDigest(dir: string): string {
  const files = readdirSync(dir).sort();
  return hashOf(...files.flatMap((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}
