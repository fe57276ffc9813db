import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArchiveInfo } from '../../../src/backup/remote.js';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import {
  archives,
  drills,
  pruneBackups,
  restore,
  runBackup,
  verifyArchive,
} from '../../../src/usecases/backup.js';
import type { SpecContext } from '../../../src/usecases/context.js';
import { fakeEffects } from '../helpers/context.js';
import { exampleSpec, labExample, labWithQaRestore } from '../helpers/spec.js';
import { MANIFEST } from './fixtures.js';

const sc: SpecContext = {
  spec: labExample(),
  specFile: '/lab/crvs.yaml',
  identity: '/lab/id',
  knownHosts: '/lab/known_hosts',
};
const SSH_PROD2 =
  'ssh -i /lab/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/lab/known_hosts -o StrictHostKeyChecking=accept-new -p 22 crvs@10.77.0.22';
const REPO = 'ssh://borg@10.77.0.41/srv/borg/repos/production';
const transient = (dir: string) => `sudo -n /usr/local/sbin/crvs-borg-env /etc/crvs/${dir}/borg.env`;

// borg 1.2.4's `borg info --json` over two archives, trimmed to the fields crvs reads.
const INFO = JSON.stringify({
  archives: [
    {
      name: 'production-2027-01-02T00:00:00Z',
      start: '2027-01-02T00:00:01.123456',
      stats: { original_size: 70000, compressed_size: 9000, deduplicated_size: 1200, nfiles: 4 },
    },
    {
      name: 'production-2027-01-01T00:00:00Z',
      start: '2027-01-01T00:00:01.000000',
      stats: { original_size: 65480, compressed_size: 8000, deduplicated_size: 8000, nfiles: 4 },
    },
  ],
});

