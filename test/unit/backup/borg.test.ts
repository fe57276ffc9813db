import { describe, expect, it } from 'vitest';
import {
  borgCheck,
  borgCompact,
  borgCreate,
  borgExtractToStdout,
  borgInfo,
  borgInit,
  borgList,
  borgPrune,
  explainBorgFailure,
  exportedKeyProblem,
  operatorBorgEnv,
  parseBorgList,
  repositoryUrl,
} from '../../../src/backup/borg.js';
import { cmd } from '../../../src/remote/shell.js';

const shellLine = (argv: string[]) => cmd(...argv);

const repo = repositoryUrl({ user: 'borg', host: 'backup-1', root: '/srv/borg', client: 'production' });
const line = (argv: string[]) => shellLine(argv);

describe('borg commands', () => {
  it('names the repository of one client', () => {
    expect(repo).toBe('ssh://borg@backup-1/srv/borg/repos/production');
    expect(
      repositoryUrl({ user: 'borg', host: '10.0.0.30', port: 2222, root: '/srv/borg', client: 'staging' }),
    ).toBe('ssh://borg@10.0.0.30:2222/srv/borg/repos/staging');
  });

  it.each([
    [
      'create from the paths on stdin, FIFOs read as data',
      borgCreate(repo, 'production-2027-01-01T00:00:00Z'),
      'borg create --lock-wait 600 --read-special --paths-from-stdin --compression auto,zstd,3 --json ssh://borg@backup-1/srv/borg/repos/production::production-2027-01-01T00:00:00Z',
    ],
    [
      'init',
      borgInit(repo),
      'borg init --encryption repokey-blake2 ssh://borg@backup-1/srv/borg/repos/production',
    ],
    [
      'list one environment',
      borgList(repo, 'production-*'),
      "borg list --lock-wait 600 --json --glob-archives 'production-*' ssh://borg@backup-1/srv/borg/repos/production",
    ],
    [
      'info of one archive',
      borgInfo(repo, 'production-2027-01-01T00:00:00Z'),
      'borg info --lock-wait 600 --json ssh://borg@backup-1/srv/borg/repos/production::production-2027-01-01T00:00:00Z',
    ],
    [
      'check one archive, reading its data back',
      borgCheck(repo, { archive: 'production-2027-01-01T00:00:00Z', verifyData: true }),
      'borg check --lock-wait 600 --archives-only --verify-data ssh://borg@backup-1/srv/borg/repos/production::production-2027-01-01T00:00:00Z',
    ],
    [
      'check one archive, metadata only',
      borgCheck(repo, { archive: 'production-2027-01-01T00:00:00Z', verifyData: false }),
      'borg check --lock-wait 600 --archives-only ssh://borg@backup-1/srv/borg/repos/production::production-2027-01-01T00:00:00Z',
    ],
    [
      'check the repository without the key',
      borgCheck('/srv/borg/repos/production', { repositoryOnly: true }),
      'borg check --lock-wait 600 --repository-only /srv/borg/repos/production',
    ],
    [
      'check everything',
      borgCheck(repo, { all: true }),
      'borg check --lock-wait 600 ssh://borg@backup-1/srv/borg/repos/production',
    ],
    [
      'extract one file to stdout',
      borgExtractToStdout(repo, 'production-2027-01-01T00:00:00Z', 'run/crvs-backup/crvs-manifest.json'),
      'borg extract --lock-wait 600 --stdout ssh://borg@backup-1/srv/borg/repos/production::production-2027-01-01T00:00:00Z run/crvs-backup/crvs-manifest.json',
    ],
    [
      'prune with the spec retention',
      borgPrune(repo, 'production-*', { daily: 7, weekly: 4, monthly: 12 }),
      "borg prune --lock-wait 600 --list --glob-archives 'production-*' --keep-daily 7 --keep-weekly 4 --keep-monthly 12 ssh://borg@backup-1/srv/borg/repos/production",
    ],
    [
      'prune, dry run',
      borgPrune(repo, 'production-*', { daily: 3, weekly: 0, monthly: 1 }, true),
      "borg prune --lock-wait 600 --list --dry-run --glob-archives 'production-*' --keep-daily 3 --keep-weekly 0 --keep-monthly 1 ssh://borg@backup-1/srv/borg/repos/production",
    ],
    [
      'compact',
      borgCompact(repo),
      'borg compact --lock-wait 600 ssh://borg@backup-1/srv/borg/repos/production',
    ],
  ])('%s', (_, argv, expected) => {
    expect(line(argv)).toBe(expected);
  });

  it('hands the passphrase over on stdin on the operator side, never in the environment', () => {
    const env = operatorBorgEnv(['ssh', '-F', '/tmp/x/ssh_config', '-i', '/tmp/x/prune_key']);
    expect(env).toEqual({
      BORG_PASSPHRASE_FD: '0',
      BORG_RSH: 'ssh -F /tmp/x/ssh_config -i /tmp/x/prune_key',
      TZ: 'UTC',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'no',
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'no',
    });
    expect(Object.keys(env)).not.toContain('BORG_PASSPHRASE');
  });
});

