// `crvs deploy log` and `crvs deploy unlock`: read the manager's audit log; break a stale deploy lock, on record.
import { type AuditEntry, auditTrail, parseAudit, readAudit } from '../deploy/audit.js';
import { releaseLock } from '../deploy/lock.js';
import type { Effects, EnvironmentContext } from './context.js';

export async function auditLog(fx: Effects, c: EnvironmentContext, lines: number): Promise<AuditEntry[]> {
  return parseAudit((await fx.exec.run(readAudit(c.manager, lines))).stdout);
}

export async function breakLock(fx: Effects, c: EnvironmentContext): Promise<void> {
  await fx.exec.run(releaseLock(c.manager));
  await auditTrail(fx.exec, c.manager, { actor: fx.actor, action: 'lock-broken', now: fx.now })('succeeded');
}
