import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultLab, ensureProvisioned, type LabInfo, labCommands } from './helpers/lab.js';
import { call, record } from './helpers/load.js';

// Backups on the lab's own servers: production's data node (prod-2) backs up into backup-1 through its
// append-only key, staging-1 restores the archive after verifying it. Real borg, real sshd, real Postgres.
let lab: LabInfo;
const PROD = '10.77.0.21';
const STAGING = '10.77.0.31';
const REPO = 'ssh://borg@10.77.0.41/srv/borg/repos/production';
const { env, crvs, must } = labCommands(() => lab);
const json = <T>(...args: string[]) => JSON.parse(must(...args, '--json').stdout) as T;
const container = (server: string) => lab.servers.find((s) => s.name === server)?.container ?? '';
/** A command as root inside a lab server (the test's own hands, not crvs's). */
const root = (server: string, script: string) =>
  spawnSync('docker', ['exec', container(server), 'sh', '-c', script], { encoding: 'utf8' });
const stats = async (host: string) => (await call(host, 'GET', '/stats')).json as Record<string, number>;

let passphrase = '';
const outputs: string[] = [];
const keep = <R extends { stdout: string; stderr: string }>(r: R): R => {
  outputs.push(r.stdout, r.stderr);
  return r;
};

beforeAll(async () => {
  lab = ensureDefaultLab();
  // After demo.test this provisions nothing; run alone, it wires the three ends.
  ensureProvisioned(lab, ['production', 'staging', 'backup'], env());
  for (const e of ['production', 'staging']) {
    const up = await call(e === 'production' ? PROD : STAGING, 'GET', '/stats').catch(() => undefined);
    if (up?.status !== 200) {
      must('secrets', 'init', e);
      must('deploy', e);
      must('seed', e);
    }
  }
  passphrase = must('secrets', 'get', 'production', 'BACKUP_ENCRYPTION_PASSPHRASE').stdout.trim();
  expect(passphrase.length).toBeGreaterThan(40);
});

