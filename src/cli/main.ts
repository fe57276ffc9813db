import { Command, CommanderError } from 'commander';
import { CrvsError, type ExitCode, SpecInvalidError } from '../errors.js';
import { paint } from '../report/output.js';
import { registerCi } from './ci.js';
import { type CliContext, type CliIO, defaultIO, examples, makeContext } from './context.js';
import { registerDemo } from './demo.js';
import { registerDeploy } from './deploy.js';
import { registerGithub } from './github.js';
import { registerInit } from './init.js';
import { registerLab } from './lab.js';
import { registerPlan } from './plan.js';
import { registerProvision } from './provision.js';
import { registerReset } from './reset.js';
import { registerRollback } from './rollback.js';
import { registerSchema } from './schema.js';
import { registerSecrets } from './secrets.js';
import { registerSeed } from './seed.js';
import { registerStack } from './stack.js';
import { checkCommandPath } from './unknown-command.js';
import { registerValidate } from './validate.js';
import { VERSION } from './version.js';

export type Register = (program: Command, ctx: CliContext) => void;

const COMMANDS: Register[] = [
  registerDemo,
  registerInit,
  registerValidate,
  registerPlan,
  registerSchema,
  registerLab,
  registerProvision,
  registerDeploy,
  registerStack,
  registerRollback,
  registerSeed,
  registerReset,
  registerSecrets,
  registerCi,
  registerGithub,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('crvs')
    .description('Set up and run the server-hosted environments of OpenCRVS.')
    .version(VERSION, '-V, --version')
    .option('--verbose', 'show stack traces and every command run')
    .option('--no-color', 'disable colours (also: NO_COLOR=1, or when output is not a terminal)')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      examples(
        [
          'crvs init --phase pilot --country FAR --domain farajaland.gov.example',
          'write a starter crvs.yaml',
        ],
        ['crvs validate', 'check crvs.yaml, every problem with its line'],
        ['crvs plan --population 30000000', 'size servers and disks for 30M people'],
      ),
    );
  program.exitOverride();
  program.configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr });
  for (const register of COMMANDS) register(program, ctx);
  // Options after a subcommand belong to it (`crvs deploy qa --version v2` is the release, not crvs's version);
  // the global flags are accepted everywhere all the same.
  program.enablePositionalOptions();
  const configure = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride();
      sub.configureOutput({ writeOut: ctx.io.stdout, writeErr: ctx.io.stderr });
      sub.option('--verbose', 'show stack traces and every command run');
      sub.option('--no-color', 'disable colours');
      if (sub.commands.length) sub.enablePositionalOptions();
      configure(sub);
    }
  };
  configure(program);
  return program;
}

/** The one place that turns errors into messages and exit codes: 0 ok, 1 failed, 2 bad input or usage. */
export async function runMain(argv: string[], io: CliIO = defaultIO()): Promise<ExitCode> {
  const verbose = argv.includes('--verbose');
  const ctx = makeContext(io, { verbose, color: !argv.includes('--no-color') }, runMain);
  const out = ctx.output();
  try {
    const program = buildProgram(ctx);
    checkCommandPath(program, argv);
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0)
        return 0;
      if (e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof SpecInvalidError) {
      // Already loaded: only config/load.js throws this error.
      const { formatProblem } = await import('../config/load.js');
      for (const p of e.problems) out.err(formatProblem(p));
      out.err(paint(out, 'red', `error: ${e.message}`));
      return 2;
    }
    if (e instanceof CrvsError) {
      out.err(paint(out, 'red', `error [${e.code}]: ${e.message}`));
      if (e.hint) out.err(`hint: ${e.hint}`);
      if (verbose && e.stack) out.err(e.stack);
      return e.exitCode;
    }
    out.err(paint(out, 'red', `internal error: ${(e as Error).message ?? String(e)}`));
    out.err(verbose ? String((e as Error).stack) : 'run again with --verbose for the stack trace');
    return 1;
  }
}
