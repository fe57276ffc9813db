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
