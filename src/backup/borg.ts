// BorgBackup 1.2 commands as argv. Every command names its repository and archive explicitly; the passphrase is
// never an argument: production reads it with BORG_PASSCOMMAND from a root-only file, the operator's machine
// hands it over on stdin (BORG_PASSPHRASE_FD=0). See /docs/backups.md for which key may run which command.
import type { Retention } from './retention.js';

/** `ssh://borg@backup-1:22/srv/borg/repos/production` */
export function repositoryUrl(o: {
  user: string;
  host: string;
  port?: number;
  root: string;
  client: string;
}): string {
  return `ssh://${o.user}@${o.host}${o.port && o.port !== 22 ? `:${o.port}` : ''}${o.root}/repos/${o.client}`;
}

const at = (repo: string, archive: string) => `${repo}::${archive}`;

/** Seconds a command waits for another holder of the repository lock (a restore, the prune) before failing. */
export const LOCK_WAIT_SECONDS = 600;
/**
 * The lock wait of sessions a drill runs side by side (the manifest, the trees, the streams). borg retries a lock
 * every tenth of its wait (at most 60 s, borg/locking.py), also when two sessions merely update the lock roster
 * in the same instant: with 600 one of them would sit out 60 s for nothing (seen in restore-runner.test). The
 * drill's list and check before them still wait the full LOCK_WAIT_SECONDS for a running backup or prune.
 */
export const SIDE_BY_SIDE_LOCK_WAIT_SECONDS = 30;

/**
 * Create one archive from the paths on stdin, in that order: dump FIFOs first (read as data with
 * --read-special), then the attachment files, then the manifest FIFO last. Uncompressed dumps go in; borg
 * compresses (zstd when it pays, `auto`) after deduplication.
 */
export const borgCreate = (repo: string, archive: string): string[] => [
  'borg',
  'create',
  '--lock-wait',
  String(LOCK_WAIT_SECONDS),
  '--read-special',
  '--paths-from-stdin',
  '--compression',
  'auto,zstd,3',
  '--json',
  at(repo, archive),
];

/** Repository key mode: the key sits in the repository, sealed by the passphrase (kept in the secrets store). */
export const borgInit = (repo: string): string[] => ['borg', 'init', '--encryption', 'repokey-blake2', repo];

export const borgList = (repo: string, glob: string): string[] => [
  'borg',
  'list',
  '--lock-wait',
  String(LOCK_WAIT_SECONDS),
  '--json',
  '--glob-archives',
  glob,
  repo,
];

export const borgInfo = (repo: string, archive: string): string[] => [
  'borg',
  'info',
  '--lock-wait',
  String(LOCK_WAIT_SECONDS),
  '--json',
  at(repo, archive),
];

/**
 * `borg check` in its three uses: one archive with its data read back and verified (a restore drill, `crvs
 * backup verify`), the repository's own segments without the key (the backup server's timer), or everything.
 */
export function borgCheck(
  repo: string,
  scope: { archive: string; verifyData: boolean } | { repositoryOnly: true } | { all: true },
): string[] {
  const base = ['borg', 'check', '--lock-wait', String(LOCK_WAIT_SECONDS)];
  if ('repositoryOnly' in scope) return [...base, '--repository-only', repo];
  if ('all' in scope) return [...base, repo];
  return [
    ...base,
    '--archives-only',
    ...(scope.verifyData ? ['--verify-data'] : []),
    at(repo, scope.archive),
  ];
}

export const borgExtractToStdout = (
  repo: string,
  archive: string,
  path: string,
  lockWait = LOCK_WAIT_SECONDS,
): string[] => ['borg', 'extract', '--lock-wait', String(lockWait), '--stdout', at(repo, archive), path];

/** Retention for one environment's archives; `--dry-run` shows the plan without changing anything. */
export function borgPrune(repo: string, glob: string, keep: Retention, dryRun = false): string[] {
  return [
    'borg',
    'prune',
    '--lock-wait',
    String(LOCK_WAIT_SECONDS),
    '--list',
    ...(dryRun ? ['--dry-run'] : []),
    '--glob-archives',
    glob,
    '--keep-daily',
    String(keep.daily),
    '--keep-weekly',
    String(keep.weekly),
    '--keep-monthly',
    String(keep.monthly),
    repo,
  ];
}

/** Frees the space of deleted archives; also what makes deletes permanent, hence only after the prune guard. */
export const borgCompact = (repo: string): string[] => [
  'borg',
  'compact',
  '--lock-wait',
  String(LOCK_WAIT_SECONDS),
  repo,
];

/**
 * The repository's key, sealed by the passphrase as it is kept in the repository (repokey): printed to stdout. A
 * copy lets `borg key import` repair a repository whose key was damaged; without the passphrase it opens nothing.
 */
export const borgKeyExport = (repo: string): string[] => ['borg', 'key', 'export', repo];

/** What is wrong with a `borg key export` output (a `BORG_KEY <repository id>` line, then the sealed key), if anything. */
export function exportedKeyProblem(text: string): string | undefined {
  return /^BORG_KEY [0-9a-f]{64}\n[A-Za-z0-9+/=\n]+$/.test(text)
    ? undefined
    : 'borg key export printed something else than a repository key';
}

/** Environment for borg on the operator's machine or CI: passphrase on stdin, SSH through the given argv. */
export function operatorBorgEnv(rsh: string[]): Record<string, string> {
  return {
    BORG_PASSPHRASE_FD: '0',
    BORG_RSH: rsh.join(' '),
    // The archive times in --json are local time of the borg process: read them as UTC.
    TZ: 'UTC',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'no',
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'no',
  };
}

export interface BorgArchive {
  name: string;
  time: string;
  id: string;
}

/** `borg list --json` -> archives (name, naive UTC time, id). */
export function parseBorgList(stdout: string): BorgArchive[] {
  const data = JSON.parse(stdout) as { archives?: { name: string; time: string; id: string }[] };
  return (data.archives ?? []).map((a) => ({ name: a.name, time: a.time, id: a.id }));
}

/** The messages borg 1.2 prints for the failures an operator must tell apart (checked by hand, see docs). */
export function explainBorgFailure(stderr: string): string | undefined {
  if (/passphrase supplied in BORG_PASSPHRASE.*is incorrect/.test(stderr))
    return 'wrong passphrase: the passphrase in the secrets store does not open this repository';
  if (/passcommand supplied in BORG_PASSCOMMAND failed/.test(stderr))
    return 'the passphrase file could not be read (BORG_PASSCOMMAND failed)';
  if (/No space left on device/.test(stderr)) return 'the backup server is out of disk space';
  if (/Failed to create\/acquire the lock/.test(stderr))
    return 'the repository is locked by a running backup, restore or prune';
  if (/Connection closed by remote host|ssh: connect to host|Could not resolve hostname/.test(stderr))
    return 'the backup server is unreachable over SSH';
  if (/Repository .* does not exist/.test(stderr))
    return 'the repository does not exist on the backup server';
  return undefined;
}
