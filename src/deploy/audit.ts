// The append-only audit log on the manager: one JSON object per line (who, when, from where, which versions,
// what happened). Appending goes through `tee -a`; the file is made append-only (chattr +a) where the
// file system allows it, so an entry cannot be rewritten without root removing the flag first.
import { chain, shellLine } from '../remote/combinators.js';
import type { CommandSpec } from '../remote/executor.js';
import { STATE_DIR } from './lock.js';
import { type Manager, onManager } from './remote.js';

export const AUDIT_LOG = `${STATE_DIR}/audit.log`;

export interface AuditEntry {
  at: string;
  environment: string;
  action: 'deploy' | 'rollback' | 'seed' | 'reset' | 'lock-broken';
  who: string;
  from: string;
  version?: string;
  previousVersion?: string;
  result: 'started' | 'succeeded' | 'failed' | 'rolled-back' | 'refused';
  detail?: string;
}

export function appendAudit(m: Manager, entry: AuditEntry): CommandSpec {
  const line = chain(['sudo', '-n', 'mkdir', '-p', STATE_DIR], ['sudo', '-n', 'touch', AUDIT_LOG]);
  const append = `${line} && { sudo -n chattr +a ${AUDIT_LOG} 2>/dev/null || true; } && ${shellLine(['sudo', '-n', 'tee', '-a', AUDIT_LOG])} >/dev/null`;
  return onManager(m, append, {
    stdin: `${JSON.stringify(entry)}\n`,
    description: `audit: ${entry.action} ${entry.result}`,
  });
}

export const readAudit = (m: Manager, lines = 50): CommandSpec =>
  onManager(m, `${shellLine(['sudo', '-n', 'tail', '-n', String(lines), AUDIT_LOG])} 2>/dev/null || true`, {
    description: `read the audit log of ${m.environment}`,
  });

export function parseAudit(stdout: string): AuditEntry[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as AuditEntry)
    .filter((e) => e.environment !== undefined);
}
