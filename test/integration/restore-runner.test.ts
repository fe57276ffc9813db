import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attachmentListDigest, type Manifest, renderManifest } from '../../src/backup/manifest.js';
import { restorePlan } from '../../src/backup/restore-plan.js';
import { packagePath } from '../../src/paths.js';

// The restore drill's program (crvs-restore, as installed on staging) against a real borg repository on this host:
// its gates before staging's data is touched. The repository is encrypted like production's (repokey-blake2,
// passphrase read through BORG_PASSCOMMAND). Postgres does not run on this host: the plan's database steps are
// replaced by stand-ins that write the streamed dump to a file and answer the counts of the rows this test wrote.
// The real database steps run on the lab in backup.test. No server needed: a few seconds.
const dir = mkdtempSync(join(tmpdir(), 'crvs-restore-runner-'));
const repo = join(dir, 'repo');
const root = join(dir, 'root');
const live = join(dir, 'live');
const into = join(dir, 'live.restore');
const loaded = join(dir, 'loaded.sql');
const alerts = join(dir, 'alerts.txt');
const reportFile = join(dir, 'drills.jsonl');
const planFile = join(dir, 'plan.json');
const passphrase = join(dir, 'passphrase');
const ROWS = 4000;

const env = {
  ...process.env,
  BORG_PASSCOMMAND: `cat ${passphrase}`,
  BORG_BASE_DIR: join(dir, 'borg-home'),
  CRVS_RESTORE_PLAN: planFile,
  CRVS_ALERT: join(dir, 'alert'),
  CRVS_RESTORE_VERIFY_ONLY: '1',
};
const borg = (args: string[], cwd?: string) => execFileSync('borg', args, { env, cwd, stdio: 'pipe' });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Rows of random text: about 8 MB, which borg's lz4 barely compresses, so that the dump is most of the repository.
const dumpText = [
  'SET statement_timeout = 0;',
  'COPY public.records (id, body) FROM stdin;',
  ...Array.from({ length: ROWS }, (_, i) => `${i + 1}\t${randomBytes(1500).toString('base64')}`),
  '\\.',
  '',
].join('\n');
const FILES: Record<string, string> = { 'a.pdf': 'scan a', 'sub/b.pdf': 'scan b, page 1' };

/** A backup as crvs-backup lays it out: the dump and the manifest in the run directory, the documents volume. */
function archive(name: string, withAttachments = true): void {
  const run = join(root, 'run', 'crvs-backup');
  const docs = join(root, 'var/lib/docker/volumes/crvs_documents/_data');
  const files = withAttachments ? FILES : {};
  rmSync(docs, { recursive: true, force: true });
  if (withAttachments) mkdirSync(join(docs, 'sub'), { recursive: true });
  else mkdirSync(join(root, 'var'), { recursive: true });
  mkdirSync(run, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(docs, f), text);
  const dump = Buffer.from(dumpText);
  writeFileSync(join(run, 'postgres-crvs.sql'), dump);
  const attachmentBytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0);
  const m: Manifest = {
    format: 1,
    environment: 'production',
    archive: name,
    release: 'v1.9.0',
    startedAt: new Date().toISOString(),
    stores: [
      {
        name: 'postgres',
        path: 'run/crvs-backup/postgres-crvs.sql',
        records: { 'public.records': ROWS },
        bytes: dump.length,
        sha256: createHash('sha256').update(dump).digest('hex'),
      },
    ],
    attachments: {
      count: Object.keys(files).length,
      bytes: attachmentBytes,
      listSha256: attachmentListDigest(Object.keys(files).map((f) => `documents/${f}`)),
    },
    totalBytes: dump.length + attachmentBytes,
    complete: true,
  };
  writeFileSync(join(run, 'crvs-manifest.json'), renderManifest(m));
  borg(['create', '--compression', 'lz4', `${repo}::${name}`, 'run', 'var'], root);
}

function drill(staleAfterMinutes = 1560) {
  const plan = restorePlan({
    environment: 'staging',
    source: 'production',
    repository: repo,
    staleAfterMinutes,
  });
  plan.dump.dropScratch = ['true'];
  plan.dump.createScratch = ['true'];
  plan.dump.load = ['sh', '-c', `cat > ${loaded}`];
  plan.dump.count = ['printf', `public.records|${ROWS}\n`];
  plan.attachments.into = into;
  plan.attachments.live = live;
  plan.reportFile = reportFile;
  writeFileSync(planFile, JSON.stringify(plan));
  rmSync(loaded, { force: true });
  rmSync(alerts, { force: true });
  const r = spawnSync('python3', [packagePath('ansible/roles/crvs_backup_restore/files/crvs-restore')], {
    env,
    encoding: 'utf8',
  });
  const lines = readFileSync(reportFile, 'utf8').trim().split('\n');
  return {
    status: r.status,
    report: JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>,
    alert: existsSync(alerts) ? readFileSync(alerts, 'utf8') : '',
    liveFiles: readdirSync(live).sort(),
  };
}

