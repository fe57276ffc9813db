import { z } from 'zod';
import type { PathSegment } from './positions.js';
import { specSchema } from './schema.js';

export const SCHEMA_ID = 'https://opencrvs.org/crvs-deploy/crvs.schema.json';

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  [k: string]: unknown;
};

let cached: JsonSchema | undefined;

/** The JSON Schema of crvs.yaml, generated from the code schema (input side: defaults are optional). */
export function specJsonSchema(): JsonSchema {
  cached ??= {
    ...(z.toJSONSchema(specSchema, { io: 'input', target: 'draft-2020-12' }) as JsonSchema),
    $id: SCHEMA_ID,
    title: 'crvs.yaml: an OpenCRVS server-hosted deployment',
  };
  return cached;
}

export function renderJsonSchema(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}

/** Keys allowed at a path (for "did you mean" hints). */
export function knownKeys(path: PathSegment[]): string[] {
  let nodes: JsonSchema[] = [specJsonSchema()];
  for (const seg of path) {
    nodes = nodes.flatMap(variants).flatMap((n) => {
      if (typeof seg === 'number') return n.items ? [n.items] : [];
      const p = n.properties?.[seg];
      if (p) return [p];
      return typeof n.additionalProperties === 'object' ? [n.additionalProperties] : [];
    });
  }
  return [...new Set(nodes.flatMap(variants).flatMap((n) => Object.keys(n.properties ?? {})))];
}

function variants(n: JsonSchema): JsonSchema[] {
  const alts = [...(n.anyOf ?? []), ...(n.oneOf ?? [])];
  return alts.length ? [n, ...alts.flatMap(variants)] : [n];
}
