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
  operatorBorgEnv,
  parseBorgList,
} from '../backup/borg.js';
import { type DrillReport, parseDrillLog } from '../backup/drill-report.js';
import { type Manifest, parseManifest } from '../backup/manifest.js';
import { archiveGlob, newestArchive } from '../backup/naming.js';
import { parsePruneRecord, pruneRecordFile, renderPruneRecord } from '../backup/prune-record.js';
import {
  type ArchiveInfo,
  checkArchive,
  listArchives,
  parseArchiveInfo,
  readBackupStatus,
  readDrills,
  readManifest,
  runRestore,
  startBackup,
} from '../backup/remote.js';
import { guardPrune, planPrune } from '../backup/retention.js';
import { BACKUP_PRUNE_SSH_KEY, type BackupEnds, backupEnds, PASSPHRASE } from '../backup/wiring.js';
import { serversOf, specPaths } from '../config/environment.js';
import { CrvsError, UsageError } from '../errors.js';
import type { RemoteHost } from '../remote/host.js';
import { SecretStore } from '../secrets/store.js';
import { type Effects, type SpecContext, serverHost } from './context.js';

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
  return result;
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
function restoreHost(sc: SpecContext, environment: string, from: string): RemoteHost {
  const ends = wiredEnds(sc);
  if (from !== ends.source.environment)
    throw new UsageError(`--from ${from}: only ${ends.source.environment} is backed up`);
  if (environment === ends.source.environment)
    throw new UsageError(
      `restoring into ${environment} itself is disaster recovery, which crvs does not run yet`,
      'follow docs/backups.md "Recovery with only the secrets store and the backup server"',
    );
  if (!ends.restore || ends.restore.environment !== environment)
    throw new UsageError(
      `${environment} has no restore drill: only staging with environments.staging.restore (demo preset) has one`,
    );
  return hostOf(sc, environment, ends.restore.server);
}

export interface RestoreOptions {
  from: string;
  archive?: string;
  verifyOnly?: boolean;
}

/** The drill now: verify the archive, and (unless verify-only) swap it in and check the app's counts. */
export async function restore(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  o: RestoreOptions,
): Promise<DrillReport> {
  const host = restoreHost(sc, environment, o.from);
  fx.progress(
    `${o.verifyOnly ? 'verifying' : 'restoring'} ${o.archive ?? `the newest archive of ${o.from}`} into ${environment}` +
      ' (staging is touched only if the archive checks out)',
  );
  const r = await fx.exec.run(
    runRestore(host, {
      ...(o.archive ? { archive: o.archive } : {}),
      ...(o.verifyOnly ? { verifyOnly: true } : {}),
    }),
  );
  const report = parseDrillLog(r.stdout)[0];
  if (!report)
    throw new CrvsError('E_RESTORE', `the restore drill of ${environment} did not report`, {
      hint: r.stderr.trim().split('\n').slice(-3).join(' ') || 'see journalctl on the server',
    });
  if (report.result !== 'ok')
    throw new CrvsError('E_RESTORE', `restore of ${environment}: ${report.result}: ${report.detail}`, {
      hint: `${environment}'s data was not touched unless the result says swap-failed or app-check-failed`,
    });
  return report;
}

/** The drill reports kept on the environment, newest first. */
export async function drills(fx: Effects, sc: SpecContext, environment: string): Promise<DrillReport[]> {
  const ends = wiredEnds(sc);
  const host = restoreHost(sc, environment, ends.source.environment);
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
      '-o',
      `UserKnownHostsFile=${sc.knownHosts}`,
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
