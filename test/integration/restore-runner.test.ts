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
import { MONGO_DATABASES } from '../../src/backup/sources.js';
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
function archive(name: string, withAttachments = true, manifestNames = name): void {
  const run = join(root, 'run', 'crvs-backup');
  const docs = join(root, 'data/documents');
  const files = withAttachments ? FILES : {};
  rmSync(docs, { recursive: true, force: true });
  if (withAttachments) mkdirSync(join(docs, 'sub'), { recursive: true });
  else mkdirSync(join(root, 'data'), { recursive: true });
  mkdirSync(run, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(docs, f), text);
  const dump = Buffer.from(dumpText);
  writeFileSync(join(run, 'postgres-crvs.sql'), dump);
  const attachmentBytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0);
  const m: Manifest = {
    format: 1,
    environment: 'production',
    archive: manifestNames,
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
  borg(['create', '--compression', 'lz4', `${repo}::${name}`, 'run', 'data'], root);
}

function drill(staleAfterMinutes = 1560, dataVolume?: string) {
  const plan = restorePlan({
    environment: 'staging',
    source: 'production',
    repository: repo,
    staleAfterMinutes,
    preset: 'demo',
  });
  if (dataVolume) plan.dataVolume = dataVolume;
  const [dump] = plan.streams;
  const [documents] = plan.trees;
  if (!dump || !documents) throw new Error('the demo plan has a dump and a documents tree');
  dump.prepare = [{ argv: ['true'] }];
  dump.load = ['sh', '-c', `cat > ${loaded}`];
  dump.counts = ['printf', `public.records|${ROWS}\n`];
  dump.cleanup = [];
  documents.into = into;
  documents.live = live;
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
// Archive names are to the second: each test's archive is a second after the one before, so that it is the newest
// and never meets "already exists" when two tests run within the same second.
let lastStamp = 0;
const nextStamp = () => {
  lastStamp = Math.max(Date.now(), lastStamp + 1000);
  return stamp(new Date(lastStamp));
};

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
    const name = nextStamp();
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
    const name = nextStamp();
    archive(name, false);
    const d = drill();
    expect(d.report).toMatchObject({ result: 'ok', archive: name, detail: `${name} verified (verify only)` });
    expect(d.status).toBe(0);
    expect(d.liveFiles).toEqual(['staging-only.pdf']);
  }, 120_000);

  it('an encrypted data volume that is not mounted (locked after a reboot) stops the drill before anything is extracted', () => {
    const name = nextStamp();
    archive(name);
    // A directory, as the mount point is while the volume is locked: the unencrypted disk beneath it.
    const mountPoint = join(dir, 'data-locked');
    mkdirSync(mountPoint, { recursive: true });
    const d = drill(1560, mountPoint);
    expect(d.status).toBe(1);
    expect(d.report).toMatchObject({
      result: 'error',
      detail: `the encrypted data volume ${mountPoint} is not open: nothing is restored onto the unencrypted disk beneath it (crvs volume status staging)`,
    });
    expect(d.alert.split('\n')[0]).toBe('restore-error');
    expect(existsSync(loaded)).toBe(false);
    expect(existsSync(into)).toBe(false);
    expect(readdirSync(mountPoint)).toEqual([]);
    expect(d.liveFiles).toEqual(['staging-only.pdf']);
  }, 120_000);

  it("a manifest that names another archive fails as corrupt: the attachments' extract, started beside it, is stopped and removed", () => {
    const name = nextStamp();
    archive(name, true, 'production-2026-01-01T00:00:00Z');
    const d = drill();
    expect(d.status).toBe(1);
    expect(d.report).toMatchObject({
      result: 'corrupt',
      archive: name,
      detail: `the manifest belongs to production-2026-01-01T00:00:00Z, not to ${name}`,
    });
    // Failed at the manifest: no phase completed, nothing streamed, the trial extract gone, the live files as they were.
    expect(d.report.phases).toEqual({});
    expect(d.alert.split('\n')[0]).toBe('restore-corrupt');
    expect(existsSync(loaded)).toBe(false);
    expect(existsSync(into)).toBe(false);
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

    const name = nextStamp();
    archive(name); // the same dump: borg stores it as references to the chunks already there, the damaged one too
    const d = drill();
    expect(d.status).toBe(1);
    expect(d.report.result).toBe('corrupt');
    expect(d.report.archive).toBe(name);
    expect(d.report.detail).toMatch(/^borg extract of postgres exited 2: /);
    // It failed in the database phase: only the check before it completed.
    expect(Object.keys(d.report.phases as object)).toEqual(['check']);
    expect(d.alert.split('\n')[0]).toBe('restore-corrupt');
    expect(existsSync(into)).toBe(false);
    expect(d.liveFiles).toEqual(['staging-only.pdf']);
    // borg's full check finds the damage the drill's metadata check leaves to the extract.
    expect(spawnSync('borg', ['check', '--verify-data', `${repo}::${name}`], { env }).status).not.toBe(0);
  }, 120_000);
});

