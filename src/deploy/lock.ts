// The deploy lock, a lease: a directory on the manager holding who took it (holder.json). The holder renews the
// lease while it works (touching holder.json); a lock whose holder stopped renewing (a killed run, a cancelled CI
// job) is taken over once the lease has run out, and the taker is told whose run it was. Every step runs under
// flock(1) on the manager, so two deploys never both take it, and ages are measured by the manager's clock alone:
// the clocks of the machines crvs runs on do not matter.
import type { CommandSpec } from '../remote/executor.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { cmd, or, sudo } from '../remote/shell.js';

export const STATE_DIR = '/var/lib/crvs';
export const lockDir = (environment: string) => `${STATE_DIR}/locks/deploy-${environment}`;

/** How long a lock outlives its holder's last renewal; CRVS_DEPLOY_LEASE_SECONDS overrides it. */
export const DEFAULT_LEASE_SECONDS = 180;

export interface LockHolder {
  who: string;
  host: string;
  since: string;
  action: string;
  /** Which run holds it (random, not secret): only that run renews or releases it. */
  id?: string;
  leaseSeconds?: number;
}

/** The lease length from the environment, or the default; a bad value is the caller's error to report. */
export function leaseSeconds(env: Readonly<Record<string, string | undefined>>): number {
  const text = env.CRVS_DEPLOY_LEASE_SECONDS;
  if (text === undefined || text === '') return DEFAULT_LEASE_SECONDS;
  if (!/^\d+$/.test(text) || Number(text) < 10 || Number(text) > 86_400)
    throw new Error(
      `CRVS_DEPLOY_LEASE_SECONDS must be a whole number of seconds from 10 to 86400, not ${text}`,
    );
  return Number(text);
}

// One POSIX sh program per step, run as root under flock; the arguments are the lock directory and the rest.
// `age` is the seconds since the holder last renewed (holder.json's modification time).
const AGE = 'age=$(( $(date +%s) - $(stat -c %Y "$1/holder.json" 2>/dev/null || stat -c %Y "$1") ))';
const ACQUIRE = [
  'set -e',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'mkdir -p "${1%/*}"',
  'exec 9>"$1.flock"',
  'flock -w 60 9',
  'if mkdir "$1" 2>/dev/null; then cat > "$1/holder.json"; echo acquired; exit 0; fi',
  AGE,
  // The holder's own lease (it renews at its pace); the taker's for a holder that did not say.
  'lease=$(sed -n \'s/.*"leaseSeconds":\\([0-9][0-9]*\\).*/\\1/p\' "$1/holder.json" 2>/dev/null || true)',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'if [ "$age" -lt "${lease:-$2}" ]; then echo "held $age"; cat "$1/holder.json" 2>/dev/null || true; exit 0; fi',
  'echo "taken-over $age"',
  'cat "$1/holder.json" 2>/dev/null || true',
  'rm -rf "$1"',
  'mkdir "$1"',
  'cat > "$1/holder.json"',
].join('\n');
const OURS = 'grep -qF "\\"id\\":\\"$2\\"" "$1/holder.json" 2>/dev/null';
const RENEW = [
  'exec 9>"$1.flock"',
  'flock -w 60 9',
  `if ${OURS}; then touch "$1/holder.json"; echo renewed; else echo lost; fi`,
].join('\n');
const RELEASE = [
  'exec 9>"$1.flock"',
  'flock -w 60 9',
  `if ${OURS}; then rm -rf "$1"; echo released; else echo 'not ours'; fi`,
].join('\n');

const asRoot = (script: string, ...args: string[]) => sudo('sh', '-c', script, 'crvs-lock', ...args);

/**
 * Prints `acquired`; or `held <age>` followed by the holder's JSON; or `taken-over <age>` followed by the JSON of
 * the holder whose lease ran out (the lock is then ours).
 */
export function acquireLock(m: RemoteHost, holder: LockHolder, lease: number): CommandSpec {
  return onHost(m, asRoot(ACQUIRE, lockDir(m.environment), String(lease)), {
    stdin: JSON.stringify(holder),
    description: `take the deploy lock of ${m.environment}`,
  });
}

export type LockAnswer =
  | { acquired: true; abandoned?: { holder?: LockHolder; ageSeconds: number } }
  | { acquired: false; holder?: LockHolder; ageSeconds?: number };

export function parseLockAnswer(stdout: string): LockAnswer {
  const [first = '', ...rest] = stdout.trim().split('\n');
  const [word, age] = first.split(' ');
  let holder: LockHolder | undefined;
  try {
    holder = rest.length ? (JSON.parse(rest.join('\n')) as LockHolder) : undefined;
  } catch {
    holder = undefined;
  }
  const ageSeconds = age !== undefined && /^-?\d+$/.test(age) ? Number(age) : undefined;
  if (word === 'acquired') return { acquired: true };
  if (word === 'taken-over')
    return { acquired: true, abandoned: { ...(holder ? { holder } : {}), ageSeconds: ageSeconds ?? 0 } };
  return {
    acquired: false,
    ...(holder ? { holder } : {}),
    ...(ageSeconds !== undefined ? { ageSeconds } : {}),
  };
}

/** Prints `renewed`, or `lost` when the lock is no longer this run's (taken over, or broken by an operator). */
export const renewLock = (m: RemoteHost, id: string): CommandSpec =>
  onHost(m, asRoot(RENEW, lockDir(m.environment), id), {
    description: `renew the deploy lock of ${m.environment}`,
    allowFailure: true,
  });

/** Releases the lock if it is still this run's; never someone else's that took it over. */
export const releaseLock = (m: RemoteHost, id: string): CommandSpec =>
  onHost(m, asRoot(RELEASE, lockDir(m.environment), id), {
    description: `release the deploy lock of ${m.environment}`,
  });

/** `crvs deploy unlock`: whoever holds it. */
export const breakLockCommand = (m: RemoteHost): CommandSpec =>
  onHost(m, or(sudo('rm', '-rf', lockDir(m.environment)), cmd('true')), {
    description: `break the deploy lock of ${m.environment}`,
  });

export const readLock = (m: RemoteHost): CommandSpec =>
  onHost(m, sudo('cat', `${lockDir(m.environment)}/holder.json`), {
    allowFailure: true,
    description: `read the deploy lock of ${m.environment}`,
  });