describe('crvs backup and crvs restore, as commands on the ends', () => {
  it("runs a backup through the timer's unit on production's data node and reports the runner's status", async () => {
    const status = {
      result: 'ok',
      archive: 'production-1970-01-01T00:00:00Z',
      at: '1970-01-01T00:00:05Z',
      seconds: 5,
      stats: { original_size: 65480, deduplicated_size: 900 },
    };
    const exec = new RecordingExecutor([
      { match: /cat \/var\/lib/, result: { stdout: JSON.stringify(status) } },
    ]);
    const r = await runBackup(fakeEffects(exec), sc, 'production');
    expect(r).toEqual({
      environment: 'production',
      result: 'ok',
      archive: 'production-1970-01-01T00:00:00Z',
      seconds: 5,
      stats: { original_size: 65480, deduplicated_size: 900 },
      repositoryKey: 'not kept: borg key export printed something else than a repository key',
    });
    expect(exec.lines()).toEqual([
      `${SSH_PROD2} sudo -n systemctl start crvs-backup.service`,
      `${SSH_PROD2} sudo -n cat /var/lib/crvs/backup/last-run.json`,
      `${SSH_PROD2} ${transient('backup')} borg key export ${REPO}`,
    ]);
    // The exported key is output nobody sees: kept out of progress events and error messages.
    expect(exec.commands.at(-1)?.secretOutput).toBe(true);
  });

  it('keeps the backup a success when the repository key cannot be exported, and says why', async () => {
    const status = { result: 'ok', archive: 'production-1970-01-01T00:00:00Z', at: '1970-01-01T00:00:05Z' };
    const exec = new RecordingExecutor([
      { match: /cat \/var\/lib/, result: { stdout: JSON.stringify(status) } },
      {
        match: /borg key export/,
        result: { code: 2, stderr: 'Remote: ssh: connect to host 10.77.0.41 port 22: Connection refused' },
      },
    ]);
    const r = await runBackup(fakeEffects(exec), sc, 'production');
    expect([r.result, r.repositoryKey]).toEqual([
      'ok',
      'not kept: the backup server is unreachable over SSH',
    ]);
  });

  it("fails with the runner's reason, and refuses a status left by an earlier run", async () => {
    const failed = {
      result: 'failed',
      error: 'the backup server is unreachable over SSH',
      at: '1970-01-01T00:00:05Z',
    };
    const exec = new RecordingExecutor([
      { match: /systemctl start/, result: { code: 1 } },
      { match: /cat \/var\/lib/, result: { stdout: JSON.stringify(failed) } },
    ]);
    await expect(runBackup(fakeEffects(exec), sc, 'production')).rejects.toThrow(
      'the backup of production failed: the backup server is unreachable over SSH',
    );
    const old = { result: 'ok', archive: 'production-1969-12-31T00:00:00Z', at: '1969-12-31T00:00:05Z' };
    const stale = new RecordingExecutor([
      { match: /cat \/var\/lib/, result: { stdout: JSON.stringify(old) } },
    ]);
    await expect(runBackup(fakeEffects(stale), sc, 'production')).rejects.toThrow(
      'the backup unit did not run',
    );
    await expect(runBackup(fakeEffects(stale), sc, 'staging')).rejects.toThrow(
      'staging is not backed up: backups.source is production',
    );
  });

  it("lists archives with borg info in a transient unit that reads the timer's environment file", async () => {
    const exec = new RecordingExecutor([{ match: /borg info/, result: { stdout: INFO } }]);
    const list = await archives(fakeEffects(exec), sc, 'production');
    expect(exec.lines()).toEqual([
      `${SSH_PROD2} ${transient('backup')} borg info --lock-wait 600 --json --glob-archives 'production-*' ${REPO}`,
    ]);
    expect(list.map((a) => [a.name, a.time, a.deduplicatedBytes])).toEqual([
      ['production-2027-01-01T00:00:00Z', '2027-01-01T00:00:01Z', 8000],
      ['production-2027-01-02T00:00:00Z', '2027-01-02T00:00:01Z', 1200],
    ]);
    expect(parseArchiveInfo('{"archives": []}')).toEqual([]);
    const none = new RecordingExecutor([
      { match: /borg info/, result: { code: 2, stderr: `Repository ${REPO} does not exist.` } },
    ]);
    expect(await archives(fakeEffects(none), sc, 'production')).toEqual([]);
    const wrong = new RecordingExecutor([
      {
        match: /borg info/,
        result: {
          code: 2,
          stderr:
            'passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.',
        },
      },
    ]);
    await expect(archives(fakeEffects(wrong), sc, 'production')).rejects.toThrow(
      'cannot list the archives of production: wrong passphrase',
    );
  });

  it('verifies the newest archive: borg check with its data read back, then a manifest that names it', async () => {
    const manifest = { ...MANIFEST, archive: 'production-2027-01-02T00:00:00Z' };
    const exec = new RecordingExecutor([
      { match: /borg info/, result: { stdout: INFO } },
      { match: /borg extract/, result: { stdout: JSON.stringify(manifest) } },
    ]);
    const r = await verifyArchive(fakeEffects(exec), sc, 'production');
    expect(r.archive).toBe('production-2027-01-02T00:00:00Z');
    expect(exec.lines().slice(1)).toEqual([
      `${SSH_PROD2} ${transient('backup')} borg check --lock-wait 600 --archives-only --verify-data ${REPO}::production-2027-01-02T00:00:00Z`,
      `${SSH_PROD2} ${transient('backup')} borg extract --lock-wait 600 --stdout ${REPO}::production-2027-01-02T00:00:00Z run/crvs-backup/crvs-manifest.json`,
    ]);
    const other = new RecordingExecutor([
      { match: /borg extract/, result: { stdout: JSON.stringify(MANIFEST) } },
    ]);
    await expect(
      verifyArchive(fakeEffects(other), sc, 'production', 'production-2027-01-02T00:00:00Z'),
    ).rejects.toThrow('its manifest names another archive (production-2027-01-01T00:00:00Z)');
    const corrupt = new RecordingExecutor([
      {
        match: /borg check/,
        result: { code: 1, stderr: 'Archive production-2027-01-02T00:00:00Z: 1 chunk corrupted' },
      },
    ]);
    await expect(
      verifyArchive(fakeEffects(corrupt), sc, 'production', 'production-2027-01-02T00:00:00Z'),
    ).rejects.toThrow(
      "production-2027-01-02T00:00:00Z failed borg's check: Archive production-2027-01-02T00:00:00Z: 1 chunk corrupted",
    );
  });

  it('restores into staging through the drill, a named archive or verify-only on request, and fails on its verdict', async () => {
    const ok = {
      environment: 'staging',
      source: 'production',
      startedAt: '2027-01-02T01:00:00Z',
      result: 'ok',
      archive: 'production-2027-01-01T00:00:00Z',
      ageMinutes: 1500,
      durationSeconds: 40,
      detail: 'production-2027-01-01T00:00:00Z verified and restored',
    };
    const exec = new RecordingExecutor([
      { match: /crvs-restore/, result: { stdout: `${JSON.stringify(ok)}\n` } },
    ]);
    const r = await restore(fakeEffects(exec), sc, 'staging', {
      from: 'production',
      archive: 'production-2027-01-01T00:00:00Z',
    });
    expect(r.result).toBe('ok');
    const SSH_STAGING = SSH_PROD2.replace('10.77.0.22', '10.77.0.31');
    expect(exec.lines()).toEqual([
      `${SSH_STAGING} ${transient('restore')} env CRVS_RESTORE_PLAN=/etc/crvs/restore/plan.json CRVS_RESTORE_ARCHIVE=production-2027-01-01T00:00:00Z /usr/local/sbin/crvs-restore`,
    ]);
    const stale = { ...ok, result: 'stale', detail: 'the newest archive is 3000 minutes old' };
    const refused = new RecordingExecutor([
      { match: /crvs-restore/, result: { code: 1, stdout: JSON.stringify(stale) } },
    ]);
    await expect(
      restore(fakeEffects(refused), sc, 'staging', { from: 'production', verifyOnly: true }),
    ).rejects.toThrow('restore of staging: stale: the newest archive is 3000 minutes old');
    expect(refused.lines()[0]).toContain(' CRVS_RESTORE_VERIFY_ONLY=1 /usr/local/sbin/crvs-restore');
    await expect(restore(fakeEffects(exec), sc, 'qa', { from: 'production' })).rejects.toThrow(
      "qa does not restore production's backups",
    );
    // qa with a restore section in its spec: the same drill, on qa's data node, with qa's plan.
    const qa = new RecordingExecutor([
      {
        match: /crvs-restore/,
        result: { stdout: `${JSON.stringify({ ...ok, environment: 'qa' })}\n` },
      },
    ]);
    const qaSc = { ...sc, spec: labWithQaRestore() };
    expect((await restore(fakeEffects(qa), qaSc, 'qa', { from: 'production' })).environment).toBe('qa');
    expect(qa.lines()).toEqual([
      `${SSH_PROD2.replace('10.77.0.22', '10.77.0.11')} ${transient('restore')} env CRVS_RESTORE_PLAN=/etc/crvs/restore/plan.json /usr/local/sbin/crvs-restore`,
    ]);
    await expect(restore(fakeEffects(exec), sc, 'development', { from: 'production' })).rejects.toThrow(
      'development does not restore',
    );
    await expect(restore(fakeEffects(exec), sc, 'production', { from: 'production' })).rejects.toThrow(
      'restoring into production replaces its live records: that is disaster recovery',
    );
    await expect(
      restore(fakeEffects(exec), sc, 'staging', { from: 'production', disasterRecovery: true }),
    ).rejects.toThrow('--disaster-recovery is for production itself');
    await expect(restore(fakeEffects(exec), sc, 'staging', { from: 'qa' })).rejects.toThrow(
      '--from qa: only production is backed up',
    );
  });

  /**
   * Swarm's side of scaling, as the manager answers it: `docker service scale --detach` returns at once, and
   * `docker service ps` shows the tasks on their way for one poll (the running ones still stopping, or new ones
   * starting), then converged.
   */
  class SwarmExecutor extends RecordingExecutor {
    private readonly running = new Map([
      ['crvs_app', 2],
      ['crvs_documents', 1],
    ]);
    private readonly moving = new Map<string, number>();
    override async run(command: Parameters<RecordingExecutor['run']>[0]) {
      const result = await super.run(command);
      const line = command.argv.join(' ');
      const scale = /docker service scale --detach (.+)$/.exec(line);
      for (const pair of scale?.[1]?.split(' ') ?? []) {
        const [service = '', n = ''] = pair.split('=');
        this.moving.set(service, Number(n));
      }
      const ps = /docker service ps --format '\{\{\.CurrentState\}\}' (\S+)$/.exec(line);
      if (!ps?.[1]) return result;
      const service = ps[1];
      const target = this.moving.get(service);
      const now = this.running.get(service) ?? 0;
      if (target !== undefined) {
        this.moving.delete(service);
        this.running.set(service, target);
        const states =
          target === 0 ? Array(now).fill('Running 2 hours ago') : Array(target).fill('Starting 1 second ago');
        return { ...result, stdout: `${states.join('\n')}\n` };
      }
      const states = [...Array(now).fill('Running 1 second ago'), 'Shutdown 5 seconds ago'];
      return { ...result, stdout: `${states.join('\n')}\n` };
    }
  }

  describe('disaster recovery of production from its own repository', () => {
    const SSH_PROD1 = SSH_PROD2.replace('10.77.0.22', '10.77.0.21');
    const recovered = {
      environment: 'production',
      source: 'production',
      startedAt: '2027-01-03T09:00:00Z',
      result: 'ok',
      archive: 'production-2027-01-02T00:00:00Z',
      ageMinutes: 2100,
      durationSeconds: 50,
      counts: { 'postgres.public.records': 3, 'postgres.public.users': 5 },
      detail: 'production-2027-01-02T00:00:00Z verified and restored',
    };
    const status = { result: 'ok', archive: 'production-1970-01-01T00:00:00Z', at: '1970-01-01T00:00:05Z' };
    const responses = (over: { restore?: object; stats?: object; backup?: number } = {}) => [
      { match: /borg info/, result: { stdout: INFO } },
      { match: /systemctl start/, result: { code: over.backup ?? 0 } },
      { match: /last-run\.json/, result: { stdout: JSON.stringify(status) } },
      { match: /service inspect .*crvs_app$/, result: { stdout: '2\n' } },
      { match: /service inspect .*crvs_documents$/, result: { stdout: '1\n' } },
      { match: /crvs-restore/, result: { stdout: JSON.stringify(over.restore ?? recovered) } },
      {
        match: /curl/,
        result: { stdout: JSON.stringify(over.stats ?? { records: 3, users: 5, offices: 4 }) },
      },
    ];
    const answers = (over: Parameters<typeof responses>[0] = {}) => new SwarmExecutor(responses(over));

    const tasks = [
      `${SSH_PROD1} sudo -n docker service ps --format '{{.CurrentState}}' crvs_app`,
      `${SSH_PROD1} sudo -n docker service ps --format '{{.CurrentState}}' crvs_documents`,
    ];
    tasks.push(...tasks);

    it('chooses the archive, backs up what is there, stops the app on the manager, restores on the data node, starts it and checks its counts', async () => {
      const exec = answers();
      const r = await restore(fakeEffects(exec), sc, 'production', {
        from: 'production',
        disasterRecovery: true,
      });
      expect(r).toMatchObject({ result: 'ok', archive: 'production-2027-01-02T00:00:00Z' });
      expect(r.freshBackup).toBe('production-1970-01-01T00:00:00Z');
      expect(exec.lines()).toEqual([
        `${SSH_PROD2} ${transient('backup')} borg info --lock-wait 600 --json --glob-archives 'production-*' ${REPO}`,
        `${SSH_PROD2} sudo -n systemctl start crvs-backup.service`,
        `${SSH_PROD2} sudo -n cat /var/lib/crvs/backup/last-run.json`,
        `${SSH_PROD2} ${transient('backup')} borg key export ${REPO}`,
        `${SSH_PROD1} sudo -n docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' crvs_app`,
        `${SSH_PROD1} sudo -n docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' crvs_documents`,
        // Both services at once, then their tasks polled until each has converged (one poll still on the way).
        `${SSH_PROD1} sudo -n docker service scale --detach crvs_app=0 crvs_documents=0`,
        ...tasks,
        // The archive chosen before the fresh backup, which is now the newest: never the empty state just saved.
        `${SSH_PROD2} ${transient('backup')} env CRVS_RESTORE_PLAN=/etc/crvs/backup/recovery-plan.json CRVS_RESTORE_ARCHIVE=production-2027-01-02T00:00:00Z /usr/local/sbin/crvs-restore`,
        `${SSH_PROD1} sudo -n docker service scale --detach crvs_app=2 crvs_documents=1`,
        ...tasks,
        `${SSH_PROD1} curl --silent --show-error --fail --max-time 5 http://127.0.0.1/stats`,
      ]);
    });

    it('starts the app again when the restore fails, and stops before anything when the fresh backup fails', async () => {
      const corrupt = { ...recovered, result: 'corrupt', detail: 'borg check exited 1' };
      const exec = answers({ restore: corrupt });
      await expect(
        restore(fakeEffects(exec), sc, 'production', { from: 'production', disasterRecovery: true }),
      ).rejects.toThrow('restore of production: corrupt: borg check exited 1');
      expect(exec.lines().slice(-5)).toEqual([
        `${SSH_PROD1} sudo -n docker service scale --detach crvs_app=2 crvs_documents=1`,
        ...tasks,
      ]);
      const noBackup = answers({ backup: 1 });
      await expect(
        restore(fakeEffects(noBackup), sc, 'production', { from: 'production', disasterRecovery: true }),
      ).rejects.toThrow('the backup of production failed');
      expect(noBackup.lines().some((l) => /service scale|crvs-restore/.test(l))).toBe(false);
      // No stack to stop (never deployed): refused before anything is stopped.
      const noStack = new RecordingExecutor([
        { match: /service inspect/, result: { stdout: '' } },
        ...responses(),
      ]);
      await expect(
        restore(fakeEffects(noStack), sc, 'production', { from: 'production', disasterRecovery: true }),
      ).rejects.toThrow('crvs_app has no replica count on the manager (empty)');
      expect(noStack.lines().some((l) => /service scale|crvs-restore/.test(l))).toBe(false);
    });

    it("fails when the started app does not answer the archive's counts", async () => {
      const exec = answers({ stats: { records: 0, users: 5, offices: 4 } });
      await expect(
        restore(fakeEffects(exec), sc, 'production', { from: 'production', disasterRecovery: true }),
      ).rejects.toThrow(
        'production was restored from production-2027-01-02T00:00:00Z but its app does not agree: records: the app counts 0, the archive holds 3',
      );
    });

    it("with the opencrvs preset: stops every replicated service but the stores, and trusts the data node's counts", async () => {
      const national: SpecContext = { ...sc, spec: exampleSpec('national') };
      const services =
        'crvs_gateway\ncrvs_mongo1\ncrvs_minio\ncrvs_postgres\ncrvs_elasticsearch\ncrvs_influxdb\ncrvs_redis\n';
      const exec = new SwarmExecutor([
        { match: /docker service ls/, result: { stdout: services } },
        { match: /service inspect/, result: { stdout: '1\n' } },
        ...responses(),
      ]);
      const r = await restore(fakeEffects(exec), national, 'production', {
        from: 'production',
        disasterRecovery: true,
      });
      expect(r).toMatchObject({ result: 'ok', freshBackup: 'production-1970-01-01T00:00:00Z' });
      expect(
        exec
          .lines()
          .filter((l) => /docker service (ls|scale)|crvs-restore|curl/.test(l))
          .map((l) => l.replace(/^ssh .* crvs@\S+ /, '')),
      ).toEqual([
        "sudo -n docker service ls --filter label=com.docker.stack.namespace=crvs --filter mode=replicated --format '{{.Name}}'",
        'sudo -n docker service scale --detach crvs_gateway=0 crvs_minio=0',
        `${transient('backup')} env CRVS_RESTORE_PLAN=/etc/crvs/backup/recovery-plan.json CRVS_RESTORE_ARCHIVE=production-2027-01-02T00:00:00Z /usr/local/sbin/crvs-restore`,
        'sudo -n docker service scale --detach crvs_gateway=1 crvs_minio=1',
      ]);
    });

    it('verifies only on request: no backup, no stop, the recovery plan in verify-only mode', async () => {
      const exec = answers({ restore: { ...recovered, detail: 'verified (verify only)' } });
      await restore(fakeEffects(exec), sc, 'production', { from: 'production', verifyOnly: true });
      expect(exec.lines()).toEqual([
        `${SSH_PROD2} ${transient('backup')} env CRVS_RESTORE_PLAN=/etc/crvs/backup/recovery-plan.json CRVS_RESTORE_VERIFY_ONLY=1 /usr/local/sbin/crvs-restore`,
      ]);
    });
  });

  it('reads the drills newest first, and none before the first', async () => {
    const line = (result: string, startedAt: string) =>
      JSON.stringify({
        environment: 'staging',
        source: 'production',
        startedAt,
        result,
        durationSeconds: 1,
        detail: result,
      });
    const exec = new RecordingExecutor([
      {
        match: /restore-drills/,
        result: {
          stdout: `${line('ok', '2027-01-01T01:00:00Z')}\n${line('stale', '2027-01-02T01:00:00Z')}\n`,
        },
      },
    ]);
    expect((await drills(fakeEffects(exec), sc, 'staging')).map((d) => d.result)).toEqual(['stale', 'ok']);
    const none = new RecordingExecutor([
      {
        match: /restore-drills/,
        result: {
          code: 1,
          stderr: 'cat: /var/lib/crvs/backup/restore-drills.jsonl: No such file or directory',
        },
      },
    ]);
    expect(await drills(fakeEffects(none), sc, 'staging')).toEqual([]);
  });
});

