import { hostname, userInfo } from 'node:os';
import type { ExitCode } from '../errors.js';
import { ProcessExecutor } from '../remote/executor.js';
import { colorWanted, createOutput, type Output, paint } from '../report/output.js';
import type { Effects } from '../usecases/context.js';

/**
 * Everything a command may take from the process: injected, so that tests run commands in-process with captured
 * output, a chosen environment, clock and standard input. Nothing else in src/ reads `process`.
 */
export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when a person can answer prompts (stdin and stdout are terminals, not CI). */
  interactive: boolean;
  colorStream: { isTTY?: boolean };
  /** All of standard input, when a command reads a value from it. */
  readStdin?: () => Promise<string>;
  /** The user id (0 is root); undefined where the platform has none. */
  uid?: number | undefined;
  now?: () => Date;
  /** The local account and machine, for the audit log when not on CI. */
  user?: string;
  hostname?: string;
}

export interface CliContext {
  io: CliIO;
  verbose: boolean;
  output(options?: { json?: boolean }): Output;
  /** The effects a use case gets: one executor (every command shown with --verbose), progress, clock, actor. */
  effects(out: Output, progress?: (line: string) => void): Effects;
  /** Runs another crvs command in this process (the demo's steps); exit code as the CLI would return it. */
  runCommand(argv: string[], io: CliIO): Promise<ExitCode>;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function defaultIO(): CliIO {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI,
    colorStream: process.stdout,
    readStdin: () => readAll(process.stdin),
    uid: process.getuid?.(),
    now: () => new Date(),
    user: userInfo().username,
    hostname: hostname(),
  };
}

export function makeContext(
  io: CliIO,
  flags: { verbose: boolean; color: boolean },
  runCommand: CliContext['runCommand'],
): CliContext {
  const color = flags.color && colorWanted(io.colorStream, io.env);
  const output = (o: { json?: boolean } = {}) =>
    createOutput({
      json: o.json ?? false,
      color,
      verbose: flags.verbose,
      stdout: io.stdout,
      stderr: io.stderr,
    });
  return {
    io,
    verbose: flags.verbose,
    output,
    runCommand,
    effects: (out, progress) => ({
      exec: new ProcessExecutor((e) => {
        if (flags.verbose && e.type === 'start') out.err(paint(out, 'dim', `$ ${e.command.argv.join(' ')}`));
      }, io.env),
      progress: progress ?? ((line) => out.err(line)),
      now: io.now ?? (() => new Date()),
      actor: {
        who: io.env.GITHUB_ACTOR ?? io.user ?? 'unknown',
        from: io.env.GITHUB_ACTIONS ? 'github-actions' : (io.hostname ?? 'unknown'),
      },
      env: io.env,
    }),
  };
}

/** Commander help "Examples:" block. */
export function examples(...lines: [string, string][]): string {
  const width = Math.max(...lines.map(([cmd]) => cmd.length));
  return `\nExamples:\n${lines.map(([cmd, what]) => `  $ ${cmd.padEnd(width)}  # ${what}`).join('\n')}\n`;
}
