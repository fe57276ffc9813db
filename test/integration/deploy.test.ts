import { spawn, spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bin,
  crvsBin,
  ensureDefaultLab,
  ensureProvisioned,
  type LabInfo,
  labCommands,
  root,
} from './helpers/lab.js';
import { call, record, startLoad } from './helpers/load.js';

// The demo stack on the lab: deploy, seed, read back, a rolling release under load, an automatic rollback, and
// the loss of each production server.
let lab: LabInfo;
const PROD = '10.77.0.21'; // manager: takes the traffic
const PROD_DATA = '10.77.0.22'; // worker: holds the data stores
const QA = '10.77.0.11';
const { env, crvs, must } = labCommands(() => lab);
const lab_ = (...args: string[]) => {
  const r = crvsBin(['lab', ...args]);
  if (r.status !== 0) throw new Error(`crvs lab ${args.join(' ')} failed:\n${r.stderr}`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, seconds = 180): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(1000);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(() => {
  lab = ensureDefaultLab();
  ensureProvisioned(lab, ['qa', 'production'], env());
  for (const e of ['qa', 'production']) must('secrets', 'init', e);
  for (const e of ['qa', 'production']) must('deploy', e, '--version', 'v1');
  // A clean, seeded qa whatever ran before; production is seeded once.
  must('reset', 'qa', '--yes');
  const seeded = crvs('seed', 'production');
  if (seeded.status !== 0 && !seeded.stderr.includes('already seeded')) throw new Error(seeded.stderr);
});

describe('the demo stack on the lab', () => {
  it('runs v1 on qa and on the 2-node production cluster: records registered on one node, read back on the other', async () => {
    for (const host of [QA, PROD])
      expect((await call(host, 'GET', '/version')).json).toEqual({ version: 'v1', mode: 'app' });
    const created = await call(PROD, 'POST', '/records', record(1));
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const read = await call(PROD_DATA, 'GET', `/records/${id}`);
    expect(read.json).toMatchObject({
      id,
      type: 'birth',
      name: 'Load 1',
      office_code: 'IBO-1',
      attachmentVerified: true,
    });
    const qa = await call(QA, 'POST', '/records', record(2));
    expect((await call(QA, 'GET', `/records/${qa.json.id}`)).json).toMatchObject({
      name: 'Load 2',
      attachmentVerified: true,
    });
  });

  it('refuses a second seed and any reset of production; a qa reset leaves an empty, reseeded app', async () => {
    const again = crvs('seed', 'qa');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('qa is already seeded; nothing was changed');
    expect(crvs('seed', 'production', '--force').stderr).toContain(
      'production is seeded once; --force is refused there',
    );
    const reset = crvs('reset', 'production', '--yes');
    expect(reset.status).toBe(2);
    expect(reset.stderr).toContain('reset is refused on production');
    expect(crvs('reset', 'qa').stderr).toContain('confirm with --yes');
    must('reset', 'qa', '--yes');
    expect((await call(QA, 'GET', '/stats')).json).toEqual({
      records: 0,
      offices: 4,
      locations: 6,
      users: 5,
      seeded: 1,
    });
  });

  it('shows what a release would change with --dry-run, and changes nothing', async () => {
    const entries = () =>
      JSON.parse(must('deploy', 'log', 'production', '--json', '-n', '1000').stdout).length;
    const before = entries();
    const r = must('deploy', 'production', '--dry-run', '--version', 'v2');
    expect(r.stdout).toContain('--- running v1');
    expect(r.stdout).toContain('+++ would deploy v2');
    expect(r.stdout).toContain('-    image: 10.77.0.2:5000/crvs-demo-app:v1');
    expect(r.stdout).toContain('+    image: 10.77.0.2:5000/crvs-demo-app:v2');
    expect(must('deploy', 'production', '--dry-run', '--version', 'v1').stdout.trim()).toBe(
      'production: v1 is what runs; deploying it would change nothing',
    );
    expect((await call(PROD, 'GET', '/version')).json.version).toBe('v1');
    expect(entries()).toBe(before);
  });

  it('rolls v2 out under load without a single failed request', async () => {
    const load = startLoad(PROD, { workers: 4, maxRequests: 20_000, maxMs: 240_000 });
    const deployed = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [bin, 'deploy', 'production', '--version', 'v2', '--spec', lab.spec],
        {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env() },
          stdio: 'ignore',
        },
      );
      child.on('close', (code) => resolve(code ?? 1));
    });
    await sleep(3000);
    const result = await load.stop();
    expect(deployed).toBe(0);
    expect(result.sent).toBeGreaterThan(100);
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    expect((await call(PROD, 'GET', '/version')).json.version).toBe('v2');
  });

  it('rolls a broken v3 back by itself: the command fails, v2 keeps answering, the audit log has all three', async () => {
    const r = crvs('deploy', 'production', '--version', 'v3-broken');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('v3-broken did not become healthy on production; Swarm rolled it back');
    expect((await call(PROD, 'GET', '/version')).json.version).toBe('v2');
    const log = JSON.parse(must('deploy', 'log', 'production', '--json', '-n', '100').stdout) as {
      version: string;
      result: string;
      action: string;
    }[];
    const outcomes = log
      .filter((e) => e.action === 'deploy' && e.result !== 'started')
      .map((e) => `${e.version}:${e.result}`);
    expect(outcomes.slice(-3)).toEqual(['v1:succeeded', 'v2:succeeded', 'v3-broken:rolled-back']);
  });

  it('rolls back on request to the release before the running one, kept on the manager', async () => {
    const r = must('rollback', 'production', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ environment: 'production', version: 'v1', previous: 'v2' });
    expect((await call(PROD, 'GET', '/version')).json.version).toBe('v1');
    const last = JSON.parse(must('deploy', 'log', 'production', '--json', '-n', '1').stdout) as {
      action: string;
      version: string;
      result: string;
    }[];
    expect(last.map((e) => `${e.action} ${e.version} ${e.result}`)).toEqual(['rollback v1 succeeded']);
    const gone = crvs('rollback', 'production', 'v0');
    expect(gone.stderr).toContain('error [E_NOT_FOUND]: production has no release v0\nhint: kept: v2, v1');
    expect(gone.status).toBe(2);
  });

  it("takes over a killed deploy's lock once its lease has run out, never a live deploy's", async () => {
    const qa = lab.servers.find((s) => s.name === 'qa-1');
    if (!qa) throw new Error('no qa-1 in the lab');
    const holderFile = '/var/lib/crvs/locks/deploy-qa/holder.json';
    const holder = () => spawnSync('docker', ['exec', qa.container, 'cat', holderFile], { encoding: 'utf8' });
    // A deploy with a 10-second lease (renewed every 1.7 s while it works).
    const first = spawn(process.execPath, [bin, 'deploy', 'qa', '--version', 'v2', '--spec', lab.spec], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        ...env(),
        CRVS_DEPLOY_LEASE_SECONDS: '10',
      },
      stdio: 'ignore',
    });
    let exited: number | null = null;
    const gone = new Promise<void>((resolve) =>
      first.on('exit', (code, signal) => {
        exited = code ?? (signal ? -1 : 0);
        resolve();
      }),
    );
    await until('the first deploy to take the lock', async () => holder().status === 0, 120);
    const h = JSON.parse(holder().stdout) as { who: string; host: string; since: string };
    expect(h).toMatchObject({ action: 'deploy v2', leaseSeconds: 10 });
    const lockedBy = `qa is locked by ${h.who} on ${h.host} since ${h.since} (deploy v2)`;

    // Held for longer than its lease, and still working: it renews, so a second deploy is refused.
    await sleep(12_000);
    const live = crvs('deploy', 'qa', '--version', 'v2');
    expect(exited).toBe(null);
    expect(live.status).toBe(1);
    expect(live.stderr).toContain(lockedBy);
    expect(live.stderr).toMatch(/its holder renewed it \d s ago/);

    // Killed as a cancelled CI job would be: its lock stays, and is refused until its lease runs out...
    first.kill('SIGKILL');
    await gone;
    const early = crvs('deploy', 'qa', '--version', 'v2');
    expect(early.status).toBe(1);
    expect(early.stderr).toContain(lockedBy);
    expect(early.stderr).toMatch(/its lease runs out in \d+ s and the next deploy takes the lock over/);

    // ...then the next deploy takes it over with no manual step, and says whose it was.
    await sleep(11_000);
    const next = must('deploy', 'qa', '--version', 'v2');
    expect(next.stderr).toContain(
      `warning: took over the deploy lock of qa: ${h.who} on ${h.host} (deploy v2, since ${h.since}) stopped renewing it`,
    );
    expect((await call(QA, 'GET', '/version')).json.version).toBe('v2');
    expect(holder().status).not.toBe(0);
    // The killed run has an outcome in the audit log, before the run that took over.
    const log = JSON.parse(must('deploy', 'log', 'qa', '--json', '-n', '3').stdout) as {
      who: string;
      version: string;
      result: string;
      detail?: string;
    }[];
    expect(log.map((e) => `${e.version} ${e.result}`)).toEqual([
      'v2 abandoned',
      'v2 started',
      'v2 succeeded',
    ]);
    const [, idle] =
      /^no renewal of the deploy lock for (\d+) s; taken over by /.exec(log[0]?.detail ?? '') ?? [];
    expect(Number(idle)).toBeGreaterThanOrEqual(10);
  });

  it('survives the loss of a server: the other node serves; without the data node it answers 503, then recovers once its volume is unlocked', async () => {
    const before = await call(PROD, 'POST', '/records', record(10));
    expect(before.status).toBe(201);

    // The manager (no data stores) goes away: the worker's proxy and app keep serving, writes included.
    lab_('stop', 'prod-1');
    try {
      expect((await call(PROD_DATA, 'GET', `/records/${before.json.id}`)).status).toBe(200);
      expect((await call(PROD_DATA, 'POST', '/records', record(11))).status).toBe(201);
    } finally {
      lab_('start', 'prod-1');
    }
    await until('the manager to serve again', async () => (await call(PROD, 'GET', '/ready')).status === 200);

    // The data node goes away: the app answers 503 quickly instead of hanging.
    lab_('stop', 'prod-2');
    try {
      await until(
        'the app to notice',
        async () => (await call(PROD, 'GET', '/ready', undefined, 5000)).status === 503,
        60,
      );
      const t0 = Date.now();
      const write = await call(PROD, 'POST', '/records', record(12), 15_000);
      expect(write.status).toBe(503);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      lab_('start', 'prod-2');
    }
    // A data node that restarts comes back with its encrypted volume locked (the key is not on it): the stores stay
    // down, and the app keeps answering 503, until someone unlocks it.
    await until(
      'prod-2 to answer SSH again',
      async () => crvs('volume', 'status', 'production', '--json').stdout !== '',
      90,
    );
    const locked = crvs('volume', 'status', 'production', '--json');
    expect([locked.status, JSON.parse(locked.stdout).state]).toEqual([1, 'locked']);
    expect((await call(PROD, 'GET', '/ready', undefined, 5000)).status).toBe(503);
    must('volume', 'unlock', 'production');
    // Then it is back by itself, with every acknowledged record.
    await until(
      'the data node to recover',
      async () => (await call(PROD, 'GET', '/ready')).status === 200,
      300,
    );
    const after = await call(PROD, 'GET', `/records/${before.json.id}`);
    expect(after.json).toMatchObject({ id: before.json.id, attachmentVerified: true });
  });
});
