import { readFileSync } from 'node:fs';
import { validateSpecText } from '../../../src/config/load.js';
import type { Spec } from '../../../src/config/schema.js';

/** A spec from a file, validated; a test fails loudly on an invalid one. */
export function specFrom(file: string): Spec {
  const r = validateSpecText(readFileSync(file, 'utf8'), file);
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.problems)}`);
  return r.spec;
}

/** One of the shipped examples: lab, poc, pilot or national. */
export const exampleSpec = (name: 'lab' | 'poc' | 'pilot' | 'national') =>
  specFrom(`examples/${name}/crvs.yaml`);
export const labExample = () => exampleSpec('lab');
