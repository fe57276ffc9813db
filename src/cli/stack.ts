import type { Command } from 'commander';
import { type CliContext, examples } from './context.js';
import { type EnvironmentFlags, environmentContext, environmentOptions, specContext } from './environment.js';

export function registerStack(program: Command, ctx: CliContext): void {
  const stack = program
    .command('stack')
    .description("The OpenCRVS stack crvs renders from the reference's compose files.");
  environmentOptions(
    stack
      .command('render')
      .description(
        'Print the stack file deploy would deploy (secret names, never values); contacts no server.',
      )
      .argument('<environment>', 'environment')
      .option('--version <version>', 'core version to render (default: stack.version)')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText(
      'after',
      examples(
        ['crvs stack render production', 'what deploy would deploy'],
        ['crvs stack render qa --version v1.9.1 > next.yml', 'before an upgrade, to diff'],
      ),
    )
    .action(async (environment: string, o: EnvironmentFlags & { version?: string }) => {
      const { renderStack } = await import('../usecases/stack.js');
      const { c, fx, out } = await environmentContext(ctx, environment, o);
      const r = await renderStack(fx, c, o.version);
      if (!r.bound) out.err(`${environment} has no secrets store yet: secrets are named by key only`);
      out.out(o.json ? JSON.stringify(r, null, 2) : r.compose.trimEnd());
    });
  environmentOptions(
    stack
      .command('lock')
      .description(
        "Fetch opencrvs-core's compose files for a version and pin their sha256 in crvs.lock.json.",
      )
      .option('--version <version>', 'core version (default: stack.version)')
      .option('--update', 'replace a pin whose file changed upstream')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText(
      'after',
      examples(
        ['crvs stack lock', 'pin stack.version'],
        ['crvs stack lock --version v1.9.1', 'before an upgrade'],
      ),
    )
    .action(async (o: EnvironmentFlags & { version?: string; update?: boolean }) => {
      const { lockCore } = await import('../usecases/stack.js');
      const { s, out } = await specContext(ctx, o);
      const r = await lockCore(s, o.version ?? s.spec.stack.version, { update: o.update ?? false });
      out.out(
        o.json
          ? JSON.stringify(r, null, 2)
          : r.files
              .map((f) => `${f.name} ${r.version} sha256 ${f.sha256}${f.changed ? ' (written)' : ''}`)
              .join('\n'),
      );
    });
}
