// `crvs backup run|list|verify|drills` and `crvs restore`: act on the ends the provisioning wired
// (src/backup/wiring.ts), over SSH as the automation user. crvs never holds the passphrase for these: borg on
// the end reads it from its root-only file.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  borgCompact,
  borgList,
  borgPrune,
  explainBorgFailure,
  exportedKeyProblem,
  operatorBorgEnv,
  parseBorgList,
} from '../backup/borg.js';
import { type DrillReport, parseDrillLog } from '../backup/drill-report.js';
import { type Manifest, parseManifest } from '../backup/manifest.js';
import { archiveGlob, newestArchive } from '../backup/naming.js';
import { parsePruneRecord, pruneRecordFile, renderPruneRecord } from '../backup/prune-record.js';
import {
  type ArchiveInfo,
  appStats,
  checkArchive,
  exportRepositoryKey,
  listArchives,
  parseArchiveInfo,
  type RestoreRun,
  readBackupStatus,
  readDrills,
  readManifest,
  runRestore,
  scaleServices,
  serviceReplicas,
  serviceTasks,
  stackServices,
  startBackup,
} from '../backup/remote.js';
import {
  APP_SERVICES,
  appCountMismatches,
  OPENCRVS_KEPT_SERVICES,
  tasksConverged,
} from '../backup/restore-plan.js';
import { guardPrune, planPrune } from '../backup/retention.js';
import {
  BACKUP_PRUNE_SSH_KEY,
  type BackupEnds,
  backupEnds,
  PASSPHRASE,
  REPOSITORY_KEY,
} from '../backup/wiring.js';
import { serversOf, specPaths } from '../config/environment.js';
import { hostTrust } from '../config/host-keys.js';
import { CrvsError, UsageError } from '../errors.js';
import type { RemoteHost } from '../remote/host.js';
import { openStore, setSecret } from '../secrets/manage.js';
import { SecretStore } from '../secrets/store.js';
import { type Effects, managerHost, pollPause, type SpecContext, serverHost } from './context.js';

export function wiredEnds(sc: SpecContext): BackupEnds {
  const ends = backupEnds(sc.spec);
  if (!ends)
    throw new CrvsError('E_PRECONDITION', `${sc.specFile} keeps no backups`, {
      hint: 'add a backups section and a backup environment, then crvs provision production staging backup',
    });
  return ends;
}

function hostOf(sc: SpecContext, environment: string, server: string): RemoteHost {
  const s = serversOf(sc.spec, environment).find((x) => x.name === server);
  if (!s) throw new Error(`${server} is not a server of ${environment}`);
  return serverHost(sc.spec, environment, s, sc);
}

/** Production's data node, where the backup runs and borg has the key; refused for any other environment. */
function sourceHost(sc: SpecContext, environment: string): { ends: BackupEnds; host: RemoteHost } {
  const ends = wiredEnds(sc);
  if (environment !== ends.source.environment)
    throw new UsageError(
      `${environment} is not backed up: backups.source is ${ends.source.environment}`,
      `crvs backup ${ends.source.environment}`,
    );
  return { ends, host: hostOf(sc, environment, ends.source.server) };
}

const borgError = (what: string, stderr: string, code: 'E_BACKUP' | 'E_RESTORE' = 'E_BACKUP') =>
  new CrvsError(
    code,
    `${what}: ${explainBorgFailure(stderr) ?? (stderr.trim().split('\n').slice(-3).join(' ') || 'borg failed')}`,
  );

export interface BackupRunResult {
  environment: string;
  result: 'ok' | 'failed';
  archive?: string;
  error?: string;
  seconds?: number;
  stats?: { original_size?: number; compressed_size?: number; deduplicated_size?: number; nfiles?: number };
  /** The copy of the repository's key in the source's secrets store (BACKUP_REPOSITORY_KEY) after this run. */
  repositoryKey?: string;
}

