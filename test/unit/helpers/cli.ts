import type { CliIO } from '../../../src/cli/context.js';
import { runMain } from '../../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with captured output, no terminal and a scrubbed environment. */
export async function crvs(argv: string[], options: Partial<CliIO> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: { PATH: process.env.PATH ?? '' },
    cwd: process.cwd(),
    interactive: false,
    colorStream: {},
    ...options,
  };
  const code = await runMain(argv, io);
  return { code, stdout, stderr };
}

/** Every command path under crvs (`[]`, `['deploy']`, `['deploy', 'log']`...), read from the help's Commands list. */
export async function commandPaths(path: string[] = []): Promise<string[][]> {
  const help = (await crvs([...path, '--help'])).stdout;
  const listed = help.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  const names = [...listed.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((m) => m[1] as string)
    .filter((n) => n !== 'help');
  const below = await Promise.all(names.map((n) => commandPaths([...path, n])));
  return [path, ...below.flat()];
}
