import { spawn } from 'node:child_process';
import { assertNoSecretInArgv, childEnvironment } from './executor.js';

/** Hands the terminal to a child (e.g. an interactive ssh session) and resolves with its exit code. */
export function runInteractive(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  assertNoSecretInArgv(argv);
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env: childEnvironment(env) });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