/** A backup now, through the timer's own unit (so a failure also alerts); the runner's status is the result. */
export async function runBackup(fx: Effects, sc: SpecContext, environment: string): Promise<BackupRunResult> {
  const { ends, host } = sourceHost(sc, environment);
  const started = fx.now();
  fx.progress(`backing up ${environment} (borg reads the passphrase on the server; this can take a while)`);
  const r = await fx.exec.run(startBackup(host));
  const status = await fx.exec.run(readBackupStatus(host));
  let s: BackupRunResult & { at?: string } = { environment, result: 'failed' };
  try {
    s = { environment, ...(JSON.parse(status.stdout) as Omit<BackupRunResult, 'environment'>) };
  } catch {
    /* no status: the runner did not start */
  }
  const fresh = s.at !== undefined && new Date(s.at).getTime() >= started.getTime() - 1000;
  if (r.code !== 0 || !fresh || s.result !== 'ok')
    throw new CrvsError(
      'E_BACKUP',
      `the backup of ${environment} failed: ${fresh ? (s.error ?? 'see the unit log') : 'the backup unit did not run'}`,
      { hint: `journalctl -u crvs-backup.service on ${ends.source.server}` },
    );
  const { at: _at, ...result } = s;
  return { ...result, repositoryKey: await keepRepositoryKey(fx, sc, host, ends) };
}

/**
 * A copy of the repository's key (sealed by the passphrase) in the source's secrets store, so that the store and
 * the backup server's files are enough even if the key inside the repository is damaged (docs/backups.md).
 * Written when the store has none or another one; never fails the backup it follows, but says why it was not kept.
 */
async function keepRepositoryKey(
  fx: Effects,
  sc: SpecContext,
  host: RemoteHost,
  ends: BackupEnds,
): Promise<string> {
  const r = await fx.exec.run(exportRepositoryKey(host, ends.repository));
  if (r.code !== 0) return `not kept: ${explainBorgFailure(r.stderr) ?? 'borg key export failed'}`;
  const problem = exportedKeyProblem(r.stdout);
  if (problem) return `not kept: ${problem}`;
  const c = { ...sc, exec: fx.exec, environment: ends.source.environment };
  try {
    const held = (await openStore(c).load(sc.identity)).get(REPOSITORY_KEY)?.value.reveal();
    if (held === r.stdout) return 'unchanged';
    await setSecret(c, REPOSITORY_KEY, r.stdout);
    return held === undefined ? 'stored' : 'replaced';
  } catch (e) {
    return `not kept: ${(e as Error).message}`;
  }
}

export async function archives(fx: Effects, sc: SpecContext, environment: string): Promise<ArchiveInfo[]> {
  const { ends, host } = sourceHost(sc, environment);
  const r = await fx.exec.run(listArchives(host, ends.repository));
  if (r.code !== 0) {
    // Before the first backup: the directory the backup server made is empty (borg: "not a valid repository").
    if (/does not exist|is not a valid repository/.test(r.stderr)) return [];
    throw borgError(`cannot list the archives of ${environment}`, r.stderr);
  }
  return parseArchiveInfo(r.stdout);
}

export interface VerifyResult {
  environment: string;
  archive: string;
  checked: true;
  manifest: Manifest;
}

/** borg's check of the archive with its data read back, then its manifest: well formed, complete, its own. */
export async function verifyArchive(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  archive?: string,
): Promise<VerifyResult> {
  const { ends, host } = sourceHost(sc, environment);
  let name = archive;
  if (!name) {
    const newest = newestArchive(
      (await archives(fx, sc, environment)).map((a) => a.name),
      environment,
    );
    if (!newest)
      throw new CrvsError('E_BACKUP', `${environment} has no archive to verify`, {
        hint: `crvs backup run ${environment}`,
      });
    name = newest.name;
  }
  fx.progress(`checking ${name}: every chunk read back from the backup server and verified`);
  const check = await fx.exec.run(checkArchive(host, ends.repository, name));
  if (check.code !== 0) throw borgError(`${name} failed borg's check`, check.stderr);
  const m = await fx.exec.run(readManifest(host, ends.repository, name));
  if (m.code !== 0) throw borgError(`${name} has no readable manifest`, m.stderr);
  const parsed = parseManifest(m.stdout);
  if (!parsed.ok) throw new CrvsError('E_BACKUP', `${name}: ${parsed.problem}`);
  if (parsed.manifest.archive !== name)
    throw new CrvsError(
      'E_BACKUP',
      `${name}: its manifest names another archive (${parsed.manifest.archive})`,
    );
  return { environment, archive: name, checked: true, manifest: parsed.manifest };
}

/** The restore drill's host: the data node of the environment whose drill the provisioning wired. */
function restoreHost(sc: SpecContext, environment: string): RemoteHost {
  const ends = wiredEnds(sc);
  const end = ends.restores.find((r) => r.environment === environment);
  if (!end)
    throw new UsageError(
      `${environment} does not restore ${ends.source.environment}'s backups`,
      ends.restores.length
        ? `restored by this spec: ${ends.restores.map((r) => r.environment).join(', ')}`
        : 'give staging (or qa, development) a restore section, then crvs provision it and the backup server',
    );
  return hostOf(sc, environment, end.server);
}

