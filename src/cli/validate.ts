import { relative } from 'node:path';
import type { Command } from 'commander';
import { paint } from '../report/output.js';
import { type CliContext, examples } from './context.js';
import { specPath } from './spec-option.js';

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description(
      'Check a spec: structure, then cross-field rules; report every problem with file:line:column.',
    )
    .argument('[file]', 'spec to check (default: $CRVS_SPEC or ./crvs.yaml)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples(
        ['crvs validate', 'check ./crvs.yaml'],
        ['crvs validate examples/pilot/crvs.yaml --json', 'machine-readable result'],
      ),
    )
    .action(async (file: string | undefined, opts: { json?: boolean }) => {
      const { formatProblem, loadSpec } = await import('../config/load.js');
      const out = ctx.output({ json: opts.json ?? false });
      const path = specPath(ctx.io, file);
      const shown = relative(ctx.io.cwd, path) || path;
      const { spec, warnings } = await loadSpec(path).catch((e: unknown) => {
        if (opts.json && e instanceof Error && 'problems' in e) {
          out.out(
            JSON.stringify(
              { valid: false, file: shown, problems: (e as { problems: unknown }).problems },
              null,
              2,
            ),
          );
        }
        throw e;
      });
      if (opts.json) {
        out.out(
          JSON.stringify({ valid: true, file: shown, country: spec.country, problems: warnings }, null, 2),
        );
        return;
      }
      for (const w of warnings) out.err(paint(out, 'yellow', formatProblem({ ...w, file: shown })));
      const envs = Object.entries(spec.environments)
        .filter(([, e]) => e)
        .map(([k, e]) => `${k} x${e?.servers.length}`)
        .join(', ');
      out.out(
        `${paint(out, 'green', 'valid')}: ${shown} (${spec.country}, ${spec.domain}; ${envs})${warnings.length ? `, ${warnings.length} warning(s)` : ''}`,
      );
    });
}