// The OpenCRVS plan through the same program: twelve streams (nine MongoDB archives, Postgres, the Elasticsearch
// snapshot and the InfluxDB backup, as tar) and two trees (MinIO's attachments, Metabase's files), verified and
// swapped in. The stores' commands are the plan's own shape with stand-ins that record what they were given: a
// load keeps its stream, a trial or swap step appends its store to a log, the services are listed, scaled and
// converged by a fake `docker`. What the real commands are is asserted in test/unit/backup/restore-plan.test.ts;
// the OpenCRVS images cannot be pulled here.
describe('the OpenCRVS drill, every store through the runner', () => {
  const oc = join(dir, 'opencrvs');
  const ocRepo = join(oc, 'repo');
  const ocRoot = join(oc, 'root');
  const got = join(oc, 'got');
  const log = join(oc, 'steps.log');
  const bin = join(oc, 'bin');
  const minioLive = join(oc, 'minio');
  const metabaseLive = join(oc, 'metabase');
  const PG_ROWS = 300;
  const pgDump = [
    'COPY app.events (id, body) FROM stdin;',
    ...Array.from({ length: PG_ROWS }, (_, i) => `${i + 1}\t{"type":"birth","n":${i}}`),
    '\\.',
    '',
  ].join('\n');

  /** An OpenCRVS backup as crvs-backup lays it out, with its manifest; returns the streams' bytes by store. */
  function ocArchive(name: string, damage?: { store: string }) {
    const plan = restorePlan({
      environment: 'staging',
      source: 'production',
      repository: ocRepo,
      staleAfterMinutes: 1560,
      preset: 'opencrvs',
    });
    rmSync(ocRoot, { recursive: true, force: true });
    const run = join(ocRoot, 'run', 'crvs-backup');
    mkdirSync(run, { recursive: true });
    const streams: Record<string, Buffer> = {};
    const stores: Manifest['stores'] = [];
    for (const st of plan.streams) {
      const file = (st.extract.at(-1) as string).split('/').at(-1) as string;
      const body = st.store === 'postgres' ? Buffer.from(pgDump) : randomBytes(20_000 + stores.length);
      streams[st.store] = body;
      writeFileSync(join(run, file), body);
      const recorded = damage?.store === st.store ? Buffer.concat([body, Buffer.from('x')]) : body;
      stores.push({
        name: st.store,
        path: `run/crvs-backup/${file}`,
        records: st.store === 'postgres' ? { 'app.events': PG_ROWS } : {},
        bytes: recorded.length,
        sha256: createHash('sha256').update(recorded).digest('hex'),
      });
    }
    const minio = join(ocRoot, 'data/minio');
    const metabase = join(ocRoot, 'data/metabase');
    mkdirSync(join(minio, 'ocrvs'), { recursive: true });
    mkdirSync(metabase, { recursive: true });
    writeFileSync(join(minio, 'ocrvs', 'birth-1.png'), 'a scan');
    writeFileSync(join(minio, 'ocrvs', 'birth-2.png'), 'another scan');
    writeFileSync(join(metabase, 'metabase.db.mv.db'), 'h2');
    stores.push({
      name: 'metabase',
      path: metabase.slice(ocRoot.length + 1),
      records: { files: 1 },
      bytes: 2,
    });
    const attachmentBytes = 'a scan'.length + 'another scan'.length;
    const m: Manifest = {
      format: 1,
      environment: 'production',
      archive: name,
      release: 'v1.9.0',
      startedAt: new Date().toISOString(),
      stores,
      attachments: {
        count: 2,
        bytes: attachmentBytes,
        listSha256: attachmentListDigest(['minio/ocrvs/birth-1.png', 'minio/ocrvs/birth-2.png']),
      },
      totalBytes: stores.reduce((n, x) => n + x.bytes, 0) + attachmentBytes,
      complete: true,
    };
    writeFileSync(join(run, 'crvs-manifest.json'), renderManifest(m));
    borg(['create', '--compression', 'lz4', `${ocRepo}::${name}`, 'run', 'data'], ocRoot);
    return streams;
  }

  /** The plan with each store command replaced by a stand-in that logs `<phase> <store>`. */
  function ocDrill(o: { verifyOnly: boolean; trialAnswer?: string }) {
    const plan = restorePlan({
      environment: 'staging',
      source: 'production',
      repository: ocRepo,
      staleAfterMinutes: 1560,
      preset: 'opencrvs',
    });
    const note = (what: string) => ['sh', '-c', `echo '${what}' >> ${log}`];
    for (const st of plan.streams) {
      st.prepare = st.prepare.map(() => ({ argv: note(`prepare ${st.store}`) }));
      st.load = ['sh', '-c', `cat > '${join(got, st.store)}'`];
      // The trial steps keep their `expect`: the stand-in answers what Elasticsearch would.
      st.trial = st.trial.map((t) => ({
        ...t,
        argv: [
          'sh',
          '-c',
          `echo 'trial ${st.store}' >> ${log}; printf '%s' '${o.trialAnswer ?? '{"snapshots":[{"state":"SUCCESS"}]}'}'`,
        ],
      }));
      if (st.counts.length) st.counts = ['printf', `app.events|${PG_ROWS}\n`];
      st.dropPrevious = st.dropPrevious.map(() => ({ argv: note(`dropPrevious ${st.store}`) }));
      st.swap = st.swap.map((t) => ({
        ...t,
        argv: [
          'sh',
          '-c',
          `echo 'swap ${st.store}' >> ${log}; printf '%s' '{"snapshot":{"shards":{"total":1,"failed":0}}}'`,
        ],
      }));
      st.cleanup = st.cleanup.map(() => ({ argv: note(`cleanup ${st.store}`) }));
    }
    const [minio, metabase] = plan.trees;
    if (!minio || !metabase) throw new Error('the opencrvs plan has two trees');
    Object.assign(minio, { into: `${minioLive}.restore`, live: minioLive });
    Object.assign(metabase, { into: `${metabaseLive}.restore`, live: metabaseLive });
    plan.swap.discover = [join(bin, 'docker'), 'service', 'ls'];
    plan.swap.replicas = [join(bin, 'docker'), 'service', 'inspect', '{service}'];
    plan.swap.scale = [join(bin, 'docker'), 'service', 'scale', '{service}={replicas}'];
    plan.swap.tasks = [join(bin, 'docker'), 'service', 'ps', '{service}'];
    plan.reportFile = join(oc, 'drills.jsonl');
    writeFileSync(join(oc, 'plan.json'), JSON.stringify(plan));
    rmSync(log, { force: true });
    rmSync(got, { recursive: true, force: true });
    mkdirSync(got);
    const r = spawnSync('python3', [packagePath('ansible/roles/crvs_backup_restore/files/crvs-restore')], {
      env: {
        ...env,
        CRVS_RESTORE_PLAN: join(oc, 'plan.json'),
        CRVS_RESTORE_VERIFY_ONLY: o.verifyOnly ? '1' : '0',
      },
      encoding: 'utf8',
    });
    const lines = readFileSync(plan.reportFile, 'utf8').trim().split('\n');
    return {
      status: r.status,
      report: JSON.parse(lines.at(-1) as string) as Record<string, unknown>,
      steps: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
    };
  }

  mkdirSync(bin, { recursive: true });
  // A manager's answers: the stack's services (stores and the rest), one replica each, scaling logged, every
  // task running by the time it is asked.
  writeFileSync(
    join(bin, 'docker'),
    [
      '#!/bin/sh',
      'case "$2" in',
      "  ls) printf 'crvs_gateway\\ncrvs_mongo1\\ncrvs_minio\\ncrvs_postgres\\ncrvs_elasticsearch\\ncrvs_influxdb\\ncrvs_redis\\ncrvs_metabase\\n' ;;",
      '  inspect) echo 1 ;;',
      `  scale) echo "scale $3" >> ${log} ;;`,
      '  ps) case "$(tail -n 1 ' +
        log +
        ")\" in *=0) echo 'Shutdown 1 second ago' ;; *) echo 'Running 1 second ago' ;; esac ;;",
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'docker'), 0o755);

  it('verifies all twelve streams byte for byte and both trees, then swaps every store with the app stopped', () => {
    borg(['init', '--encryption', 'repokey-blake2', ocRepo]);
    mkdirSync(minioLive);
    writeFileSync(join(minioLive, 'staging-only.png'), 'staging');
    const streams = ocArchive(nextStamp());
    const d = ocDrill({ verifyOnly: false });
    expect(d.report).toMatchObject({
      result: 'ok',
      counts: { 'postgres.app.events': PG_ROWS, 'metabase.files': 1 },
    });
    expect(d.status).toBe(0);
    for (const [store, body] of Object.entries(streams))
      expect(readFileSync(join(got, store)).equals(body)).toBe(true);
    expect(Object.keys(streams)).toHaveLength(12);
    const mongo = MONGO_DATABASES.map((db) => `mongo-${db}`);
    const stopped = 'crvs_gateway=0 crvs_minio=0 crvs_metabase=0';
    expect(d.steps).toEqual([
      // Verify: each store's scratch made ready, its trial restore where it has one.
      ...mongo.map((s) => `prepare ${s}`),
      'prepare postgres',
      'prepare postgres',
      'prepare elasticsearch',
      'prepare elasticsearch',
      'prepare elasticsearch',
      'trial elasticsearch',
      'trial elasticsearch',
      'prepare influxdb',
      'prepare influxdb',
      'prepare influxdb',
      'trial influxdb',
      'trial influxdb',
      // With the app up: what the previous drill kept aside.
      ...mongo.map((s) => `dropPrevious ${s}`),
      'dropPrevious postgres',
      // Everything but the stores stopped (the plan keeps mongo1, postgres, elasticsearch, influxdb, redis).
      ...stopped.split(' ').map((s) => `scale ${s}`),
      ...mongo.map((s) => `swap ${s}`),
      'swap postgres',
      'swap elasticsearch',
      'swap elasticsearch',
      'swap influxdb',
      'swap influxdb',
      ...['crvs_gateway=1', 'crvs_minio=1', 'crvs_metabase=1'].map((s) => `scale ${s}`),
      ...mongo.map((s) => `cleanup ${s}`),
      'cleanup postgres',
      'cleanup elasticsearch',
      'cleanup elasticsearch',
      'cleanup influxdb',
    ]);
    // The trees renamed into place, the previous MinIO files kept aside.
    expect(readdirSync(join(minioLive, 'ocrvs')).sort()).toEqual(['birth-1.png', 'birth-2.png']);
    expect(readdirSync(`${minioLive}.before-restore`)).toEqual(['staging-only.png']);
    expect(readdirSync(metabaseLive)).toEqual(['metabase.db.mv.db']);
  }, 120_000);

  it("fails as corrupt when a stream differs from the manifest or a store's trial answer reports a failure; nothing is swapped", () => {
    ocArchive(nextStamp(), { store: 'mongo-user-mgnt' });
    const d = ocDrill({ verifyOnly: false });
    expect(d.status).toBe(1);
    expect(d.report.result).toBe('counts-mismatch');
    expect(d.report.detail).toMatch(
      /^mongo-user-mgnt: sha256 [0-9a-f]{64} differs from the manifest's [0-9a-f]{64}; mongo-user-mgnt: 20002 bytes, the manifest says 20003$/,
    );
    expect(d.steps.filter((s) => /^(scale|swap|dropPrevious)/.test(s))).toEqual([]);

    ocArchive(nextStamp());
    const e = ocDrill({ verifyOnly: false, trialAnswer: '{"snapshots":[{"state":"PARTIAL"}]}' });
    expect(e.status).toBe(1);
    expect(e.report.result).toBe('corrupt');
    expect(e.report.detail).toMatch(
      /^the trial restore of elasticsearch: .* answered \{"snapshots":\[\{"state":"PARTIAL"\}\]\}$/,
    );
    expect(e.steps.filter((s) => /^(scale|swap|dropPrevious)/.test(s))).toEqual([]);
    // The scratch stores and unpacked files are cleaned up all the same; the live trees are untouched.
    expect(e.steps.filter((s) => s.startsWith('cleanup'))).toHaveLength(13);
    expect(existsSync(`${minioLive}.restore`)).toBe(false);
    expect(readdirSync(join(minioLive, 'ocrvs')).sort()).toEqual(['birth-1.png', 'birth-2.png']);
  }, 120_000);
});