export interface RestoreOptions {
  from: string;
  archive?: string;
  verifyOnly?: boolean;
  /** Required to restore into the backed-up environment itself. */
  disasterRecovery?: boolean;
}

export interface RecoveryReport extends DrillReport {
  /** The backup taken of what the environment held just before it was replaced. */
  freshBackup?: string;
}

/** One run of crvs-restore over SSH; its report, or a located error when it did not report or did not pass. */
async function restoreRun(fx: Effects, host: RemoteHost, environment: string, run: RestoreRun) {
  const r = await fx.exec.run(runRestore(host, run));
  const report = parseDrillLog(r.stdout)[0];
  if (!report)
    throw new CrvsError('E_RESTORE', `the restore of ${environment} did not report`, {
      hint: r.stderr.trim().split('\n').slice(-3).join(' ') || 'see journalctl on the server',
    });
  if (report.result !== 'ok')
    throw new CrvsError('E_RESTORE', `restore of ${environment}: ${report.result}: ${report.detail}`, {
      hint: `${environment}'s data was not touched unless the result says swap-failed or app-check-failed`,
    });
  return report;
}

/**
 * Whether this restore may be asked for at all, before anyone is asked to confirm it: into the backed-up
 * environment only as disaster recovery (or verify-only), and disaster recovery only there.
 */
export function checkRestore(sc: SpecContext, environment: string, o: RestoreOptions): 'drill' | 'recovery' {
  const source = wiredEnds(sc).source.environment;
  if (o.from !== source) throw new UsageError(`--from ${o.from}: only ${source} is backed up`);
  if (environment === source) {
    if (!o.disasterRecovery && !o.verifyOnly)
      throw new UsageError(
        `restoring into ${environment} replaces its live records: that is disaster recovery`,
        `crvs restore ${environment} --from ${source} --disaster-recovery (it takes a fresh backup of what is there first)`,
      );
    return 'recovery';
  }
  if (o.disasterRecovery)
    throw new UsageError(
      `--disaster-recovery is for ${source} itself; ${environment} is restored by its drill`,
    );
  restoreHost(sc, environment);
  return 'drill';
}

/** The drill now: verify the archive, and (unless verify-only) swap it in and check the app's counts. */
export async function restore(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  o: RestoreOptions,
): Promise<RecoveryReport> {
  if (checkRestore(sc, environment, o) === 'recovery') return recover(fx, sc, environment, o);
  const host = restoreHost(sc, environment);
  fx.progress(
    `${o.verifyOnly ? 'verifying' : 'restoring'} ${o.archive ?? `the newest archive of ${o.from}`} into ${environment}` +
      ` (${environment} is touched only if the archive checks out)`,
  );
  return restoreRun(fx, host, environment, {
    ...(o.archive ? { archive: o.archive } : {}),
    ...(o.verifyOnly ? { verifyOnly: true } : {}),
  });
}

/**
 * Disaster recovery: the backed-up environment from its own repository. The archive is chosen first (the fresh
 * backup would otherwise be the newest), then what the environment holds now is backed up, the app is stopped on
 * the manager, crvs-restore verifies the archive on the data node and swaps it in, the app is started again at
 * its former scale and its counts must equal the archive's. Verify-only touches nothing and takes no backup.
 */