describe('borg output', () => {
  it('reads borg list --json (as printed by borg 1.2.4)', () => {
    const stdout = `{
    "archives": [
        {
            "archive": "production-2027-01-01T00:00:00Z",
            "barchive": "production-2027-01-01T00:00:00Z",
            "id": "29cd47ca65864ace1facdf82f05d5590d3d2ae81614ffc3074e2fe2b3ba0c86d",
            "name": "production-2027-01-01T00:00:00Z",
            "start": "2027-01-01T00:00:00.000000",
            "time": "2027-01-01T00:00:00.000000"
        }
    ],
    "encryption": { "mode": "repokey-blake2" },
    "repository": { "id": "5810f5cb", "last_modified": "2027-01-01T00:00:05.000000", "location": "ssh://borg@backup-1/srv/borg/repos/production" }
}`;
    expect(parseBorgList(stdout)).toEqual([
      {
        name: 'production-2027-01-01T00:00:00Z',
        time: '2027-01-01T00:00:00.000000',
        id: '29cd47ca65864ace1facdf82f05d5590d3d2ae81614ffc3074e2fe2b3ba0c86d',
      },
    ]);
  });

  // The texts are borg 1.2.4's own, recorded on a loopback repository (see docs/backups.md).
  it.each([
    [
      'passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.',
      'wrong passphrase: the passphrase in the secrets store does not open this repository',
    ],
    [
      "passcommand supplied in BORG_PASSCOMMAND failed: Command '['cat', '/etc/crvs/backup/passphrase']' returned non-zero exit status 1.",
      'the passphrase file could not be read (BORG_PASSCOMMAND failed)',
    ],
    ['OSError: [Errno 28] No space left on device', 'the backup server is out of disk space'],
    [
      'Failed to create/acquire the lock /srv/borg/repos/production/lock.exclusive (timeout).',
      'the repository is locked by a running backup, restore or prune',
    ],
    [
      'Remote: ssh: connect to host 10.0.0.30 port 22: Connection refused\nConnection closed by remote host. Is borg working on the server?',
      'the backup server is unreachable over SSH',
    ],
    [
      'Repository ssh://borg@backup-1/srv/borg/repos/production does not exist.',
      'the repository does not exist on the backup server',
    ],
    ['something else', undefined],
  ])('explains %s', (stderr, expected) => {
    expect(explainBorgFailure(stderr)).toBe(expected);
  });

  it("tells borg key export's output from anything else", () => {
    // borg 1.2.4's output shape (a throw-away repository's, key text shortened).
    const id = '74c184d0eb258d3f22f14865bfa20540defc02d8729b914fc85ab08d04e41aa7';
    expect(exportedKeyProblem(`BORG_KEY ${id}\nhqlhbGdvcml0aG2mc2hh\nMjU2pGRhdGHaAZ6Z=\n`)).toBeUndefined();
    for (const text of ['', `BORG_KEY ${id}\n`, 'Repository /srv/borg/repos/production does not exist.\n'])
      expect(exportedKeyProblem(text)).toBe('borg key export printed something else than a repository key');
  });
});
