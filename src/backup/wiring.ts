// Who takes part in backups and what each end is told, as data for the provisioning run: production's data node
// (the backup runner), the data nodes of the environments that restore it (staging's daily drill; qa or
// development when their spec asks) and the backup server (one repository, restricted keys, its own watch). The SSH keys of the two ends live in the environments' encrypted stores, so
// the backup server's authorized_keys can be written without the ends being in the same run. Pure.
import { BORG_ROOT } from '../config/data-layout.js';
import { dataServer, isApplicationEnvironment, restoreSettings, serversOf } from '../config/environment.js';
import { staleAfterMinutes } from '../config/freshness.js';
import { environmentEncrypted } from '../config/rules.js';
import { onCalendar, parseCron } from '../config/schedule.js';
import type { Spec } from '../config/schema.js';
import { repositoryUrl } from './borg.js';
import { backupPlan, renderBackupPlan } from './plan.js';
import { renderRestorePlan, restorePlan } from './restore-plan.js';

/** Production's key: append-only, its own repository. */
export const BACKUP_SSH_KEY = 'BACKUP_SSH_KEY';
/** A restoring environment's key (staging's, qa's...): append-only, production's repository (reads it; cannot
 * destroy history). Each environment has its own, in its own store. */
export const RESTORE_SSH_KEY = 'RESTORE_SSH_KEY';
/** Full access to production's repository: used only by `crvs backup prune` and for disaster recovery. */
export const BACKUP_PRUNE_SSH_KEY = 'BACKUP_PRUNE_SSH_KEY';
export const PASSPHRASE = 'BACKUP_ENCRYPTION_PASSPHRASE';
/** A copy of the repository's key (sealed by the passphrase), kept by `crvs backup run` for `borg key import`. */
export const REPOSITORY_KEY = 'BACKUP_REPOSITORY_KEY';

/** Each forwarding environment's key for the backup server's journal account (one key, the servers' addresses). */
export const JOURNAL_SSH_KEY = 'JOURNAL_SSH_KEY';
export const JOURNAL_USER = 'crvs-logs';
/** On the backup server: one journal file per forwarding server (<server>.journal), read with `journalctl -D`. */
export const JOURNAL_ROOT = '/var/log/crvs-journal';
export const JOURNAL_CLIENT_DIR = '/etc/crvs/journal';

export const BORG_USER = 'borg';
export { BORG_ROOT };
export const BACKUP_CLIENT_DIR = '/etc/crvs/backup';
export const RESTORE_CLIENT_DIR = '/etc/crvs/restore';
/** On production's data node: the plan `crvs restore production --disaster-recovery` runs crvs-restore with. */
export const RECOVERY_PLAN = `${BACKUP_CLIENT_DIR}/recovery-plan.json`;

interface End {
  environment: string;
  server: string;
  address: string;
  port: number;
}

/** An environment that restores the source's archives; `schedule` absent: only when `crvs restore` asks. */
export type RestoreEnd = End & { schedule?: string | undefined };

export interface BackupEnds {
  source: End;
  target: End;
  /** In the spec's order (staging, qa, development): each environment with an enabled `restore` from the source. */
  restores: RestoreEnd[];
  repository: string;
}

function end(spec: Spec, environment: string, data: boolean): End {
  const s = data ? dataServer(spec, environment) : serversOf(spec, environment)[0];
  if (!s) throw new Error(`${environment} has no server`);
  return { environment, server: s.name, address: s.address, port: s.sshPort };
}

/** The three ends, or undefined when the spec keeps no backups (no `backups`, or no backup environment). */
export function backupEnds(spec: Spec): BackupEnds | undefined {
  const b = spec.backups;
  if (!b || !spec.environments[b.target] || !spec.environments[b.source]) return undefined;
  const source = end(spec, b.source, true);
  const target = end(spec, b.target, false);
  const restores = restoreSettings(spec)
    .filter(({ restore }) => restore.enabled && restore.source === b.source)
    .map(({ environment, restore }) => ({
      ...end(spec, environment, true),
      ...(restore.schedule !== undefined ? { schedule: restore.schedule } : {}),
    }));
  const repository = repositoryUrl({
    user: BORG_USER,
    host: target.address,
    port: target.port,
    root: BORG_ROOT,
    client: b.source,
  });
  return { source, target, restores, repository };
}

/** Environments whose provisioning writes part of the backup wiring. */
export function backupEnvironments(ends: BackupEnds): string[] {
  return [ends.source.environment, ends.target.environment, ...ends.restores.map((r) => r.environment)];
}