async function recover(fx: Effects, sc: SpecContext, environment: string, o: RestoreOptions) {
  const { host } = sourceHost(sc, environment);
  if (o.verifyOnly) {
    fx.progress(
      `verifying ${o.archive ?? 'the newest archive'} of ${environment} on its data node; nothing is replaced`,
    );
    return restoreRun(fx, host, environment, {
      recovery: true,
      verifyOnly: true,
      ...(o.archive ? { archive: o.archive } : {}),
    });
  }
  const archive =
    o.archive ??
    newestArchive(
      (await archives(fx, sc, environment)).map((a) => a.name),
      environment,
    )?.name;
  if (!archive)
    throw new CrvsError('E_RESTORE', `${environment} has no archive to recover from`, {
      hint: `crvs backup list ${environment}`,
    });
  fx.progress(`taking a backup of what ${environment} holds now, before ${archive} replaces it`);
  const fresh = await runBackup(fx, sc, environment);
  const manager = managerHost(sc.spec, environment, sc);
  const services =
    sc.spec.stack.preset === 'demo' ? APP_SERVICES : await servicesToStop(fx, manager, environment);
  const replicas = new Map<string, number>();
  for (const service of services) {
    const text = (await fx.exec.run(serviceReplicas(manager, service))).stdout.trim();
    if (!/^\d+$/.test(text))
      throw new CrvsError(
        'E_RESTORE',
        `${service} has no replica count on the manager (${text || 'empty'})`,
        {
          hint: `crvs deploy ${environment} first; nothing was changed`,
        },
      );
    replicas.set(service, Number(text));
  }
  fx.progress(`stopping ${services.join(', ')}; restoring ${archive} on the data node`);
  let report: DrillReport;
  try {
    await scaleAndWait(fx, manager, new Map(services.map((s) => [s, 0])), 'stopping');
    report = await restoreRun(fx, host, environment, { recovery: true, archive });
  } finally {
    await scaleAndWait(fx, manager, replicas, 'starting');
  }
  const withFresh = { ...report, ...(fresh.archive ? { freshBackup: fresh.archive } : {}) };
  // OpenCRVS has no endpoint that counts records: the data node compared the restored rows with the manifest,
  // and every service is back (scaleAndWait).
  if (sc.spec.stack.preset !== 'demo') return withFresh;
  fx.progress(`waiting for ${environment}'s app to answer with the archive's counts`);
  let last = 'no answer';
  for (let i = 0; i < APP_CHECK_TRIES; i++) {
    const r = await fx.exec.run(appStats(manager));
    if (r.code === 0) {
      const wrong = appCountMismatches(report.counts ?? {}, JSON.parse(r.stdout) as Record<string, unknown>);
      if (wrong.length === 0) return withFresh;
      last = wrong.join('; ');
    } else last = r.stderr.trim() || `exit ${r.code}`;
    await pollPause(fx, APP_CHECK_INTERVAL_MS);
  }
  throw new CrvsError(
    'E_RESTORE',
    `${environment} was restored from ${archive} but its app does not agree: ${last}`,
    {
      hint: `the data before the restore is in the database crvs_before_restore and in the backup ${fresh.archive ?? ''}`,
    },
  );
}

/** The stack's replicated services on the manager but for the stores the data node restores into (opencrvs). */
async function servicesToStop(fx: Effects, manager: RemoteHost, environment: string): Promise<string[]> {
  const out = (await fx.exec.run(stackServices(manager))).stdout;
  const services = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !OPENCRVS_KEPT_SERVICES.includes(l));
  if (services.length === 0)
    throw new CrvsError('E_RESTORE', `${environment} runs no stack to stop on its manager`, {
      hint: `crvs deploy ${environment} first; nothing was changed`,
    });
  return services;
}

const APP_CHECK_TRIES = 180;
const APP_CHECK_INTERVAL_MS = 1000;
const CONVERGE_TRIES = 360;
const CONVERGE_INTERVAL_MS = 500;

/**
 * Scales the services at once, then polls their tasks until each has converged on its replicas: the slowest
 * service sets the pace, and no service's update monitor is sat out (as `--detach=false` would, one by one).
 */
async function scaleAndWait(fx: Effects, manager: RemoteHost, target: Map<string, number>, what: string) {
  await fx.exec.run(scaleServices(manager, [...target]));
  const pending = new Map(target);
  const last = new Map<string, string>();
  for (let i = 0; ; i++) {
    for (const [service, n] of [...pending]) {
      const r = await fx.exec.run(serviceTasks(manager, service));
      if (r.code === 0 && tasksConverged(r.stdout, n)) pending.delete(service);
      else last.set(service, r.code === 0 ? r.stdout.trim().split('\n').join(', ') : r.stderr.trim());
    }
    if (pending.size === 0) return;
    if (i >= CONVERGE_TRIES)
      throw new CrvsError(
        'E_RESTORE',
        `${what} ${[...pending].map(([s, n]) => `${s}: not ${n} running task(s) (${last.get(s) || 'no task'})`).join('; ')}`,
        { hint: `docker service ps ${[...pending.keys()].join(' ')} on the manager says why` },
      );
    await pollPause(fx, CONVERGE_INTERVAL_MS);
  }
}

/** The drill reports kept on the environment, newest first. */
export async function drills(fx: Effects, sc: SpecContext, environment: string): Promise<DrillReport[]> {
  const source = wiredEnds(sc).source.environment;
  // Production's reports are its disaster recoveries; a restoring environment's its drills.
  const host = environment === source ? sourceHost(sc, environment).host : restoreHost(sc, environment);
  const r = await fx.exec.run(readDrills(host));
  if (r.code !== 0 && /No such file/.test(r.stderr)) return [];
  if (r.code !== 0)
    throw new CrvsError('E_RESTORE', `cannot read the drills of ${environment}: ${r.stderr.trim()}`);
  return parseDrillLog(r.stdout);
}

