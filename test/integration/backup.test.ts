import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  crvsBin,
  ensureDefaultLab,
  ensureProvisioned,
  type LabInfo,
  labCommands,
  recordProvisioned,
} from './helpers/lab.js';
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DOCUMENTS = '/data/documents';
/** The alerts the lab's receiver got from a server since a moment (crvs lab alerts). */
interface Alert {
  received: string;
  from: string;
  body: { event?: string; unit?: string; server?: string; details?: string; text?: string };
}
const alertsSince = (since: number) =>
  (JSON.parse(crvsBin(['lab', 'alerts', '--json']).stdout) as Alert[]).filter(
    (a) => Date.parse(a.received) >= since,
  );
async function waitForAlert(since: number, match: (a: Alert) => boolean): Promise<Alert | undefined> {
  // Up to a minute (the alert unit reads the journal, then posts with a 10 s timeout). A wait that ends empty says
  // little by itself: the test prints the alert unit's status, which is how a dead webhook was found.
  for (let i = 0; i < 120; i++) {
    const hit = alertsSince(since).find(match);
    if (hit) return hit;
    await sleep(500);
  }
  return undefined;
}
/** Every row of production's records table, as one digest (run inside the data node's database container). */
const recordsDigest = () =>
  root(
    'prod-2',
    'docker exec --user postgres "$(docker ps -q --filter label=com.docker.swarm.service.name=crvs_db)" ' +
      `psql -d crvs -Atc "SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY r.id)) FROM records r"`,
  ).stdout.trim();
/** Every attachment file with its digest. */
const attachmentsDigest = () =>
  root(
    'prod-2',
    `cd ${DOCUMENTS} && find . -type f -exec sha256sum {} + | sort | sha256sum; find . -type f | wc -l`,
  ).stdout.trim();

/**
 * Moves a systemd timer of a lab server to a few seconds from now, so that it fires by itself; waits until `done`
 * holds and the service has ended (up to `seconds`); then puts the spec's schedule back.
 */
async function fireSoon(
  server: string,
  unit: string,
  done: () => boolean,
  seconds: number,
): Promise<boolean> {
  const dropIn = `/run/systemd/system/${unit}.timer.d`;
  const soon = new Date(Date.now() + 8000).toISOString().replace('T', ' ').slice(0, 19);
  root(
    server,
    `mkdir -p ${dropIn} && printf '[Timer]\\nOnCalendar=\\nOnCalendar=${soon} UTC\\n' > ${dropIn}/soon.conf && systemctl daemon-reload && systemctl restart ${unit}.timer`,
  );
  try {
    for (let i = 0; i < seconds; i++) {
      await sleep(1000);
      if (done() && root(server, `systemctl is-active ${unit}.service`).stdout.trim() !== 'activating')
        return true;
    }
    return false;
  } finally {
    root(server, `rm -rf ${dropIn} && systemctl daemon-reload && systemctl restart ${unit}.timer`);
  }
}
/** When a timer of a lab server fires next, as systemd says it. */
const nextElapse = (server: string, unit: string) =>
  root(server, `systemctl show ${unit}.timer -p NextElapseUSecRealtime --value`).stdout.trim();
