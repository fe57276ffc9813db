// The append-only audit log on the manager: one JSON object per line (who, when, from where, which versions,
// what happened). Appending goes through `tee -a`; the file is made append-only (chattr +a) where the
// file system allows it, so an entry cannot be rewritten without root removing the flag first.
import type { CommandSpec, Executor } from '../remote/executor.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { and, cmd, discardErrors, discardOutput, group, or, sudo } from '../remote/shell.js';
import { STATE_DIR } from './lock.js';

export const AUDIT_LOG = `${STATE_DIR}/audit.log`;

export interface AuditEntry {
  at: string;
  environment: string;
  action: 'deploy' | 'rollback' | 'seed' | 'reset' | 'lock-broken';
  who: string;
  from: string;
  version?: string;
  previousVersion?: string;
  /** abandoned: its run stopped renewing the deploy lock (killed, cancelled) and another run took the lock over. */
  result: 'started' | 'succeeded' | 'failed' | 'rolled-back' | 'refused' | 'abandoned';
  detail?: string;
}

export function appendAudit(m: RemoteHost, entry: AuditEntry): CommandSpec {
  const append = and(
    sudo('mkdir', '-p', STATE_DIR),
    sudo('touch', AUDIT_LOG),
    group(or(discardErrors(sudo('chattr', '+a', AUDIT_LOG)), cmd('true'))),
    discardOutput(sudo('tee', '-a', AUDIT_LOG)),
  );
  return onHost(m, append, {
    stdin: `${JSON.stringify(entry)}\n`,
    description: `audit: ${entry.action} ${entry.result}`,
  });
}

export const readAudit = (m: RemoteHost, lines = 50): CommandSpec =>
  onHost(m, or(discardErrors(sudo('tail', '-n', String(lines), AUDIT_LOG)), cmd('true')), {
    description: `read the audit log of ${m.environment}`,
  });

export function parseAudit(stdout: string): AuditEntry[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as AuditEntry)
    .filter((e) => e.environment !== undefined);
}

/** Who acts and from where: the CI actor on GitHub Actions, else the local user on this machine. */
export interface Actor {
  who: string;
  from: string;
}

/**
 * The audit trail of one action on one environment: every entry carries the same who, from, action and version,
 * and the time of the moment it is written.
 */
export function auditTrail(
  exec: Executor,
  m: RemoteHost,
  base: { actor: Actor; action: AuditEntry['action']; version?: string; now: () => Date },
) {
  return async (result: AuditEntry['result'], extra: Partial<AuditEntry> = {}): Promise<void> => {
    await exec.run(
      appendAudit(m, {
        at: base.now().toISOString(),
        environment: m.environment,
        action: base.action,
        who: base.actor.who,
        from: base.actor.from,
        ...(base.version ? { version: base.version } : {}),
        result,
        ...extra,
      }),
    );
  };
}