export interface PruneResult {
  environment: string;
  dryRun: boolean;
  firstRun: boolean;
  keep: { name: string; because: string }[];
  prune: string[];
  /** Archives left in the repository after the prune (recorded for the next run's guard). */
  archives: string[];
}

/**
 * Retention, from where the secrets store is: list through the prune key, refuse if an archive recorded after
 * the last prune has vanished (an append-only delete, still undoable), then `borg prune` and `borg compact`, and
 * record what is left beside the spec. The passphrase goes to borg on stdin; the key to a 0600 file, removed after.
 */
export async function pruneBackups(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  o: { dryRun?: boolean } = {},
): Promise<PruneResult> {
  const { ends } = sourceHost(sc, environment);
  const retention = sc.spec.backups?.retention ?? { daily: 7, weekly: 4, monthly: 12 };

  const secrets = await new SecretStore(fx.exec, specPaths(sc.specFile).store(environment), environment).load(
    sc.identity,
  );
  const key = secrets.get(BACKUP_PRUNE_SSH_KEY)?.value;
  const passphrase = secrets.get(PASSPHRASE)?.value;
  if (!key || !passphrase)
    throw new CrvsError(
      'E_SECRETS_MISSING',
      `${!key ? BACKUP_PRUNE_SSH_KEY : PASSPHRASE} is not in the ${environment} secrets store`,
      { hint: `crvs secrets init ${environment}, then crvs provision ${environment} backup` },
    );
  const { pinned } = hostTrust(sc.spec, sc.knownHosts, ends.target.address, ends.target.port);
  const dir = await mkdtemp(join(tmpdir(), 'crvs-prune-'));
  try {
    const keyFile = join(dir, 'id');
    await writeFile(keyFile, key.reveal(), { mode: 0o600 });
    const rsh = [
      'ssh',
      '-i',
      keyFile,
      '-p',
      String(ends.target.port),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      // The key crvs saw first (known_hosts), or the spec's pinned ones alone.
      ...(pinned
        ? ['-o', `UserKnownHostsFile=${pinned}`, '-o', 'GlobalKnownHostsFile=/dev/null']
        : ['-o', `UserKnownHostsFile=${sc.knownHosts}`]),
    ];
    const borg = async (argv: string[], what: string) => {
      const r = await fx.exec.run({
        argv,
        stdin: passphrase,
        env: { ...operatorBorgEnv(rsh), BORG_BASE_DIR: join(dir, 'borg') },
        description: what,
        allowFailure: true,
        timeoutMs: 6 * 3_600_000,
      });
      if (r.code !== 0) throw borgError(`${what} failed`, r.stderr);
      return r.stdout;
    };
    const glob = archiveGlob(environment);
    const list = async () => parseBorgList(await borg(borgList(ends.repository, glob), 'borg list'));
    const current = await list();
    const recordFile = join(specPaths(sc.specFile).dir, pruneRecordFile(environment));
    const recorded = existsSync(recordFile)
      ? parsePruneRecord(await readFile(recordFile, 'utf8'), environment).archives
      : undefined;
    const guard = guardPrune(
      recorded,
      current.map((a) => a.name),
    );
    if (!guard.ok) throw new CrvsError('E_BACKUP', guard.message, { hint: guard.hint });
    const plan = planPrune(
      current.map((a) => ({ name: a.name, time: new Date(`${a.time.replace(/\.\d+$/, '')}Z`) })),
      retention,
    );
    if (!o.dryRun) {
      fx.progress(`pruning ${plan.prune.length} of ${current.length} archives, then compacting`);
      await borg(borgPrune(ends.repository, glob, retention), 'borg prune');
      await borg(borgCompact(ends.repository), 'borg compact');
    }
    const left = o.dryRun ? current.map((a) => a.name) : (await list()).map((a) => a.name);
    if (!o.dryRun) {
      await mkdir(dirname(recordFile), { recursive: true });
      await writeFile(recordFile, renderPruneRecord(environment, fx.now(), left));
    }
    return {
      environment,
      dryRun: o.dryRun ?? false,
      firstRun: guard.firstRun,
      keep: plan.keep,
      prune: plan.prune,
      archives: [...left].sort(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