const stamp = (d: Date) => `production-${d.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;

describe("the restore drill's gates, against a real borg repository", () => {
  writeFileSync(passphrase, randomBytes(32).toString('base64url'), { mode: 0o600 });
  writeFileSync(join(dir, 'alert'), `#!/bin/sh\nprintf '%s\\n' "$@" >> ${alerts}\n`);
  chmodSync(join(dir, 'alert'), 0o755);
  mkdirSync(live);
  writeFileSync(join(live, 'staging-only.pdf'), "staging's own file");

  it('an empty repository is missing: alerted, exit 1, nothing extracted', () => {
    borg(['init', '--encryption', 'repokey-blake2', repo]);
    const d = drill();
    expect(d.status).toBe(1);
    expect(d.report).toMatchObject({
      result: 'missing',
      detail: 'no archive of the source environment in the repository',
    });
    expect(d.alert).toBe(
      'restore-missing\nrestore drill of staging from production: missing: no archive of the source environment in the repository\n',
    );
    expect(existsSync(loaded)).toBe(false);
    expect(d.liveFiles).toEqual(['staging-only.pdf']);
  }, 60_000);

  it('an archive older than the schedule allows is stale: not checked, not extracted', () => {
    archive('production-2026-01-01T00:00:00Z');
    const d = drill(1560);
    expect(d.status).toBe(1);
    expect(d.report.result).toBe('stale');
    expect(d.report.archive).toBe('production-2026-01-01T00:00:00Z');
    expect(d.report.detail).toMatch(
      /^the newest archive production-2026-01-01T00:00:00Z is \d+ minutes old; the schedule allows 1560$/,
    );
    expect(d.alert.split('\n')[0]).toBe('restore-stale');
    expect(existsSync(loaded)).toBe(false);
  }, 120_000);

  it('a fresh, intact archive passes every gate: the dump streamed byte for byte, the attachments counted', () => {
    const name = stamp(new Date());
    archive(name);
    const d = drill();
    expect(d.report).toMatchObject({
      result: 'ok',
      archive: name,
      detail: `${name} verified (verify only)`,
      counts: { 'postgres.public.records': ROWS },
    });
    expect(d.status).toBe(0);
    expect(d.alert).toBe('');
    expect(readFileSync(loaded, 'utf8')).toBe(dumpText);
    // Where the time went, per phase reached (verify only: no swap, no app check).
    const phases = d.report.phases as Record<string, number>;
    expect(Object.keys(phases)).toEqual(['check', 'database', 'attachments']);
    for (const s of Object.values(phases)) expect(s).toBeGreaterThanOrEqual(0);
    // Verify only: the trial extract beside the live attachments is removed, the live ones are as they were.
    expect(existsSync(into)).toBe(false);
    expect(d.liveFiles).toEqual(['staging-only.pdf']);
  }, 120_000);

  it('an archive without attachments (none uploaded yet) passes too: nothing to extract, zero counted', () => {
    const name = stamp(new Date(Date.now() + 1000));
    archive(name, false);
    const d = drill();
    expect(d.report).toMatchObject({ result: 'ok', archive: name, detail: `${name} verified (verify only)` });
    expect(d.status).toBe(0);
    expect(d.liveFiles).toEqual(['staging-only.pdf']);
  }, 120_000);

  it("a damaged chunk of the dump fails the drill's extract as corrupt, though borg check of the metadata passes", () => {
    // Flip 16 bytes a third of the way into the largest segment file: inside the dump's chunks, which are nearly
    // all of the repository's bytes.
    const segments = readdirSync(join(repo, 'data'), { recursive: true, encoding: 'utf8' })
      .map((f) => join(repo, 'data', f))
      .filter((f) => statSync(f).isFile() && /\/\d+$/.test(f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    const segment = segments[0] as string;
    const bytes = readFileSync(segment);
    const at = Math.floor(bytes.length / 3);
    for (let i = at; i < at + 16; i++) bytes[i] = (bytes[i] as number) ^ 0xff;
    writeFileSync(segment, bytes);

    const name = stamp(new Date(Date.now() + 2000));
    archive(name); // the same dump: borg stores it as references to the chunks already there, the damaged one too
    const d = drill();
    expect(d.status).toBe(1);
    expect(d.report.result).toBe('corrupt');
    expect(d.report.archive).toBe(name);
    expect(d.report.detail).toMatch(/^borg extract of the dump exited 2: /);
    // It failed in the database phase: only the check before it completed.
    expect(Object.keys(d.report.phases as object)).toEqual(['check']);
    expect(d.alert.split('\n')[0]).toBe('restore-corrupt');
    expect(existsSync(into)).toBe(false);
    expect(d.liveFiles).toEqual(['staging-only.pdf']);
    // borg's full check finds the damage the drill's metadata check leaves to the extract.
    expect(spawnSync('borg', ['check', '--verify-data', `${repo}::${name}`], { env }).status).not.toBe(0);
  }, 120_000);
});