/**
 * Servers whose restore drill must go, with its key and production's passphrase: those of every application
 * environment in the run that neither is the backup source nor restores it (its spec dropped `restore` or
 * turned it off). Where none was ever installed, removing it changes nothing.
 */
export function retiredRestoreServers(spec: Spec, ends: BackupEnds | undefined, run: string[]): string[] {
  const keep = new Set(ends ? [ends.source.environment, ...ends.restores.map((r) => r.environment)] : []);
  return run
    .filter((e) => isApplicationEnvironment(e) && !keep.has(e) && spec.environments[e])
    .flatMap((e) => serversOf(spec, e).map((s) => s.name));
}

/** A server whose journal goes to the backup server. */
export interface JournalSender {
  environment: string;
  server: string;
  address: string;
}

/**
 * Every server of the backup source and of the environments that restore it (those holding citizen data), unless
 * the spec turns forwarding off. In the spec's order.
 */
export function journalSenders(spec: Spec, ends: BackupEnds): JournalSender[] {
  if (spec.backups?.forwardJournal === false) return [];
  const environments = [ends.source.environment, ...ends.restores.map((r) => r.environment)];
  return [...new Set(environments)].flatMap((environment) =>
    serversOf(spec, environment).map((s) => ({ environment, server: s.name, address: s.address })),
  );
}

/**
 * Servers whose journal forwarding must go, with its key: every server of an application environment in the run
 * that is no sender (the spec turned forwarding off, keeps no backups, or the environment no longer restores).
 * Where none was ever installed, removing it changes nothing.
 */
export function retiredJournalServers(spec: Spec, ends: BackupEnds | undefined, run: string[]): string[] {
  const senders = new Set(ends ? journalSenders(spec, ends).map((s) => s.server) : []);
  return run
    .filter((e) => isApplicationEnvironment(e) && spec.environments[e])
    .flatMap((e) => serversOf(spec, e).map((s) => s.name))
    .filter((name) => !senders.has(name));
}

const journalEnvironments = (senders: JournalSender[]) => [...new Set(senders.map((s) => s.environment))];

/** Which store holds which end's SSH key (the public half goes to the backup server). */
export function keyHolders(
  ends: BackupEnds,
  senders: JournalSender[] = [],
): { environment: string; secret: string; comment: string }[] {
  return [
    {
      environment: ends.source.environment,
      secret: BACKUP_SSH_KEY,
      comment: `crvs-backup@${ends.source.server}`,
    },
    {
      environment: ends.source.environment,
      secret: BACKUP_PRUNE_SSH_KEY,
      comment: `crvs-prune@${ends.source.environment}`,
    },
    ...ends.restores.map((r) => ({
      environment: r.environment,
      secret: RESTORE_SSH_KEY,
      comment: `crvs-restore@${r.server}`,
    })),
    ...journalEnvironments(senders).map((environment) => ({
      environment,
      secret: JOURNAL_SSH_KEY,
      comment: `crvs-journal@${environment}`,
    })),
  ];
}

export const cronOf = (text: string) => {
  const c = parseCron(text);
  // crvs validate rejects a bad schedule before any run gets here.
  if (!c.ok) throw new Error(`invalid schedule ${text}: ${c.error.message}`);
  return c.cron;
};

/** backups.schedule (midnight when the spec leaves it out), as the timer reads it. */
export const backupCron = (spec: Spec) => cronOf(spec.backups?.schedule ?? '0 0 * * *');

/** The plans hold docker `--format` templates (`{{.Config.Image}}`) that Ansible would try to render: they travel
 * as base64 of their JSON text and are written decoded, byte for byte. */
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Public keys of the ends, by keyRef(environment, secret name). */
export type PublicKeys = Partial<Record<string, string>>;
/** How PublicKeys names a key: several environments hold a RESTORE_SSH_KEY, each its own. */
export const keyRef = (environment: string, secret: string) => `${environment}:${secret}`;

