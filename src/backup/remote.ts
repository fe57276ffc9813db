// What `crvs backup` and `crvs restore` run on the ends over SSH, as the automation user through sudo. Borg runs
// with the same environment file as the timer's unit (key, pinned host key, passphrase command), sourced by
// crvs-borg-env, so the passphrase is never on a command line, in crvs or in the output. Pure.
import type { CommandSpec } from '../remote/executor.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { cmd, sudo } from '../remote/shell.js';
import { borgCheck, borgExtractToStdout, borgKeyExport, LOCK_WAIT_SECONDS } from './borg.js';
import { DRILL_LOG } from './drill-report.js';
import { MANIFEST_FILE } from './manifest.js';
import { archiveGlob } from './naming.js';
import { RUN_DIR } from './plan.js';
import { APP_STATS, replicasArgv, STACK_SERVICES, tasksArgv } from './restore-plan.js';
import { BACKUP_CLIENT_DIR, RECOVERY_PLAN, RESTORE_CLIENT_DIR } from './wiring.js';

export const BACKUP_STATUS = '/var/lib/crvs/backup/last-run.json';
const HOUR = 3_600_000;

/** Installed by the backup roles: runs a command with a unit's environment file sourced (no D-Bus needed). */
export const BORG_ENV = '/usr/local/sbin/crvs-borg-env';

/** borg (or the drill) with the end's environment file, its output on stdout, its exit status returned. */
const transient = (dir: string, setenv: Record<string, string>, argv: string[]) => {
  const extra = Object.entries(setenv).map(([k, v]) => `${k}=${v}`);
  return sudo(BORG_ENV, `${dir}/borg.env`, ...(extra.length ? ['env', ...extra] : []), ...argv);
};

/** Runs the backup now, as the timer would (same unit, alert on failure); waits for it to end. */
export const startBackup = (host: RemoteHost): CommandSpec =>
  onHost(host, sudo('systemctl', 'start', 'crvs-backup.service'), {
    description: `run the backup of ${host.environment}`,
    allowFailure: true,
    timeoutMs: 12 * HOUR,
  });

export const readBackupStatus = (host: RemoteHost): CommandSpec =>
  onHost(host, sudo('cat', BACKUP_STATUS), {
    description: `read the last backup's status on ${host.environment}`,
    allowFailure: true,
  });

/** Every archive of the environment with its sizes (`borg info --json` over the archives the glob selects). */
export const listArchives = (host: RemoteHost, repository: string): CommandSpec =>
  onHost(
    host,
    transient(BACKUP_CLIENT_DIR, {}, [
      'borg',
      'info',
      '--lock-wait',
      String(LOCK_WAIT_SECONDS),
      '--json',
      '--glob-archives',
      archiveGlob(host.environment),
      repository,
    ]),
    { description: `list the archives of ${host.environment}`, allowFailure: true, timeoutMs: HOUR },
  );

/** borg's own check of one archive, every chunk read back and its MAC verified. */
export const checkArchive = (host: RemoteHost, repository: string, archive: string): CommandSpec =>
  onHost(host, transient(BACKUP_CLIENT_DIR, {}, borgCheck(repository, { archive, verifyData: true })), {
    description: `check ${archive}`,
    allowFailure: true,
    timeoutMs: 6 * HOUR,
  });

/** The repository's sealed key, read through production's own key; the output is kept out of every event. */
export const exportRepositoryKey = (host: RemoteHost, repository: string): CommandSpec =>
  onHost(host, transient(BACKUP_CLIENT_DIR, {}, borgKeyExport(repository)), {
    description: `export the repository key of ${host.environment}`,
    allowFailure: true,
    secretOutput: true,
    timeoutMs: HOUR,
  });