/** The next time a daily schedule at `hour`:00 UTC comes, as systemd prints it. */
const nextDaily = (hour: number) => {
  const at = new Date();
  at.setUTCHours(hour, 0, 0, 0);
  if (at.getTime() <= Date.now()) at.setUTCDate(at.getUTCDate() + 1);
  return new RegExp(`^\\w{3} ${at.toISOString().slice(0, 10)} ${String(hour).padStart(2, '0')}:00:00 UTC$`);
};

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
    const result = JSON.parse(run.stdout) as { result: string; archive: string; repositoryKey: string };
    expect(result.result).toBe('ok');
    // The first backup stores the key's copy; a later one finds the same key there.
    expect(result.repositoryKey).toMatch(/^(stored|unchanged)$/);
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

  it("keeps a copy of the repository key in production's store: with it, a repository whose key is destroyed opens again", () => {
    expect(archive).not.toBe('');
    // Recovery as docs/backups.md tells it, on this host as the trusted machine: a copy of the backup server's
    // repository, its key removed from its config, opened again with only what production's store holds.
    const dir = mkdtempSync(join(tmpdir(), 'crvs-key-import-'));
    try {
      const copy = join(dir, 'repo');
      const cp = spawnSync('docker', ['cp', `${container('backup-1')}:/srv/borg/repos/production`, copy], {
        encoding: 'utf8',
      });
      expect(cp.stderr).toBe('');
      const config = join(copy, 'config');
      writeFileSync(config, readFileSync(config, 'utf8').replace(/^key = .*\n(?:[ \t].*\n)*/m, ''));
      const keyFile = join(dir, 'key');
      writeFileSync(
        keyFile,
        `${must('secrets', 'get', 'production', 'BACKUP_REPOSITORY_KEY').stdout.trim()}\n`,
        {
          mode: 0o600,
        },
      );
      const borg = (...args: string[]) =>
        spawnSync('borg', args, {
          input: passphrase,
          encoding: 'utf8',
          env: { ...process.env, BORG_PASSPHRASE_FD: '0', BORG_BASE_DIR: join(dir, 'home') },
        });
      const before = borg('list', '--short', copy);
      expect([before.status, before.stderr.trim()]).toEqual([
        2,
        `No key entry found in the config of repository ${copy}.`,
      ]);
      expect(borg('key', 'import', copy, keyFile).status).toBe(0);
      const after = borg('list', '--short', copy);
      expect(after.stderr).toBe('');
      expect(after.stdout.split('\n')).toContain(archive);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

  it("forwards every production and staging server's journal to the backup server, each into its own file, none lost while the link is down; the key works from nowhere else", async () => {
    const canary = `journal-canary-${randomBytes(6).toString('hex')}`;
    const senders = ['prod-1', 'prod-2', 'staging-1'];
    /** What backup-1 holds of the canary, per file: "<file> <message>" lines, sorted. */
    const received = () =>
      root(
        'backup-1',
        `cd /var/log/crvs-journal && for f in *.journal; do journalctl --file "$f" -t crvs-canary -o cat | grep -F ${canary} | sed "s/^/$f /"; done | sort`,
      ).stdout;
    const waitFor = async (lines: string[]) => {
      const want = `${lines.join('\n')}\n`;
      // Batches leave every 10 s; a minute is plenty.
      for (let i = 0; i < 60 && received() !== want; i++) await sleep(1000);
      return received();
    };
    for (const server of senders) root(server, `logger -t crvs-canary ${canary}-${server}`);
    expect(await waitFor(senders.map((s) => `${s}.journal ${canary}-${s}`))).toBe(
      `${senders.map((s) => `${s}.journal ${canary}-${s}`).join('\n')}\n`,
    );
    // The files are the journal account's, readable by root and adm only; nothing listens for journals.
    expect(root('backup-1', 'stat -c %U:%G:%a /var/log/crvs-journal').stdout).toBe('crvs-logs:adm:2750\n');
    expect(root('backup-1', 'systemctl is-enabled systemd-journal-remote.socket').stdout.trim()).toBe(
      'masked',
    );

    // prod-1 cannot reach the backup server for a while: what it logs then arrives once the link is back, and the
    // outage is alerted once when it has lasted (10 s here, by the test's own hands; 5 minutes as provisioned) and
    // once when it is over.
    const settings = '/etc/crvs/journal/forward.env';
    const alertAfter = (seconds: number) =>
      root(
        'prod-1',
        `sed -i 's/^CRVS_JOURNAL_ALERT_AFTER=.*/CRVS_JOURNAL_ALERT_AFTER=${seconds}/' ${settings} && systemctl restart crvs-journal-forward`,
      );
    expect(alertAfter(10).status).toBe(0);
    const block = 'iptables -w -I OUTPUT -d 10.77.0.41 -p tcp --dport 22 -j REJECT --reject-with tcp-reset';
    const since = Date.now();
    expect(root('prod-1', block).status).toBe(0);
    try {
      root('prod-1', `logger -t crvs-canary ${canary}-offline`);
      const failing = await waitForAlert(
        since,
        (a) => a.body.event === 'journal-forward-failing' && a.body.server === 'prod-1',
      );
      expect(failing?.body.text).toMatch(
        /^the journal has not reached the backup server 10\.77\.0\.41 since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; the entries wait on this server on prod-1 \(production\)$/,
      );
      expect(received()).not.toContain(`${canary}-offline`);
      const log = root('prod-1', 'journalctl -u crvs-journal-forward --since -60s -o cat').stdout;
      expect(log).toContain('the backup server did not take the batch');
    } finally {
      root('prod-1', block.replace(' -I ', ' -D '));
    }
    const back = [
      ...senders.map((s) => `${s}.journal ${canary}-${s}`),
      `prod-1.journal ${canary}-offline`,
    ].sort();
    expect(await waitFor(back)).toBe(`${back.join('\n')}\n`);
    expect(
      await waitForAlert(
        since,
        (a) => a.body.event === 'journal-forward-recovered' && a.body.server === 'prod-1',
      ),
    ).toBeDefined();
    expect(alertAfter(300).status).toBe(0);
    expect(root('prod-1', `grep ALERT_AFTER ${settings}`).stdout).toBe('CRVS_JOURNAL_ALERT_AFTER=300\n');

    // The key from another server (qa-1, whose address is not production's) is refused; from prod-1 it runs only
    // the receiving command, whatever it asks for.
    const key = root('prod-1', 'cat /etc/crvs/journal/id_ed25519').stdout;
    const ssh = (server: string, command: string) =>
      spawnSync(
        'docker',
        [
          'exec',
          '-i',
          container(server),
          'sh',
          '-c',
          `umask 077; cat > /root/journal-key; ssh -i /root/journal-key -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null crvs-logs@10.77.0.41 '${command}' </dev/null; s=$?; rm -f /root/journal-key; exit $s`,
        ],
        { input: key, encoding: 'utf8' },
      );
    const elsewhere = ssh('qa-1', 'true');
    expect(elsewhere.status).toBe(255);
    expect(elsewhere.stderr).toContain('Permission denied (publickey)');
    // Accepted (the receiving command stores an empty batch and exits 0), yet the command asked for never ran.
    expect(ssh('prod-1', 'touch /tmp/journal-key-shell').status).toBe(0);
    expect(root('backup-1', 'test -e /tmp/journal-key-shell; echo $?').stdout.trim()).toBe('1');
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

    // The daily drill fires by itself: its timer, moved to a few seconds from now, runs crvs-restore.service, which
    // takes the newest archive (the one above), verifies it and swaps it in. (`crvs restore` runs the same program
    // over SSH: the disaster recovery below goes through it.)
    const drillLog = '/var/lib/crvs/backup/restore-drills.jsonl';
    const drillLines = () => root('staging-1', `cat ${drillLog} | wc -l`).stdout.trim();
    const linesBefore = drillLines();
    expect(await fireSoon('staging-1', 'crvs-restore', () => drillLines() !== linesBefore, 240)).toBe(true);
    expect(root('staging-1', 'systemctl show crvs-restore.service -p Result --value').stdout.trim()).toBe(
      'success',
    );
    const report = json<{ result: string; archive: string; counts: Record<string, number> }[]>(
      'backup',
      'drills',
      'staging',
    )[0];
    expect(report).toMatchObject({ result: 'ok', archive });
    expect(report?.counts['postgres.public.records']).toBe(production.records);
    // Back on environments.staging.restore.schedule ("0 1 * * *"): next 01:00, UTC.
    expect(nextElapse('staging-1', 'crvs-restore')).toMatch(nextDaily(1));
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

  it("restores production's archive into qa when qa's spec asks for it, and takes the drill and production's passphrase off qa when the spec no longer does", async () => {
    expect(archive).not.toBe('');
    const QA = '10.77.0.11';
    // The lab's spec with qa restoring production on demand: a country's choice, and then qa holds citizen data
    // (no test 2FA codes). Beside the lab's spec, so that it shares its stores and known_hosts.
    const spec = join(lab.dir, 'crvs-qa-restore.yaml');
    const text = readFileSync(lab.spec, 'utf8');
    const qaRestores = text.replace(
      '  qa:\n    testTwoFactorCodes: true\n',
      '  qa:\n    restore: { source: production }\n',
    );
    expect(qaRestores).not.toBe(text);
    writeFileSync(spec, qaRestores);
    const withSpec = (file: string, ...args: string[]) =>
      keep(crvsBin([...args, '--spec', file], { env: env() }));
    const authorized = () =>
      root('backup-1', 'cat /srv/borg/.ssh/authorized_keys')
        .stdout.split('\n')
        .filter((l) => /^command=/.test(l));
    const journalKeys = () =>
      root('backup-1', 'cat /var/lib/crvs-journal/.ssh/authorized_keys')
        .stdout.split('\n')
        .filter((l) => /^from=/.test(l));
    const hosts = (r: { stdout: string }) =>
      (
        JSON.parse(r.stdout) as { stats: Record<string, { failures: number; unreachable: number }> }[]
      ).flatMap((x) => Object.entries(x.stats));
    try {
      // Only the backup roles: the lab's firewalls already let its whole network reach SSH (a country provisions
      // qa and the backup server whole, which opens the backup server to qa's address).
      const wired = withSpec(spec, 'provision', 'qa', 'backup', '--tags', 'backup', '--json');
      expect(wired.status, wired.stderr.slice(-3000)).toBe(0);
      for (const [, s] of hosts(wired)) expect(s).toMatchObject({ failures: 0, unreachable: 0 });
      // backup-1 lets qa's own key in, append-only and restricted to production's repository.
      expect(authorized().filter((l) => l.endsWith(' crvs-restore@qa-1'))).toEqual([
        expect.stringMatching(
          /^command="borg serve --restrict-to-repository \/srv\/borg\/repos\/production --append-only",restrict ssh-ed25519 \S+ crvs-restore@qa-1$/,
        ),
      ]);
      // qa now holds citizen data: its server forwards its journal too, with qa's own key, accepted from qa-1 only.
      expect(root('qa-1', 'systemctl is-active crvs-journal-forward').stdout.trim()).toBe('active');
      expect(journalKeys().filter((l) => l.endsWith(' crvs-journal@qa'))).toEqual([
        expect.stringMatching(
          /^from="10\.77\.0\.11",restrict,command="\/usr\/local\/sbin\/crvs-journal-receive" ssh-ed25519 \S+ crvs-journal@qa$/,
        ),
      ]);
      // No schedule for qa: the drill is installed, no timer runs it.
      expect(root('qa-1', 'systemctl cat crvs-restore.service >/dev/null && echo unit').stdout.trim()).toBe(
        'unit',
      );
      expect(root('qa-1', 'systemctl cat crvs-restore.timer').status).not.toBe(0);
      expect((await call(QA, 'GET', `/records/${recordId}`)).status).toBe(404);

      const restored = withSpec(spec, 'restore', 'qa', '--from', 'production', '--yes', '--json');
      expect(restored.status, restored.stderr.slice(-3000)).toBe(0);
      expect(JSON.parse(restored.stdout)).toMatchObject({
        environment: 'qa',
        source: 'production',
        result: 'ok',
        archive,
      });
      expect(await stats(QA)).toMatchObject({
        records: production.records,
        users: production.users,
        offices: production.offices,
      });
      expect((await call(QA, 'GET', `/records/${recordId}`)).json).toMatchObject({
        id: recordId,
        name: 'Backed Up',
        attachmentVerified: true,
      });
      const drills = JSON.parse(withSpec(spec, 'backup', 'drills', 'qa', '--json').stdout) as {
        result: string;
        archive: string;
      }[];
      expect(drills.map((d) => [d.result, d.archive])).toEqual([['ok', archive]]);
    } finally {
      rmSync(spec, { force: true });
    }
    // The lab's own spec again, where qa restores nothing: the drill, its key and production's passphrase leave
    // qa-1, and backup-1 no longer lets qa's key in. (What qa restored stays: crvs reset qa removes it.)
    const back = withSpec(lab.spec, 'provision', 'qa', 'backup', '--tags', 'backup', '--json');
    expect(back.status, back.stderr.slice(-3000)).toBe(0);
    expect(root('qa-1', 'ls /etc/crvs/restore /etc/systemd/system/crvs-restore.service').status).not.toBe(0);
    expect(root('qa-1', 'systemctl cat crvs-restore.service').status).not.toBe(0);
    expect(authorized().filter((l) => l.includes('crvs-restore@qa-1'))).toEqual([]);
    expect(authorized().filter((l) => l.includes('crvs-restore@staging-1'))).toHaveLength(1);
    // The journal forwarder and its key leave qa-1 too, and backup-1 no longer takes qa's key; production's and
    // staging's stay.
    expect(root('qa-1', 'systemctl cat crvs-journal-forward.service').status).not.toBe(0);
    expect(root('qa-1', 'ls /etc/crvs/journal /usr/local/sbin/crvs-journal-forward').status).not.toBe(0);
    expect(journalKeys().map((l) => l.split(' ').pop())).toEqual([
      'crvs-journal@production',
      'crvs-journal@staging',
    ]);
    // The drill's record stays on qa-1.
    expect(root('qa-1', 'wc -l < /var/lib/crvs/backup/restore-drills.jsonl').stdout.trim()).toBe('1');
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
  it('fails loudly on a wrong passphrase, an unreachable backup server and a full one, alerting while production serves; a killed backup leaves a repository the next run and borg check accept', async () => {
    expect(archive).not.toBe('');
    // A wrong passphrase: a clear error, nothing written.
    const pass = '/etc/crvs/backup/passphrase';
    root('prod-2', `cp -p ${pass} ${pass}.keep && chmod 0600 ${pass} && echo not-the-passphrase > ${pass}`);
    try {
      const wrong = keep(crvs('backup', 'list', 'production'));
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toContain(
        'wrong passphrase: the passphrase in the secrets store does not open this repository',
      );
    } finally {
      root('prod-2', `mv ${pass}.keep ${pass}`);
    }

    // The backup server unreachable from production: the run fails with the reason and the failure alerts.
    let since = Date.now() - 1000;
    const block = 'OUTPUT -d 10.77.0.41 -p tcp --dport 22 -j REJECT';
    expect(root('prod-2', `iptables -I ${block}`).status).toBe(0);
    try {
      const unreachable = keep(crvs('backup', 'run', 'production'));
      expect(unreachable.status).toBe(1);
      expect(unreachable.stderr).toContain(
        'the backup of production failed: the backup server is unreachable over SSH',
      );
      // ...and production kept serving meanwhile.
      expect((await call(PROD, 'GET', '/stats')).status).toBe(200);
    } finally {
      root('prod-2', `iptables -D ${block}`);
    }
    const alert = await waitForAlert(since, (a) => a.body.unit === 'crvs-backup.service');
    const alertUnit = () =>
      root('prod-2', 'systemctl status --no-pager -n 20 crvs-alert@crvs-backup.service.service').stdout;
    expect(alert?.body, alert ? '' : alertUnit()).toMatchObject({ event: 'unit-failed', server: 'prod-2' });
    expect(alert?.body.details).toContain('unreachable');

    // The backup server out of disk: its repositories on a filesystem with 4 MB left (a tmpfs holding a copy of
    // /srv/borg and ballast, mounted over it; the lab's servers share the host's disk). A day's new attachments do
    // not fit: the run fails with the reason, production alerts and serves meanwhile, and the backup server's own
    // watch alerts on its free space. Unmounted, the real repository is as it was: the next backup below runs there.
    const full = [
      'set -e',
      'used=$(du -sm /srv/borg | cut -f1)',
      'mkdir -p /mnt/crvs-full',
      `mount -t tmpfs -o size=$((used + 64))m,mode=$(stat -c %a /srv/borg),uid=$(stat -c %u /srv/borg),gid=$(stat -c %g /srv/borg) tmpfs /mnt/crvs-full`,
      'cp -a /srv/borg/. /mnt/crvs-full/',
      // Ballast: 4 MB left, under the watch's 15%.
      'avail=$(df --output=avail -m /mnt/crvs-full | tail -n 1)',
      'head -c $((avail - 4))M /dev/zero > /mnt/crvs-full/.ballast',
      'mount --bind /mnt/crvs-full /srv/borg',
    ].join('\n');
    const mounted = root('backup-1', full);
    expect(mounted.status, mounted.stderr).toBe(0);
    root('prod-2', `head -c 40M /dev/urandom > ${DOCUMENTS}/zz-day-of-scans.bin`);
    since = Date.now() - 1000;
    try {
      const noSpace = keep(crvs('backup', 'run', 'production'));
      expect(noSpace.status).toBe(1);
      expect(noSpace.stderr).toContain(
        'the backup of production failed: the backup server is out of disk space',
      );
      expect((await call(PROD, 'GET', '/stats')).status).toBe(200);
      const failed = await waitForAlert(
        since,
        (a) => a.body.unit === 'crvs-backup.service' && /out of disk space/.test(a.body.details ?? ''),
      );
      expect(failed?.body).toMatchObject({ event: 'unit-failed', server: 'prod-2' });
      root('backup-1', 'systemctl start crvs-backup-watch.service');
      const disk = await waitForAlert(
        since,
        (a) => a.body.unit === 'crvs-backup-watch.service' && /backup-disk/.test(a.body.details ?? ''),
      );
      expect(disk?.body).toMatchObject({ event: 'unit-failed', server: 'backup-1' });
      expect(disk?.body.details).toMatch(
        /backup-disk: [\d.]+% free on the repository disk \(alert below 15%\)/,
      );
    } finally {
      root('prod-2', `rm -f ${DOCUMENTS}/zz-day-of-scans.bin`);
      root('backup-1', 'umount /srv/borg; umount /mnt/crvs-full; rmdir /mnt/crvs-full');
    }
    expect(root('backup-1', 'findmnt /srv/borg').status).not.toBe(0);

    // A backup killed -9 mid-run (a large new attachment keeps it busy long enough to be caught in the act).
    root('prod-2', `head -c 600M /dev/urandom > ${DOCUMENTS}/zz-large-upload.bin`);
    try {
      root('prod-2', 'systemctl start --no-block crvs-backup.service');
      let sending = false;
      for (let i = 0; i < 150 && !sending; i++) {
        sending = root('prod-2', 'pgrep -f "[b]org create"').status === 0;
        if (!sending) await sleep(200);
      }
      expect(sending).toBe(true);
      await sleep(2000);
      root('prod-2', 'systemctl kill --signal=KILL crvs-backup.service');
      for (let i = 0; i < 50; i++) {
        if (root('prod-2', 'systemctl is-active crvs-backup.service').stdout.trim() !== 'activating') break;
        await sleep(200);
      }
      expect(root('prod-2', 'systemctl show crvs-backup.service -p Result --value').stdout.trim()).toBe(
        'signal',
      );
    } finally {
      root('prod-2', `rm -f ${DOCUMENTS}/zz-large-upload.bin`);
    }

    // The next backup runs (the killed run's lock and the failed run do not stop it), and the backup server's own
    // check of the whole repository passes, as does borg's check of the new archive with its data read back.
    const next = JSON.parse(keep(must('backup', 'run', 'production', '--json')).stdout) as {
      archive: string;
    };
    expect(JSON.parse(keep(must('backup', 'verify', 'production', '--json')).stdout)).toMatchObject({
      archive: next.archive,
      checked: true,
    });
    const check = root(
      'backup-1',
      'systemctl start crvs-backup-check.service; systemctl show crvs-backup-check.service -p Result --value',
    );
    expect(check.stdout.trim()).toBe('success');

    // The timer fires by itself: moved to a few seconds from now, it starts a backup with no one asking.
    const last = root('prod-2', 'cat /var/lib/crvs/backup/last-run.json').stdout;
    since = Date.now();
    const status = () => root('prod-2', 'cat /var/lib/crvs/backup/last-run.json').stdout;
    expect(await fireSoon('prod-2', 'crvs-backup', () => status() !== last, 90)).toBe(true);
    const fired = JSON.parse(status()) as { result?: string; at?: string };
    expect(fired.result).toBe('ok');
    expect(Date.parse(fired.at ?? '')).toBeGreaterThan(since);
    // Back on the spec's schedule (backups.schedule "0 0 * * *"): next midnight, UTC.
    expect(nextElapse('prod-2', 'crvs-backup')).toMatch(nextDaily(0));
  });

  it('recovers production after its data node is lost with its volumes: rebuilt, provisioned, restored with every record and attachment', async () => {
    expect(archive).not.toBe('');
    const before = await stats(PROD);
    const records = recordsDigest();
    const attachments = attachmentsDigest();
    expect(records).toMatch(new RegExp(`^${before.records} [0-9a-f]{32}$`));
    const newest = json<{ name: string }[]>('backup', 'list', 'production')
      .map((a) => a.name)
      .sort()
      .pop();
    const started = Date.now();

    // The data node is destroyed: its container and Docker's volume (the database and the attachments with it).
    const volumes = spawnSync(
      'docker',
      ['inspect', '--format', '{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}', container('prod-2')],
      { encoding: 'utf8' },
    )
      .stdout.trim()
      .split(' ')
      .filter(Boolean);
    expect(volumes.length).toBeGreaterThan(0);
    expect(spawnSync('docker', ['rm', '--force', container('prod-2')]).status).toBe(0);
    expect(spawnSync('docker', ['volume', 'rm', ...volumes]).status).toBe(0);

    // With production's data node gone, the backup server's dead man's switch still speaks (its limit lowered
    // below zero for this one run: the last archive is only minutes old).
    const since = Date.now() - 1000;
    const config = '/etc/crvs-backup-watch.json';
    root(
      'backup-1',
      `cp -p ${config} ${config}.keep && sed -i 's/"stale_after_minutes": *[0-9]*/"stale_after_minutes": -1/' ${config} && systemctl start crvs-backup-watch.service; mv ${config}.keep ${config}`,
    );
    const missing = await waitForAlert(since, (a) => a.body.unit === 'crvs-backup-watch.service');
    expect(missing?.body).toMatchObject({ event: 'unit-failed', server: 'backup-1' });
    expect(missing?.body.details).toContain('backup-missing: no new archive of production for');

    // A new server in its place (delivered as a hosting provider would), provisioned, the stack placed on it again.
    const workerToken = () => root('prod-1', 'docker swarm join-token -q worker').stdout.trim();
    const tokenBefore = workerToken();
    expect(tokenBefore).toMatch(/^SWMTKN-1-/);
    lab = ensureDefaultLab();
    must('provision', 'production', '--server', 'prod-2');
    // Production is provisioned as its spec says again (the files after this one need not provision it).
    recordProvisioned(lab, ['production']);
    // The token the new prod-2 joined with lets no one else in: the manager rotated it once prod-2 had joined.
    const tokenAfter = workerToken();
    expect(tokenAfter).toMatch(/^SWMTKN-1-/);
    expect(tokenAfter).not.toBe(tokenBefore);
    let empty: Record<string, number> = {};
    for (let i = 0; i < 120 && empty.records !== 0; i++) {
      empty = await stats(PROD).catch(() => ({}));
      if (empty.records !== 0) await sleep(2000);
    }
    expect(empty).toMatchObject({ records: 0 });

    const report = JSON.parse(
      keep(must('restore', 'production', '--from', 'production', '--disaster-recovery', '--yes', '--json'))
        .stdout,
    ) as { result: string; archive: string; freshBackup?: string };
    const seconds = Math.round((Date.now() - started) / 1000);
    expect(report).toMatchObject({ result: 'ok', archive: newest });
    // What the rebuilt production held (nothing) was backed up first, and is not what was restored.
    expect(report.freshBackup).toMatch(/^production-\d{4}-/);
    expect(report.freshBackup).not.toBe(newest);

    expect(await stats(PROD)).toMatchObject({
      records: before.records,
      users: before.users,
      offices: before.offices,
    });
    expect(recordsDigest()).toBe(records);
    expect(attachmentsDigest()).toBe(attachments);
    expect((await call(PROD, 'GET', `/records/${recordId}`)).json).toMatchObject({
      id: recordId,
      name: 'Backed Up',
      attachmentVerified: true,
    });
    // The recovery is reported on production like a drill.
    expect(json<{ result: string; archive?: string }[]>('backup', 'drills', 'production')[0]).toMatchObject({
      result: 'ok',
      archive: newest,
    });
    console.log(
      `disaster recovery of production: ${seconds} s from the loss of prod-2 to its records served again`,
    );
  });
});
