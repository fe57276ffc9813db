import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { CrvsError } from '../errors.js';
import { type CliContext, examples } from './context.js';
import { SPEC_FLAG, SPEC_HELP, specPath } from './spec-option.js';

export type FileStatus = 'created' | 'updated' | 'unchanged';

interface GenerateFlags {
  spec?: string;
  outputDir?: string;
  check?: boolean;
  json?: boolean;
}

export function registerCi(program: Command, ctx: CliContext): void {
  const ci = program.command('ci').description('GitHub Actions workflows that run crvs.');
  ci.command('generate')
    .description(
      'Write the provision, deploy, seed and reset workflows for the spec (idempotent); --check reports drift.',
    )
    .option(SPEC_FLAG, SPEC_HELP)
    .option(
      '-o, --output-dir <dir>',
      'where the workflow files go (default: .github/workflows next to the spec)',
    )
    .option('--check', 'write nothing; exit 1 when a file is missing or differs from what would be generated')
    .option('--json', 'print the files and their status as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs ci generate', 'write .github/workflows/crvs-*.yml'],
        ['crvs ci generate --check', 'in CI: fail when the workflows are out of date'],
      ),
    )
    .action(async (o: GenerateFlags) => {
      const { loadSpec } = await import('../config/load.js');
      const { ciWorkflows, WORKFLOW_DIR } = await import('../ci/workflows.js');
      const { selfSource } = await import('../ci/self-source.js');
      const out = ctx.output({ json: o.json ?? false });
      const specFile = specPath(ctx.io, o.spec);
      const { spec } = await loadSpec(specFile);
      const outputDir = o.outputDir
        ? resolve(ctx.io.cwd, o.outputDir)
        : join(dirname(specFile), ...WORKFLOW_DIR.split('/'));
      const crvs = spec.ci?.crvs ?? (await selfSource(ctx.effects(out).exec));
      const files = ciWorkflows(spec, {
        crvs,
        specPath: specInRepository(specFile, outputDir),
      });
      const results: { path: string; status: FileStatus }[] = [];
      for (const file of files) {
        const target = join(outputDir, basename(file.path));
        const current = await readFile(target, 'utf8').catch(() => undefined);
        const status: FileStatus =
          current === undefined ? 'created' : current === file.content ? 'unchanged' : 'updated';
        if (status !== 'unchanged' && !o.check) {
          await mkdir(outputDir, { recursive: true });
          await writeFile(target, file.content);
        }
        results.push({ path: shown(ctx.io.cwd, target), status });
      }
      const stale = results.filter((r) => r.status !== 'unchanged');
      if (o.json) out.out(JSON.stringify({ outputDir, check: Boolean(o.check), files: results }, null, 2));
      else
        for (const r of results) {
          const word = o.check
            ? { created: 'missing', updated: 'differs', unchanged: 'unchanged' }
            : undefined;
          out.out(`${(word ? word[r.status] : r.status).padEnd(9)}  ${r.path}`);
        }
      if (o.check && stale.length)
        throw new CrvsError(
          'E_CI_DRIFT',
          `${stale.length} workflow file${stale.length === 1 ? ' is' : 's are'} out of date: ${stale.map((r) => r.path).join(', ')}`,
          { hint: 'run crvs ci generate and commit the result' },
        );
    });
}

/**
 * crvs.yaml as the workflows see it: relative to the repository root, which is two levels above the output
 * directory when that is a `.github/workflows` directory, else the directory of the spec.
 */
function specInRepository(specFile: string, outputDir: string): string {
  const root = outputDir.endsWith(join('.github', 'workflows'))
    ? resolve(outputDir, '..', '..')
    : dirname(specFile);
  const rel = relative(root, specFile);
  return rel.startsWith('..') || isAbsolute(rel) ? basename(specFile) : rel.split(sep).join('/');
}

function shown(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}
