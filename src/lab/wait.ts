import { CrvsError } from '../errors.js';
import type { CommandSpec, Executor } from '../remote/executor.js';

export const sshProbe = (sshConfig: string, server: string): CommandSpec => ({
  argv: ['ssh', '-F', sshConfig, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', server, 'true'],
  allowFailure: true,
  description: `probe SSH on ${server}`,
  timeoutMs: 15_000,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the server accepts the lab key over SSH (sshd up, account delivered). */
export async function waitForSsh(
  exec: Executor,
  sshConfig: string,
  server: string,
  seconds = 90,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const r = await exec.run(sshProbe(sshConfig, server));
    if (r.code === 0) return;
    last = (r.stderr || r.stdout).trim();
    await sleep(1000);
  }
  throw new CrvsError('E_LAB_SSH', `${server} does not accept the lab key over SSH after ${seconds} s`, {
    hint: last ? `last answer: ${last}` : 'see: crvs lab status',
  });
}
