// `crvs deploy log`, `history` and `unlock`: read the manager's audit log and kept releases; break a stale deploy
// lock, on record.
import { type AuditEntry, auditTrail, parseAudit, readAudit } from '../deploy/audit.js';
import { breakLockCommand } from '../deploy/lock.js';
import type { Effects, EnvironmentContext } from './context.js';
import { currentRelease } from './release.js';

export async function auditLog(fx: Effects, c: EnvironmentContext, lines: number): Promise<AuditEntry[]> {
  return parseAudit((await fx.exec.run(readAudit(c.manager, lines))).stdout);
}

export async function breakLock(fx: Effects, c: EnvironmentContext): Promise<void> {
  await fx.exec.run(breakLockCommand(c.manager));
  await auditTrail(fx.exec, c.manager, { actor: fx.actor, action: 'lock-broken', now: fx.now })('succeeded');
}

export interface ReleaseHistory {
  running?: string;
  /** Releases kept on the manager, oldest first: each can be rolled back to. */
  kept: string[];
}

/** What runs on the environment and which releases its manager keeps. */
export async function releaseHistory(fx: Effects, c: EnvironmentContext): Promise<ReleaseHistory> {
  const release = await currentRelease(fx, c.manager);
  return { ...(release.version ? { running: release.version } : {}), kept: release.history ?? [] };
}
