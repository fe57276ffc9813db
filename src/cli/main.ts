import { Command, CommanderError } from 'commander';
import { CrvsError, type ExitCode, SpecInvalidError } from '../errors.js';
import { paint } from '../report/output.js';
import { type CliContext, type CliIO, defaultIO, examples, makeContext } from './context.js';
import { checkCommandPath, commandWord } from './unknown-command.js';
import { VERSION } from './version.js';

export type Register = (program: Command, ctx: CliContext) => void;

/**
 * The commands in the order `crvs --help` lists them, each declared by its own module. When argv names one, only
 * its module is imported; otherwise (`crvs --help`, a word that is no command) all of them. Their actions import
 * what they run, so neither loads a use case (bench/help.mjs measures it).
 */
const COMMANDS: { name: string; load: () => Promise<Register> }[] = [
  { name: 'demo', load: async () => (await import('./demo.js')).registerDemo },
  { name: 'init', load: async () => (await import('./init.js')).registerInit },
  { name: 'validate', load: async () => (await import('./validate.js')).registerValidate },
  { name: 'plan', load: async () => (await import('./plan.js')).registerPlan },
  { name: 'schema', load: async () => (await import('./schema.js')).registerSchema },
  { name: 'lab', load: async () => (await import('./lab.js')).registerLab },
  { name: 'provision', load: async () => (await import('./provision.js')).registerProvision },
  { name: 'deploy', load: async () => (await import('./deploy.js')).registerDeploy },
  { name: 'stack', load: async () => (await import('./stack.js')).registerStack },
  { name: 'rollback', load: async () => (await import('./rollback.js')).registerRollback },
  { name: 'seed', load: async () => (await import('./seed.js')).registerSeed },
  { name: 'reset', load: async () => (await import('./reset.js')).registerReset },
  { name: 'backup', load: async () => (await import('./backup.js')).registerBackup },
  { name: 'restore', load: async () => (await import('./restore.js')).registerRestore },
  { name: 'dns', load: async () => (await import('./dns.js')).registerDns },
  { name: 'hostkeys', load: async () => (await import('./hostkeys.js')).registerHostkeys },
  { name: 'volume', load: async () => (await import('./volume.js')).registerVolume },
  { name: 'doctor', load: async () => (await import('./doctor.js')).registerDoctor },
  { name: 'secrets', load: async () => (await import('./secrets.js')).registerSecrets },
  { name: 'ci', load: async () => (await import('./ci.js')).registerCi },
  { name: 'github', load: async () => (await import('./github.js')).registerGithub },
];

export async function buildProgram(ctx: CliContext, argv: string[] = []): Promise<Command> {
  const word = commandWord(argv);
  const named = COMMANDS.filter((c) => c.name === word);
  const registers = await Promise.all((named.length ? named : COMMANDS).map((c) => c.load()));
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
  for (const register of registers) register(program, ctx);
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
    const program = await buildProgram(ctx, argv);
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