/** The backup server: one restricted line per key, the watch, and the addresses that may reach its SSH. */
export function targetVars(
  spec: Spec,
  ends: BackupEnds,
  keys: PublicKeys,
  senders: JournalSender[] = [],
): Record<string, unknown> {
  const source = ends.source.environment;
  const clients = [
    { name: source, key: keys[keyRef(source, BACKUP_SSH_KEY)], append_only: true },
    ...ends.restores.map((r) => ({
      name: r.environment,
      key: keys[keyRef(r.environment, RESTORE_SSH_KEY)],
      append_only: true,
      repository: source,
    })),
    {
      name: 'prune',
      key: keys[keyRef(source, BACKUP_PRUNE_SSH_KEY)],
      append_only: false,
      repository: source,
    },
  ].filter((c) => c.key);
  return {
    crvs_backup_clients: clients,
    crvs_backup_watch: [{ name: source, stale_after_minutes: staleAfterMinutes(backupCron(spec)) }],
    // Each environment's journal key, accepted only from that environment's servers; the receiving command
    // names the file from the address the connection comes from.
    crvs_journal_keys: journalEnvironments(senders)
      .map((environment) => ({
        environment,
        key: keys[keyRef(environment, JOURNAL_SSH_KEY)],
        from: senders.filter((s) => s.environment === environment).map((s) => s.address),
      }))
      .filter((k) => k.key),
    crvs_journal_senders: senders.map((s) => ({ address: s.address, server: s.server })),
    crvs_journal_root: JOURNAL_ROOT,
    crvs_journal_user: JOURNAL_USER,
    crvs_alerts_quiet_users: [BORG_USER, JOURNAL_USER],
  };
}

/** A forwarding environment's servers: where the journal goes, pinned by the backup server's host key (no secret). */
export function journalVars(ends: BackupEnds, hostKeys: string[]): Record<string, unknown> {
  return {
    crvs_journal_server: ends.target.address,
    crvs_journal_server_port: ends.target.port,
    crvs_journal_server_host_key: hostKeys.join('\n'),
    crvs_journal_user: JOURNAL_USER,
    crvs_journal_client_dir: JOURNAL_CLIENT_DIR,
  };
}

/** Addresses that must reach the backup server's SSH besides the operators' (the source and every restorer). */
export const clientAddresses = (ends: BackupEnds, senders: JournalSender[] = []): string[] => [
  ...new Set([ends.source.address, ...ends.restores.map((r) => r.address), ...senders.map((s) => s.address)]),
];

/** Production's data node: plan, schedule and the pinned host key of the backup server (no secret). */
export function sourceVars(spec: Spec, ends: BackupEnds, hostKeys: string[]): Record<string, unknown> {
  return {
    crvs_backup_client_environment: ends.source.environment,
    crvs_backup_client_plan_b64: b64(
      renderBackupPlan(backupPlan(spec, ends.source.environment, ends.repository)),
    ),
    // Disaster recovery of production from its own repository, through its own (append-only, read-capable) key.
    crvs_backup_client_recovery_plan_b64: b64(
      renderRestorePlan(
        restorePlan({
          environment: ends.source.environment,
          source: ends.source.environment,
          repository: ends.repository,
          staleAfterMinutes: staleAfterMinutes(backupCron(spec)),
          preset: spec.stack.preset,
          recovery: true,
          encrypted: environmentEncrypted(spec, ends.source.environment),
        }),
      ),
    ),
    crvs_backup_client_on_calendar: onCalendar(backupCron(spec)),
    crvs_backup_client_server: ends.target.address,
    crvs_backup_client_server_port: ends.target.port,
    crvs_backup_client_server_host_key: hostKeys.join('\n'),
    crvs_backup_client_dir: BACKUP_CLIENT_DIR,
  };
}

/**
 * A restoring environment's data node: the drill's plan, its schedule (none: no timer, `crvs restore` only) and
 * the pinned host key (no secret).
 */
export function restoreVars(
  spec: Spec,
  ends: BackupEnds,
  r: RestoreEnd,
  hostKeys: string[],
): Record<string, unknown> {
  return {
    crvs_backup_restore_environment: r.environment,
    crvs_backup_restore_plan_b64: b64(
      renderRestorePlan(
        restorePlan({
          environment: r.environment,
          source: ends.source.environment,
          repository: ends.repository,
          staleAfterMinutes: staleAfterMinutes(backupCron(spec)),
          preset: spec.stack.preset,
          encrypted: environmentEncrypted(spec, r.environment),
        }),
      ),
    ),
    crvs_backup_restore_on_calendar: r.schedule === undefined ? [] : onCalendar(cronOf(r.schedule)),
    crvs_backup_restore_server_port: ends.target.port,
    crvs_backup_restore_server_host_key: hostKeys.join('\n'),
    crvs_backup_restore_dir: RESTORE_CLIENT_DIR,
  };
}
