// The deploy lock: an atomic `mkdir` on the manager. A second deploy sees the directory and is refused with
// who holds it; a stale lock is broken only on request.
import { chain, either, shellLine } from '../remote/combinators.js';
import type { CommandSpec } from '../remote/executor.js';
import { type Manager, onManager } from './remote.js';

export const STATE_DIR = '/var/lib/crvs';
export const lockDir = (environment: string) => `${STATE_DIR}/locks/deploy-${environment}`;

export interface LockHolder {
  who: string;
  host: string;
  since: string;
  action: string;
}

/** Prints `acquired` or `held` followed by the holder's JSON. */
export function acquireLock(m: Manager, holder: LockHolder): CommandSpec {
  const dir = lockDir(m.environment);
  const acquire = chain(
    ['sudo', '-n', 'mkdir', '-p', `${STATE_DIR}/locks`],
    ['sudo', '-n', 'mkdir', dir],
    ['sudo', '-n', 'sh', '-c', `cat > ${dir}/holder.json`],
    ['echo', 'acquired'],
  );
  const held = chain(['echo', 'held'], ['sudo', '-n', 'cat', `${dir}/holder.json`]);
  return onManager(m, `${acquire} || { ${held}; }`, {
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

export const releaseLock = (m: Manager): CommandSpec =>
  onManager(m, either(['sudo', '-n', 'rm', '-rf', lockDir(m.environment)], ['true']), {
    description: `release the deploy lock of ${m.environment}`,
  });

export const readLock = (m: Manager): CommandSpec =>
  onManager(m, shellLine(['sudo', '-n', 'cat', `${lockDir(m.environment)}/holder.json`]), {
    allowFailure: true,
    description: `read the deploy lock of ${m.environment}`,
  });