describe('crvs backup prune, from where the store is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crvs-prune-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const specFile = join(dir, 'crvs.yaml');
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'production.age'), 'sealed');
  writeFileSync(join(dir, 'id'), 'key');
  const ctx: SpecContext = {
    ...sc,
    specFile,
    identity: join(dir, 'id'),
    knownHosts: join(dir, 'known_hosts'),
  };
  const PASS = 'canary-passphrase-4d1c9e';
  const store = JSON.stringify({
    secrets: {
      BACKUP_ENCRYPTION_PASSPHRASE: { value: PASS, setAt: '2027-01-01T00:00:00Z' },
      BACKUP_PRUNE_SSH_KEY: {
        value: '-----BEGIN OPENSSH PRIVATE KEY-----\n...',
        setAt: '2027-01-01T00:00:00Z',
      },
    },
  });
  const list = (...names: string[]) =>
    JSON.stringify({
      archives: names.map((name) => ({ name, time: `${name.slice(11, 30)}.000000`, id: name })),
    });
  const days = Array.from(
    { length: 9 },
    (_, i) => `production-2027-01-${String(i + 1).padStart(2, '0')}T00:00:00Z`,
  );

  it('prunes what backups.retention does not keep, hands borg the passphrase on stdin, and records what is left', async () => {
    const exec = new RecordingExecutor([
      { match: /^age --decrypt/, result: { stdout: store } },
      { match: /^borg list/, result: { stdout: list(...days) } },
    ]);
    const r = await pruneBackups(fakeEffects(exec), ctx, 'production');
    // 7 daily archives kept, and the oldest as the weekly rule's last (borg keeps the oldest when a rule runs out).
    expect(r.prune).toEqual(['production-2027-01-02T00:00:00Z']);
    expect(r.keep).toHaveLength(8);
    expect(r.firstRun).toBe(true);
    const borg = exec.commands.filter((c) => c.argv[0] === 'borg');
    expect(borg.map((c) => c.argv.slice(0, 2).join(' '))).toEqual([
      'borg list',
      'borg prune',
      'borg compact',
      'borg list',
    ]);
    expect(borg[1]?.argv).toEqual([
      'borg',
      'prune',
      '--lock-wait',
      '600',
      '--list',
      '--glob-archives',
      'production-*',
      '--keep-daily',
      '7',
      '--keep-weekly',
      '4',
      '--keep-monthly',
      '12',
      REPO,
    ]);
    for (const c of borg) {
      expect(c.argv.join(' ')).not.toContain(PASS);
      expect(JSON.stringify(c.env)).not.toContain(PASS);
      expect((c.stdin as { reveal(): string }).reveal()).toBe(PASS);
      expect(c.env?.BORG_PASSPHRASE_FD).toBe('0');
      expect(c.env?.BORG_RSH).toMatch(
        /^ssh -i \/tmp\/crvs-prune-\w+\/id -p 22 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/,
      );
    }
    const record = JSON.parse(readFileSync(join(dir, 'backups', 'production-archives.json'), 'utf8'));
    expect(record.archives).toEqual(days);
  });

  it('refuses to prune when a recorded archive vanished (an append-only delete), and changes nothing', async () => {
    const exec = new RecordingExecutor([
      { match: /^age --decrypt/, result: { stdout: store } },
      { match: /^borg list/, result: { stdout: list(...days.filter((d) => d !== days[4])) } },
    ]);
    await expect(pruneBackups(fakeEffects(exec), ctx, 'production')).rejects.toThrow(
      `1 archive vanished since the last prune, which retention did not remove: ${days[4]}`,
    );
    expect(exec.commands.filter((c) => c.argv[0] === 'borg').map((c) => c.argv[1])).toEqual(['list']);
  });

  it('shows the plan with --dry-run and neither prunes nor records', async () => {
    const exec = new RecordingExecutor([
      { match: /^age --decrypt/, result: { stdout: store } },
      { match: /^borg list/, result: { stdout: list(...days) } },
    ]);
    const before = readFileSync(join(dir, 'backups', 'production-archives.json'), 'utf8');
    const r = await pruneBackups(fakeEffects(exec), ctx, 'production', { dryRun: true });
    expect([r.dryRun, r.prune.length]).toEqual([true, 1]);
    expect(exec.commands.filter((c) => c.argv[0] === 'borg').map((c) => c.argv[1])).toEqual(['list']);
    expect(readFileSync(join(dir, 'backups', 'production-archives.json'), 'utf8')).toBe(before);
  });
});
