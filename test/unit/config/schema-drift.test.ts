import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderJsonSchema, specJsonSchema } from '../../../src/config/json-schema.js';
import { validateSpecText } from '../../../src/config/load.js';
import { renderReference } from '../../../src/config/reference.js';
import { packagePath } from '../../../src/paths.js';

describe('generated artefacts match the code schema', () => {
  it('schema/crvs.schema.json is up to date (regenerate: crvs schema -o schema/crvs.schema.json)', () => {
    expect(readFileSync(packagePath('schema', 'crvs.schema.json'), 'utf8')).toBe(renderJsonSchema());
  });

  it('docs/spec-reference.md is up to date (regenerate: crvs schema --markdown -o docs/spec-reference.md)', () => {
    expect(readFileSync(packagePath('docs', 'spec-reference.md'), 'utf8')).toBe(renderReference());
  });
});

type Node = Record<string, unknown> & {
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
};

function undocumented(node: Node, path: string, out: string[]): string[] {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const p = `${path}.${key}`;
    if (!child.description) out.push(`${p}: description`);
    if (!Array.isArray(child.examples) || child.examples.length === 0) out.push(`${p}: example`);
    undocumented(child, p, out);
  }
  for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) undocumented(alt, path, out);
  if (node.items) undocumented(node.items, `${path}[]`, out);
  return out;
}

describe('every key is documented', () => {
  it('has a description and an example', () => {
    expect(undocumented(specJsonSchema() as Node, '', [])).toEqual([]);
  });

  it('rejects unknown keys everywhere (additionalProperties: false on every object)', () => {
    const open: string[] = [];
    const walk = (n: Node, p: string) => {
      if (n.type === 'object' && n.properties && n.additionalProperties !== false) open.push(p || '(root)');
      for (const [k, c] of Object.entries(n.properties ?? {})) walk(c, `${p}.${k}`);
      for (const alt of [...(n.anyOf ?? []), ...(n.oneOf ?? [])]) walk(alt, p);
      if (n.items) walk(n.items, `${p}[]`);
    };
    walk(specJsonSchema() as Node, '');
    expect(open).toEqual([]);
  });
});

describe('shipped examples', () => {
  const dirs = readdirSync(packagePath('examples')).filter((d) =>
    existsSync(packagePath('examples', d, 'crvs.yaml')),
  );

  it('include poc, pilot and national', () => {
    expect(dirs).toEqual(expect.arrayContaining(['poc', 'pilot', 'national']));
  });

  it.each(dirs)('examples/%s/crvs.yaml is valid and warning-free', (dir) => {
    const file = packagePath('examples', dir, 'crvs.yaml');
    const result = validateSpecText(readFileSync(file, 'utf8'), file);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
