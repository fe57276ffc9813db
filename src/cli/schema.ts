import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type CliContext, examples } from './context.js';

export function registerSchema(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description('Print the JSON Schema of crvs.yaml (for editors), or its reference documentation.')
    .option('--markdown', 'print the reference documentation instead')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addHelpText(
      'after',
      examples(
        ['crvs schema -o crvs.schema.json', 'schema for yaml-language-server'],
        ['crvs schema --markdown', 'every key with description, default and example'],
      ),
    )
    .action(async (opts: { markdown?: boolean; output?: string }) => {
      const text = opts.markdown
        ? (await import('../config/reference.js')).renderReference()
        : (await import('../config/json-schema.js')).renderJsonSchema();
      if (opts.output) await writeFile(resolve(ctx.io.cwd, opts.output), text);
      else ctx.io.stdout(text);
    });
}
