import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { SpecInvalidError, type SpecProblem, UsageError } from '../errors.js';
import { knownKeys } from './json-schema.js';
import { schemaProblems } from './messages.js';
import { formatPath, locate } from './positions.js';
import { runRules } from './rules.js';
import { type Spec, specSchema } from './schema.js';

export interface LoadedSpec {
  spec: Spec;
  file: string;
  warnings: SpecProblem[];
}

export type ValidationResult =
  | { ok: true; spec: Spec; problems: SpecProblem[] }
  | { ok: false; problems: SpecProblem[] };

/**
 * Validate spec text in stages: YAML syntax, then structure (schema; unknown keys rejected), then the named
 * cross-field rules. Every problem of the failing stage is reported, each with line and column. Pure.
 */
export function validateSpecText(text: string, file = 'crvs.yaml'): ValidationResult {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const { line, col } = counter.linePos(e.pos[0]);
        return {
          severity: 'error',
          rule: 'yaml',
          path: '(yaml)',
          message: e.message.split('\n')[0] ?? e.message,
          file,
          line,
          column: col,
        };
      }),
    };
  }
  const data: unknown = doc.toJS() ?? {};
  const parsed = specSchema.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      problems: sortProblems(
        schemaProblems(parsed.error.issues, knownKeys, data).map((p) => {
          const pos = locate(doc, counter, p.path, { key: p.atKey ?? false });
          return {
            severity: 'error',
            rule: 'schema',
            path: formatPath(p.path),
            message: p.message,
            ...(p.hint ? { hint: p.hint } : {}),
            file,
            ...pos,
          };
        }),
      ),
    };
  }
  const problems: SpecProblem[] = sortProblems(
    runRules(parsed.data).map((p) => ({
      severity: p.severity,
      rule: p.rule,
      path: formatPath(p.path),
      message: p.message,
      ...(p.hint ? { hint: p.hint } : {}),
      file,
      ...locate(doc, counter, p.path),
    })),
  );
  if (problems.some((p) => p.severity === 'error')) return { ok: false, problems };
  return { ok: true, spec: parsed.data, problems };
}

function sortProblems(problems: SpecProblem[]): SpecProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Read and validate a spec file; throws SpecInvalidError (exit 2) with every problem. */
export async function loadSpec(file: string): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `spec file not found: ${file}` : `cannot read ${file}: ${(e as Error).message}`,
      code === 'ENOENT' ? 'create one with crvs init, or pass --spec PATH' : undefined,
    );
  }
  const result = validateSpecText(text, file);
  if (!result.ok) throw new SpecInvalidError(result.problems, file);
  return { spec: result.spec, file, warnings: result.problems };
}

/** `file:line:column  path  message` (+ hint on the next line). */
export function formatProblem(p: SpecProblem): string {
  const where = `${p.file ?? ''}:${p.line ?? 1}:${p.column ?? 1}`;
  const head = `${where}  ${p.path}  ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
  return p.hint ? `${head}\n    hint: ${p.hint}` : head;
}
