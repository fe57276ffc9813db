import { connect } from 'node:net';
import { CrvsError } from '../errors.js';
import type { CommandSpec, Executor } from '../remote/executor.js';

export const sshProbe = (sshConfig: string, server: string): CommandSpec => ({
  argv: ['ssh', '-F', sshConfig, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', server, 'true'],
  allowFailure: true,
  description: `probe SSH on ${server}`,
  timeoutMs: 15_000,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Is something listening on address:port? One short TCP connect to a lab container, nothing else. */
export function tcpOpen(address: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * Waits until sshd listens. Used for servers handed over earlier: once provisioned they no longer accept the
 * delivered account, so a login is not the test of being up.
 */
export async function waitForPort(address: string, port: number, what: string, seconds = 90): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await tcpOpen(address, port)) return;
    await sleep(1000);
  }
  throw new CrvsError('E_LAB_SSH', `${what} does not listen on ${address}:${port} after ${seconds} s`, {
    hint:
      'see: crvs lab status. A provisioned server also refuses this host for an hour after repeated failed ' +
      'logins (fail2ban); lift that from inside: docker exec <container> fail2ban-client unban --all',
  });
}

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
