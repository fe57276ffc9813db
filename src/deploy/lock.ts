// The deploy lock: an atomic `mkdir` on the manager. A second deploy sees the directory and is refused with
// who holds it; a stale lock is broken only on request.
import type { CommandSpec } from '../remote/executor.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { and, cmd, discardOutput, group, or, sudo } from '../remote/shell.js';

export const STATE_DIR = '/var/lib/crvs';
export const lockDir = (environment: string) => `${STATE_DIR}/locks/deploy-${environment}`;

export interface LockHolder {
  who: string;
  host: string;
  since: string;
  action: string;
}

/** Prints `acquired` or `held` followed by the holder's JSON. */
export function acquireLock(m: RemoteHost, holder: LockHolder): CommandSpec {
  const dir = lockDir(m.environment);
  const acquire = and(
    sudo('mkdir', '-p', `${STATE_DIR}/locks`),
    sudo('mkdir', dir),
    discardOutput(sudo('tee', `${dir}/holder.json`)),
    cmd('echo', 'acquired'),
  );
  const held = and(cmd('echo', 'held'), sudo('cat', `${dir}/holder.json`));
  return onHost(m, or(acquire, group(held)), {
    stdin: JSON.stringify(holder),
    description: `take the deploy lock of ${m.environment}`,
  });
}

export function parseLockAnswer(
  stdout: string,
): { acquired: true } | { acquired: false; holder?: LockHolder } {
  const [first, ...rest] = stdout.trim().split('\n');
  if (first === 'acquired') return { acquired: true };
  try {
    return { acquired: false, holder: JSON.parse(rest.join('\n')) as LockHolder };
  } catch {
    return { acquired: false };
  }
}

export const releaseLock = (m: RemoteHost): CommandSpec =>
  onHost(m, or(sudo('rm', '-rf', lockDir(m.environment)), cmd('true')), {
    description: `release the deploy lock of ${m.environment}`,
  });

export const readLock = (m: RemoteHost): CommandSpec =>
  onHost(m, sudo('cat', `${lockDir(m.environment)}/holder.json`), {
    allowFailure: true,
    description: `read the deploy lock of ${m.environment}`,
  });