describe('backups on the lab', () => {
  let archive = '';
  let recordId = '';
  let production: Record<string, number> = {};

  it("backs production up into the backup server: listed, verified, its manifest counting production's rows", async () => {
    const created = await call(PROD, 'POST', '/records', { ...record(7), name: 'Backed Up' });
    expect(created.status).toBe(201);
    recordId = created.json.id as string;
    production = await stats(PROD);

    const run = keep(must('backup', 'run', 'production', '--json'));
    const result = JSON.parse(run.stdout) as { result: string; archive: string };
    expect(result.result).toBe('ok');
    expect(result.archive).toMatch(/^production-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    archive = result.archive;

    const list = JSON.parse(keep(must('backup', 'list', 'production', '--json')).stdout) as {
      name: string;
      originalBytes: number;
    }[];
    expect(list.map((a) => a.name)).toContain(archive);
    expect(list.find((a) => a.name === archive)?.originalBytes).toBeGreaterThan(0);

    const verified = JSON.parse(keep(must('backup', 'verify', 'production', '--json')).stdout) as {
      archive: string;
      manifest: {
        stores: { name: string; records: Record<string, number> }[];
        attachments: { count: number };
      };
    };
    expect(verified.archive).toBe(archive);
    const pg = verified.manifest.stores.find((s) => s.name === 'postgres');
    expect(pg?.records['public.records']).toBe(production.records);
    expect(pg?.records['public.users']).toBe(production.users);
    // One attachment per record, each a file in the documents volume.
    expect(verified.manifest.attachments.count).toBe(production.records);
  });

  it('keeps the passphrase off the backup server, out of the unit and out of every output', () => {
    expect(archive).not.toBe('');
    // The backup server holds ciphertext only: no file of its repository or configuration has the passphrase.
    // (grep reads the canary from stdin; exit 1 is "no match", 2 would be an error.)
    const onServer = spawnSync(
      'docker',
      ['exec', '-i', container('backup-1'), 'grep', '-rlF', '-f', '/dev/stdin', '/srv/borg', '/etc'],
      { input: `${passphrase}\n`, encoding: 'utf8' },
    );
    expect([onServer.status, onServer.stdout]).toEqual([1, '']);
    const unit = root(
      'prod-2',
      'systemctl show crvs-backup.service --property=Environment; systemctl cat crvs-backup.service; cat /etc/crvs/backup/borg.env',
    );
    expect(unit.stdout).toContain('BORG_PASSCOMMAND="cat /etc/crvs/backup/passphrase"');
    expect(unit.stdout).not.toContain(passphrase);
    expect(
      root('prod-2', 'stat -c %a:%U /etc/crvs/backup/passphrase /etc/crvs/backup/id_ed25519').stdout,
    ).toBe('400:root\n600:root\n');
    for (const text of outputs) expect(text).not.toContain(passphrase);
  });

  it("restores production's archive into staging only after verifying it, and staging then answers production's counts", async () => {
    expect(archive).not.toBe('');
    // A named archive that does not exist: refused before staging is touched.
    const before = await stats(STAGING);
    const missing = keep(
      crvs(
        'restore',
        'staging',
        '--from',
        'production',
        '--archive',
        'production-1999-01-01T00:00:00Z',
        '--yes',
      ),
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(
      'restore of staging: missing: no archive production-1999-01-01T00:00:00Z in the repository',
    );
    expect(await stats(STAGING)).toEqual(before);

    const report = JSON.parse(
      keep(must('restore', 'staging', '--from', 'production', '--archive', archive, '--yes', '--json'))
        .stdout,
    ) as { result: string; archive: string; counts: Record<string, number> };
    expect(report).toMatchObject({ result: 'ok', archive });
    expect(report.counts['postgres.public.records']).toBe(production.records);
    const after = await stats(STAGING);
    expect(after).toMatchObject({
      records: production.records,
      users: production.users,
      offices: production.offices,
    });
    // The record registered on production before the backup, with its attachment, is on staging.
    expect((await call(STAGING, 'GET', `/records/${recordId}`)).json).toMatchObject({
      id: recordId,
      name: 'Backed Up',
      attachmentVerified: true,
    });

    const drills = json<{ result: string; archive?: string }[]>('backup', 'drills', 'staging');
    expect(drills.slice(0, 2).map((d) => [d.result, d.archive ?? null])).toEqual([
      ['ok', archive],
      ['missing', null],
    ]);
  });

  it("production's key cannot destroy history: its delete leaves the data, rolled back on the backup server and verified", () => {
    expect(archive).not.toBe('');
    const asProduction = (argv: string) =>
      root('prod-2', `/usr/local/sbin/crvs-borg-env /etc/crvs/backup/borg.env ${argv}`);
    // The first prune from the operator's side (no record of an earlier one beside the lab's spec) records what is
    // there (one archive a day is kept for 7 days).
    rmSync(join(lab.dir, 'backups'), { recursive: true, force: true });
    const first = json<{ firstRun: boolean; prune: string[]; archives: string[] }>(
      'backup',
      'prune',
      'production',
    );
    expect(first.firstRun).toBe(true);
    // (On a lab used before, older archives of the same day go: one a day is kept. Never the newest.)
    expect(first.prune).not.toContain(archive);
    expect(first.archives).toContain(archive);
    // The last good segment: the highest one before the bad session (the prune key's compaction just wrote some
    // without a line in the transactions file, so that file's last line is not it; see docs/backups.md).
    const lastGood = Number(
      root('backup-1', 'ls /srv/borg/repos/production/data/*/ | sort -n | tail -n 1').stdout.trim(),
    );
    expect(lastGood).toBeGreaterThan(0);
    // Through the append-only key, borg 1.2 accepts the delete and the archive vanishes from the list...
    const del = asProduction(`borg delete ${REPO}::${archive}`);
    expect(del.status, del.stderr).toBe(0);
    const prune = asProduction(`borg prune --keep-daily 1 --glob-archives 'production-*' ${REPO}`);
    expect(prune.status, prune.stderr).toBe(0);
    expect(must('backup', 'list', 'production', '--json').stdout).not.toContain(archive);
    // The next prune sees an archive gone that retention did not remove, and refuses to compact it away.
    const refused = crvs('backup', 'prune', 'production');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `1 archive vanished since the last prune, which retention did not remove: ${archive}`,
    );
    // ...a compaction would need the prune key: the segments are all still there. The documented rollback
    // (docs/backups.md) drops the segments the bad session wrote.
    const rollback = root(
      'backup-1',
      `cd /srv/borg/repos/production && for f in data/*/*; do [ "$(basename "$f")" -gt ${lastGood} ] && rm "$f"; done; rm -f index.* hints.* integrity.*; true`,
    );
    expect(rollback.status, rollback.stderr).toBe(0);
    // The clients saw the newer state: their caches are reset, as the docs say.
    for (const server of ['prod-2', 'staging-1']) root(server, 'rm -rf /var/lib/crvs/backup/borg');
    const verified = JSON.parse(
      must('backup', 'verify', 'production', '--archive', archive, '--json').stdout,
    ) as {
      archive: string;
    };
    expect(verified.archive).toBe(archive);
    // Back in the list, so the guard lets retention run again.
    expect(json<{ archives: string[] }>('backup', 'prune', 'production').archives).toContain(archive);
  });
});
