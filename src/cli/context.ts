import { colorWanted, createOutput, type Output } from '../report/output.js';

/** What a command may touch: injected so that tests run commands in-process with captured output. */
export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when a person can answer prompts (stdin and stdout are terminals, not CI). */
  interactive: boolean;
  colorStream: { isTTY?: boolean };
}

export interface CliContext {
  io: CliIO;
  verbose: boolean;
  output(options?: { json?: boolean }): Output;
}

export function defaultIO(): CliIO {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI,
    colorStream: process.stdout,
  };
}

export function makeContext(io: CliIO, flags: { verbose: boolean; color: boolean }): CliContext {
  const color = flags.color && colorWanted(io.colorStream, io.env);
  return {
    io,
    verbose: flags.verbose,
    output: (o = {}) =>
      createOutput({
        json: o.json ?? false,
        color,
        verbose: flags.verbose,
        stdout: io.stdout,
        stderr: io.stderr,
      }),
  };
}

/** Commander help "Examples:" block. */
export function examples(...lines: [string, string][]): string {
  const width = Math.max(...lines.map(([cmd]) => cmd.length));
  return `\nExamples:\n${lines.map(([cmd, what]) => `  $ ${cmd.padEnd(width)}  # ${what}`).join('\n')}\n`;
}