export const readManifest = (host: RemoteHost, repository: string, archive: string): CommandSpec =>
  onHost(
    host,
    transient(
      BACKUP_CLIENT_DIR,
      {},
      borgExtractToStdout(repository, archive, `${RUN_DIR}/${MANIFEST_FILE}`.replace(/^\//, '')),
    ),
    { description: `read the manifest of ${archive}`, allowFailure: true, timeoutMs: HOUR },
  );

export interface RestoreRun {
  archive?: string;
  verifyOnly?: boolean;
  /** Disaster recovery of the backed-up environment itself: its data node, its key, the recovery plan. */
  recovery?: boolean;
}

/** The drill, started by hand: the same program and plan as the timer's, optionally on a named archive. */
export const runRestore = (host: RemoteHost, o: RestoreRun): CommandSpec => {
  const [dir, plan] = o.recovery
    ? [BACKUP_CLIENT_DIR, RECOVERY_PLAN]
    : [RESTORE_CLIENT_DIR, `${RESTORE_CLIENT_DIR}/plan.json`];
  return onHost(
    host,
    transient(
      dir,
      {
        CRVS_RESTORE_PLAN: plan,
        ...(o.archive ? { CRVS_RESTORE_ARCHIVE: o.archive } : {}),
        ...(o.verifyOnly ? { CRVS_RESTORE_VERIFY_ONLY: '1' } : {}),
      },
      ['/usr/local/sbin/crvs-restore'],
    ),
    {
      description: `${o.recovery ? 'disaster recovery' : 'restore drill'} of ${host.environment}`,
      allowFailure: true,
      timeoutMs: 6 * HOUR,
    },
  );
};

/** Replicas a service is set to run (on a manager). */
export const serviceReplicas = (host: RemoteHost, service: string): CommandSpec =>
  onHost(host, sudo(...replicasArgv(service)), {
    description: `read the replicas of ${service}`,
  });

/**
 * Scale services at once and return (on a manager); crvs then polls their tasks (serviceTasks) rather than sit
 * out each service's update monitor, one service after the other, as `--detach=false` would.
 */
export const scaleServices = (host: RemoteHost, replicas: [string, number][]): CommandSpec =>
  onHost(host, sudo('docker', 'service', 'scale', '--detach', ...replicas.map(([s, n]) => `${s}=${n}`)), {
    description: `scale ${replicas.map(([s, n]) => `${s} to ${n}`).join(', ')}`,
  });

/** The current state of each task of a service (on a manager), for tasksConverged. */
export const serviceTasks = (host: RemoteHost, service: string): CommandSpec =>
  onHost(host, sudo(...tasksArgv(service)), {
    description: `read the tasks of ${service}`,
    allowFailure: true,
  });

/** The stack's replicated services, one per line (on a manager). */
export const stackServices = (host: RemoteHost): CommandSpec =>
  onHost(host, sudo(...STACK_SERVICES), { description: `list the services of ${host.environment}'s stack` });

/** The app's own counts, asked through the ingress on the node (allowed to fail while it starts). */
export const appStats = (host: RemoteHost): CommandSpec =>
  onHost(host, cmd(...APP_STATS), {
    description: `ask ${host.environment}'s app for its counts`,
    allowFailure: true,
  });

export const readDrills = (host: RemoteHost): CommandSpec =>
  onHost(host, sudo('cat', DRILL_LOG), {
    description: `read the restore drills of ${host.environment}`,
    allowFailure: true,
  });

/** `borg info --json` of several archives -> name, time, sizes. */
export interface ArchiveInfo {
  name: string;
  time: string;
  originalBytes: number;
  compressedBytes: number;
  deduplicatedBytes: number;
  files: number;
}

export function parseArchiveInfo(stdout: string): ArchiveInfo[] {
  const data = JSON.parse(stdout) as {
    archives?: {
      name: string;
      start: string;
      stats: { original_size: number; compressed_size: number; deduplicated_size: number; nfiles: number };
    }[];
  };
  return (data.archives ?? [])
    .map((a) => ({
      name: a.name,
      time: `${a.start.replace(/\.\d+$/, '')}Z`,
      originalBytes: a.stats.original_size,
      compressedBytes: a.stats.compressed_size,
      deduplicatedBytes: a.stats.deduplicated_size,
      files: a.stats.nfiles,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
