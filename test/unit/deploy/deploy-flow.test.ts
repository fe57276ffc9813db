import { afterEach, describe, expect, it } from 'vitest';
import { appendAudit, readAudit } from '../../../src/deploy/audit.js';
import { bindSecrets } from '../../../src/deploy/bind.js';
import { assess, parseProbe, probeStack } from '../../../src/deploy/converge.js';
import {
  acquireLock,
  breakLockCommand,
  leaseSeconds,
  parseLockAnswer,
  releaseLock,
  renewLock,
} from '../../../src/deploy/lock.js';
import { createSeedJob, removeService, seedJobLogs, seedJobState } from '../../../src/deploy/seed.js';
import {
  createSecret,
  dockerSecretName,
  managerClock,
  readRelease,
  readStack,
  serviceDiagnostics,
  stackDeploy,
  uploadStack,
  writeRelease,
} from '../../../src/deploy/swarm.js';
import { CrvsError } from '../../../src/errors.js';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import type { RemoteHost } from '../../../src/remote/host.js';
import { forgetSecrets, sensitive } from '../../../src/secrets/sensitive.js';
import { releaseHistory } from '../../../src/usecases/audit.js';
import type { Effects, EnvironmentContext } from '../../../src/usecases/context.js';
import { applyRelease, planRelease } from '../../../src/usecases/deploy.js';
import { labExample } from '../helpers/spec.js';

const m: RemoteHost = { environment: 'qa', ssh: ['ssh', '-F', '/l/ssh_config', 'qa-1'] };
const remote = (c: { argv: string[] }) => c.argv.slice(4).join(' ');
const compose = `services:
  app:
    image: reg/app:v2
    secrets: [APP_DB_PASSWORD]
secrets:
  APP_DB_PASSWORD:
    external: true
`;

afterEach(() => forgetSecrets());

describe('deploy lock (a lease)', () => {
  const holder = {
    who: 'alice',
    host: 'laptop',
    since: '2026-11-24T10:00:00Z',
    action: 'deploy v2',
    id: '0b6f7c1e-2d9a-4d0e-9f1c-7a1b2c3d4e5f',
    leaseSeconds: 180,
  };
  it('is one program on the manager; its holder travels on stdin; its answers are parsed', () => {
    const c = acquireLock(m, holder, 180);
    expect(c.argv.slice(0, 4)).toEqual(['ssh', '-F', '/l/ssh_config', 'qa-1']);
    // One program run as root on the manager, the lock directory and the taker's lease as its arguments; what
    // it does is run for real in lock-lease.test.ts.
    expect(c.argv[4]?.startsWith("sudo -n sh -c 'set -e\n")).toBe(true);
    expect(c.argv[4]?.endsWith("' crvs-lock /var/lib/crvs/locks/deploy-qa 180")).toBe(true);
    expect(c.stdin).toBe(JSON.stringify(holder));
    const bob = { who: 'bob', host: 'ci', since: 'x', action: 'deploy v3', id: 'b', leaseSeconds: 180 };
    expect(parseLockAnswer('acquired\n')).toEqual({ acquired: true });
    expect(parseLockAnswer(`held 42\n${JSON.stringify(bob)}\n`)).toEqual({
      acquired: false,
      holder: bob,
      ageSeconds: 42,
    });
    expect(parseLockAnswer(`taken-over 200\n${JSON.stringify(bob)}\n`)).toEqual({
      acquired: true,
      abandoned: { holder: bob, ageSeconds: 200 },
    });
    // A lock left by a version of crvs before leases: no age to tell.
    expect(parseLockAnswer('held\n{"who":"bob","host":"ci","since":"x","action":"deploy v3"}\n')).toEqual({
      acquired: false,
      holder: { who: 'bob', host: 'ci', since: 'x', action: 'deploy v3' },
    });
  });

  it('is renewed and released only by the run that holds it', () => {
    const ours = `grep -qF "\\"id\\":\\"$2\\"" "$1/holder.json" 2>/dev/null`;
    expect(remote(renewLock(m, holder.id))).toBe(
      `sudo -n sh -c 'exec 9>"$1.flock"
flock -w 60 9
if ${ours}; then touch "$1/holder.json"; echo renewed; else echo lost; fi' crvs-lock /var/lib/crvs/locks/deploy-qa ${holder.id}`,
    );
    expect(remote(releaseLock(m, holder.id))).toBe(
      `sudo -n sh -c 'exec 9>"$1.flock"
flock -w 60 9
if ${ours}; then rm -rf "$1"; echo released; else echo '\\''not ours'\\''; fi' crvs-lock /var/lib/crvs/locks/deploy-qa ${holder.id}`,
    );
    expect(remote(breakLockCommand(m))).toBe('sudo -n rm -rf /var/lib/crvs/locks/deploy-qa || true');
  });

  it('lasts 180 s unless CRVS_DEPLOY_LEASE_SECONDS says otherwise, within bounds', () => {
    expect(leaseSeconds({})).toBe(180);
    expect(leaseSeconds({ CRVS_DEPLOY_LEASE_SECONDS: '20' })).toBe(20);
    expect(() => leaseSeconds({ CRVS_DEPLOY_LEASE_SECONDS: '5' })).toThrow(
      'CRVS_DEPLOY_LEASE_SECONDS must be a whole number of seconds from 10 to 86400, not 5',
    );
    expect(() => leaseSeconds({ CRVS_DEPLOY_LEASE_SECONDS: '2m' })).toThrow('not 2m');
  });
});

describe('commands on the manager, exactly', () => {
  it('swarm: stack file upload, stack deploy, release record, clock, diagnostics', () => {
    expect(remote(uploadStack(m, 'v2', 'x'))).toBe(
      'sudo -n mkdir -p /var/lib/crvs/qa && sudo -n tee /var/lib/crvs/qa/stack-v2.yml >/dev/null',
    );
    expect(remote(readStack(m, 'v2+b'))).toBe('sudo -n cat /var/lib/crvs/qa/stack-v2_b.yml');
    expect(remote(stackDeploy(m, 'crvs', 'v2'))).toBe(
      'sudo -n docker stack deploy --with-registry-auth --resolve-image changed --compose-file /var/lib/crvs/qa/stack-v2.yml crvs',
    );
    expect(remote(readRelease(m))).toBe("sudo -n cat /var/lib/crvs/qa/release.json 2>/dev/null || echo '{}'");
    const w = writeRelease(m, { version: 'v2', at: 't', history: ['v1', 'v2'] });
    expect(remote(w)).toBe('sudo -n tee /var/lib/crvs/qa/release.json >/dev/null');
    expect(w.stdin).toBe(
      '{\n  "version": "v2",\n  "at": "t",\n  "history": [\n    "v1",\n    "v2"\n  ]\n}\n',
    );
    expect(remote(managerClock(m))).toBe('date -u +%Y-%m-%dT%H:%M:%SZ');
    expect(remote(serviceDiagnostics(m, 'crvs_app'))).toBe(
      "sudo -n docker service ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' crvs_app; " +
        'sudo -n docker service logs --tail 30 --no-task-ids --timestamps crvs_app 2>&1 | tail -n 30',
    );
    expect(remote(probeStack(m, 'crvs'))).toBe(
      'sudo -n docker stack services -q crvs | xargs -r sudo -n docker service inspect --format ' +
        `'{"name":{{json .Spec.Name}},"image":{{json .Spec.TaskTemplate.ContainerSpec.Image}},"update":{{json .UpdateStatus}}}' && ` +
        `sudo -n docker stack services --format '{"name":{{json .Name}},"replicas":{{json .Replicas}}}' crvs`,
    );
  });

  it('audit: append-only where the file system allows it; the entry travels on stdin', () => {
    const entry = {
      at: '2026-11-24T10:00:00.000Z',
      environment: 'qa',
      action: 'deploy' as const,
      who: 'alice',
      from: 'laptop',
      version: 'v2',
      result: 'started' as const,
    };
    const c = appendAudit(m, entry);
    expect(remote(c)).toBe(
      'sudo -n mkdir -p /var/lib/crvs && sudo -n touch /var/lib/crvs/audit.log && ' +
        '{ sudo -n chattr +a /var/lib/crvs/audit.log 2>/dev/null || true; } && ' +
        'sudo -n tee -a /var/lib/crvs/audit.log >/dev/null',
    );
    expect(c.stdin).toBe(`${JSON.stringify(entry)}\n`);
    expect(remote(readAudit(m, 5))).toBe('sudo -n tail -n 5 /var/lib/crvs/audit.log 2>/dev/null || true');
  });

  it('seed job: a one-shot Swarm job on the stack network, secrets as Docker secrets', () => {
    const c = createSeedJob(m, {
      name: 'crvs_seed_1',
      image: 'reg/crvs-demo-app:v1',
      network: 'crvs_default',
      secrets: [{ name: 'crvs_app_db_password_0123456789', target: 'APP_DB_PASSWORD' }],
      force: false,
      reset: true,
    });
    expect(remote(c)).toBe(
      'sudo -n docker service create --detach --quiet --name crvs_seed_1 --mode replicated-job ' +
        '--restart-condition none --network crvs_default ' +
        '--secret source=crvs_app_db_password_0123456789,target=APP_DB_PASSWORD ' +
        '--env DB_HOST=db --env DOCUMENTS_URL=http://documents:8080 --env FORCE=0 --env RESET=1 ' +
        'reg/crvs-demo-app:v1 node /app/seed.js',
    );
    expect(remote(seedJobState(m, 'crvs_seed_1'))).toBe(
      "sudo -n docker service ps --no-trunc --format '{{.CurrentState}}|{{.Error}}' crvs_seed_1",
    );
    expect(remote(seedJobLogs(m, 'crvs_seed_1'))).toBe('sudo -n docker service logs --raw crvs_seed_1 2>&1');
    expect(remote(removeService(m, 'crvs_seed_1'))).toBe('sudo -n docker service rm crvs_seed_1');
  });
});

describe('secrets for the stack', () => {
  it('binds each external secret to a content-named Swarm secret and sends values on stdin only', () => {
    const value = sensitive('canary-7f3a9c-db-password', 'APP_DB_PASSWORD');
    const { compose: out, bound } = bindSecrets(compose, 'crvs', { APP_DB_PASSWORD: value });
    const name = dockerSecretName('crvs', 'APP_DB_PASSWORD', value);
    expect(name).toMatch(/^crvs_app_db_password_[0-9a-f]{10}$/);
    expect(out).toContain(`  APP_DB_PASSWORD:\n    external: true\n    name: ${name}\n`);
    expect(out).not.toContain('canary');
    const c = createSecret(m, bound[0]?.name ?? '', 'APP_DB_PASSWORD', value);
    expect(c.argv.join(' ')).not.toContain('canary');
    expect(c.argv[4]).toBe(`sudo -n docker secret create --label crvs.secret=APP_DB_PASSWORD ${name} -`);
    expect(c.stdin).toBe(value);
  });

  it('refuses a stack whose secrets are not all in the store, naming them', () => {
    expect(() => bindSecrets(compose, 'crvs', {})).toThrow(
      'the stack needs secrets that are not in the store: APP_DB_PASSWORD',
    );
  });

  it('binds a kept stack file to the values it is given, and keeps the names it cannot bind', () => {
    const kept = compose.replace(
      'external: true',
      'external: true\n    name: crvs_app_db_password_0000000000',
    );
    const fresh = sensitive('canary-new-value', 'APP_DB_PASSWORD');
    expect(bindSecrets(kept, 'crvs', { APP_DB_PASSWORD: fresh }).bound.map((b) => b.name)).toEqual([
      dockerSecretName('crvs', 'APP_DB_PASSWORD', fresh),
    ]);
    expect(bindSecrets(kept, 'crvs', {}).kept).toEqual([
      { key: 'APP_DB_PASSWORD', name: 'crvs_app_db_password_0000000000' },
    ]);
  });
});

describe('convergence', () => {
  const since = new Date('2026-11-24T10:00:00Z');
  const probe = (update: string, replicas: string) =>
    [
      `{"name":"crvs_app","image":"reg/app:v2","update":${update}}`,
      `{"name":"crvs_db","image":"reg/db:v1","update":null}`,
      `{"name":"crvs_app","replicas":"${replicas}"}`,
      '{"name":"crvs_db","replicas":"1/1"}',
    ].join('\n');

  it('waits while an update runs or replicas are missing, then says converged', () => {
    expect(
      assess(parseProbe(probe('{"State":"updating","StartedAt":"2026-11-24T10:00:05Z"}', '2/2')), since),
    ).toEqual({
      state: 'progressing',
      failed: [],
      waiting: ['crvs_app'],
    });
    expect(assess(parseProbe(probe('null', '1/2')), since).state).toBe('progressing');
    expect(
      assess(parseProbe(probe('{"State":"completed","StartedAt":"2026-11-24T10:00:05Z"}', '2/2')), since),
    ).toEqual({
      state: 'converged',
      failed: [],
      waiting: [],
    });
  });

  it("fails on this deploy's rollback, but not on an earlier deploy's", () => {
    const rolled =
      '{"State":"rollback_completed","StartedAt":"2026-11-24T10:00:05Z","Message":"rollback completed"}';
    expect(assess(parseProbe(probe(rolled, '2/2')), since)).toEqual({
      state: 'failed',
      failed: [{ service: 'crvs_app', reason: 'rollback completed' }],
      waiting: [],
    });
    const old = '{"State":"rollback_completed","StartedAt":"2026-11-23T10:00:05Z"}';
    expect(assess(parseProbe(probe(old, '2/2')), since).state).toBe('converged');
  });
});

describe('the deploy flow: a plan, then apply', () => {
  const spec = labExample();
  const c: EnvironmentContext = {
    spec,
    specFile: '/lab/crvs.yaml',
    identity: '/lab/id',
    knownHosts: '/lab/known_hosts',
    environment: 'qa',
    manager: m,
  };
  const fx = (exec: RecordingExecutor, lines: string[] = []): Effects => ({
    exec,
    progress: (l) => lines.push(l),
    now: () => new Date('2026-11-24T10:00:00Z'),
    actor: { who: 'alice', from: 'laptop' },
    env: {},
    pollMs: 1,
  });
  const responses = (probeOut: string, release = '{"version":"v1","history":["v1"]}') => [
    { match: /crvs-lock \/var\/lib\/crvs\/locks\/deploy-qa 180/, result: { stdout: 'acquired\n' } },
    { match: /release\.json.*echo/, result: { stdout: release } },
    { match: /stack-v1\.yml/, result: { stdout: compose.replace('v2', 'v1') } },
    { match: /docker secret ls/, result: { stdout: 'crvs_other_0000000000\n' } },
    { match: /date -u/, result: { stdout: '2026-11-24T10:00:00Z\n' } },
    { match: /docker stack services -q/, result: { stdout: probeOut } },
  ];
  const converged =
    '{"name":"crvs_app","image":"reg/app:v2","update":{"State":"completed","StartedAt":"2026-11-24T10:00:02Z"}}\n{"name":"crvs_app","replicas":"2/2"}\n';
  const values = () => ({ APP_DB_PASSWORD: sensitive('canary-db-9', 'APP_DB_PASSWORD') });
  const plan = (exec: RecordingExecutor) =>
    planRelease(fx(exec), c, {
      action: 'deploy',
      version: 'v2',
      template: compose,
      values: values(),
      files: [],
      build: [],
    });

  it('plans without changing anything: the steps, the secret to create, the diff against what runs', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    expect(exec.commands.map((x) => x.description)).toEqual([
      'list Docker secrets',
      'read the running release',
      'read the v1 stack file',
    ]);
    expect(p.running).toBe('v1');
    expect(p.steps).toEqual([
      'take the deploy lock of qa',
      'create Docker secret for APP_DB_PASSWORD',
      'upload the v2 stack file',
      'docker stack deploy crvs (v2)',
      'watch until every service has converged (Swarm rolls back a release that does not)',
      'record release v2',
      'release the deploy lock of qa',
    ]);
    expect(p.secrets.map((x) => [x.key, x.exists])).toEqual([['APP_DB_PASSWORD', false]]);
    expect(p.diff).toContain('--- running v1\t\n+++ would deploy v2\t\n');
    expect(p.diff).toContain('-    image: reg/app:v1\n');
    expect(p.diff).toContain('+    image: reg/app:v2\n');
    expect(JSON.stringify(p)).not.toContain('canary');
  });

  it('apply executes that plan: lock, audit, secret, upload, deploy, watch, record, unlock', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    exec.commands.length = 0;
    const lines: string[] = [];
    const r = await applyRelease(fx(exec, lines), c, p);
    expect(r.previous).toBe('v1');
    expect(exec.commands.map((x) => x.description)).toEqual([
      'take the deploy lock of qa',
      'read the running release',
      'audit: deploy started',
      'list Docker secrets',
      'create Docker secret for APP_DB_PASSWORD',
      'upload the v2 stack file',
      "read the manager's clock",
      'docker stack deploy crvs (v2)',
      'watch crvs',
      'record release v2',
      'audit: deploy succeeded',
      'release the deploy lock of qa',
    ]);
    const upload = exec.commands.find((x) => x.description === 'upload the v2 stack file');
    expect(upload?.stdin).toBe(p.compose);
    expect(exec.lines().join('\n')).not.toContain('canary');
    expect(lines).toContain('app 2/2');
  });

  /** A spec that opts production into the encrypted volume (it is off by default). */
  const encryptedProduction = (): EnvironmentContext => {
    const production = spec.environments.production as NonNullable<typeof spec.environments.production>;
    return {
      ...c,
      spec: {
        ...spec,
        environments: { ...spec.environments, production: { ...production, encryptData: true } },
      },
      environment: 'production',
      manager: { ...m, environment: 'production' },
    };
  };

  it("refuses to deploy production while its data node's encrypted volume is locked, before taking the lock", async () => {
    const prod = encryptedProduction();
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    const locked = new RecordingExecutor([
      { match: /crvs-data-volume status/, result: { stdout: 'locked\n' } },
      ...responses(converged),
    ]);
    const e = await applyRelease(fx(locked), prod, p).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CrvsError);
    expect((e as CrvsError).code).toBe('E_DATA_VOLUME');
    expect((e as CrvsError).message).toBe(
      'the data volume on prod-2 is locked: the stores of production cannot start',
    );
    // Asked of the data node (prod-2, 10.77.0.22), and nothing else was run.
    expect(locked.lines()).toHaveLength(1);
    expect(locked.lines()[0]).toMatch(
      /crvs@10\.77\.0\.22 .*sudo -n \/usr\/local\/sbin\/crvs-data-volume status$/,
    );
    // Unlocked: the deploy goes on to its lock.
    const open = new RecordingExecutor([
      { match: /crvs-data-volume status/, result: { stdout: 'unlocked\n' } },
      ...responses(converged).map((r) => ({
        ...r,
        match: new RegExp(String(r.match.source).replace('deploy-qa', 'deploy-production')),
      })),
    ]);
    await applyRelease(fx(open), prod, p).catch(() => undefined);
    expect(open.commands.map((x) => x.description).slice(0, 2)).toEqual([
      "read the data volume's state on production's data node",
      'take the deploy lock of production',
    ]);
  });

  it('a data node that ssh refuses over its host key is a host-key error, not a volume one', async () => {
    const prod = encryptedProduction();
    const p = await plan(new RecordingExecutor(responses(converged)));
    const refused = new RecordingExecutor([
      {
        match: /crvs-data-volume status/,
        result: {
          code: 255,
          stderr: 'No ED25519 host key is known for 10.77.0.22.\nHost key verification failed.\n',
        },
      },
    ]);
    const e = await applyRelease(fx(refused), prod, p).catch((x: unknown) => x);
    expect((e as CrvsError).code).toBe('E_HOST_KEY');
    expect((e as CrvsError).message).toMatch(/^prod-2/);
  });

  it('refuses a plan made against another running release, and still unlocks', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    const moved = new RecordingExecutor(responses(converged, '{"version":"v9","history":["v9"]}'));
    await expect(applyRelease(fx(moved), c, p)).rejects.toThrow(
      'the plan was made while v1 ran on qa; now v9 runs',
    );
    expect(moved.commands.map((x) => x.description).at(-1)).toBe('release the deploy lock of qa');
  });

  it('reports a rolled-back release with diagnostics, audits it and still unlocks', async () => {
    const exec = new RecordingExecutor(
      responses(
        '{"name":"crvs_app","image":"reg/app:v3","update":{"State":"rollback_completed","StartedAt":"2026-11-24T10:00:02Z","Message":"update rolled back"}}\n{"name":"crvs_app","replicas":"2/2"}\n',
      ),
    );
    const p = await plan(exec);
    await expect(applyRelease(fx(exec), c, p)).rejects.toThrow(
      'v2 did not become healthy on qa; Swarm rolled it back',
    );
    expect(exec.commands.map((x) => x.description).slice(-3)).toEqual([
      'diagnose crvs_app',
      'audit: deploy rolled-back',
      'release the deploy lock of qa',
    ]);
  });

  it('refuses when another deploy holds the lock, naming the holder', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    const held = new RecordingExecutor([
      {
        match: /mkdir/,
        result: {
          stdout: 'held\n{"who":"bob","host":"ci","since":"2026-11-24T09:59:00Z","action":"deploy v9"}\n',
        },
      },
    ]);
    await expect(applyRelease(fx(held), c, p)).rejects.toThrow(
      'qa is locked by bob on ci since 2026-11-24T09:59:00Z (deploy v9)',
    );
    expect(held.commands).toHaveLength(1);
  });

  it('refuses a live lease with how long it has left if its holder has stopped', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    const bob = {
      who: 'bob',
      host: 'ci',
      since: '2026-11-24T09:59:00Z',
      action: 'deploy v9',
      id: 'b',
      leaseSeconds: 180,
    };
    const held = new RecordingExecutor([
      { match: /crvs-lock/, result: { stdout: `held 40\n${JSON.stringify(bob)}\n` } },
    ]);
    const err = (await applyRelease(fx(held), c, p).then(
      () => undefined,
      (e: unknown) => e,
    )) as CrvsError;
    expect(err).toBeInstanceOf(CrvsError);
    expect([err.code, err.message, err.hint]).toEqual([
      'E_LOCKED',
      'qa is locked by bob on ci since 2026-11-24T09:59:00Z (deploy v9)',
      'its holder renewed it 40 s ago; if that run has stopped, its lease runs out in 140 s and the next deploy takes the lock over',
    ]);
    expect(held.commands).toHaveLength(1);
  });

  it('takes over a lapsed lease: a warning naming the previous holder, whose run goes on record as abandoned', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    const bob = {
      who: 'bob',
      host: 'ci',
      since: '2026-11-24T09:50:00Z',
      action: 'deploy v9',
      id: 'b',
      leaseSeconds: 180,
    };
    const taking = new RecordingExecutor([
      {
        match: /crvs-lock \/var\/lib\/crvs\/locks\/deploy-qa 180/,
        result: { stdout: `taken-over 200\n${JSON.stringify(bob)}\n` },
      },
      ...responses(converged),
    ]);
    const lines: string[] = [];
    await applyRelease(fx(taking, lines), c, p);
    expect(lines[0]).toBe(
      'warning: took over the deploy lock of qa: bob on ci (deploy v9, since 2026-11-24T09:50:00Z) stopped renewing it 200 s ago (lease 180 s)',
    );
    const audits = taking.commands.filter((x) => x.description?.startsWith('audit:'));
    expect(audits.map((x) => JSON.parse(String(x.stdin)))).toEqual([
      {
        at: '2026-11-24T10:00:00.000Z',
        environment: 'qa',
        action: 'deploy',
        who: 'bob',
        from: 'ci',
        version: 'v9',
        result: 'abandoned',
        detail: 'no renewal of the deploy lock for 200 s; taken over by alice on laptop',
      },
      expect.objectContaining({ who: 'alice', version: 'v2', result: 'started' }),
      expect.objectContaining({ who: 'alice', version: 'v2', result: 'succeeded' }),
    ]);
    // Released by this run's id only.
    const held = JSON.parse(String(taking.commands[0]?.stdin)) as { id: string };
    expect(taking.lines().at(-1)).toContain(`crvs-lock /var/lib/crvs/locks/deploy-qa ${held.id}`);
    expect(held.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not record a release whose lock was taken from it while it worked', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    // The manager answers `lost` to every renewal; `docker stack deploy` takes long enough for one (10 s lease:
    // a renewal every 1.7 s).
    class Slow extends RecordingExecutor {
      override async run(c: Parameters<RecordingExecutor['run']>[0]) {
        if (/docker stack deploy/.test(c.argv.join(' '))) await new Promise((r) => setTimeout(r, 2000));
        return super.run(c);
      }
    }
    const stolen = new Slow([
      { match: /crvs-lock \S+ 10$/, result: { stdout: 'acquired\n' } },
      { match: /crvs-lock \S+ [0-9a-f-]{36}$/, result: { stdout: 'lost\n' } },
      ...responses(converged),
    ]);
    const lines: string[] = [];
    await expect(
      applyRelease({ ...fx(stolen, lines), env: { CRVS_DEPLOY_LEASE_SECONDS: '10' } }, c, p),
    ).rejects.toThrow(
      'the deploy lock of qa was taken from this run (broken, or taken over after its lease ran out)',
    );
    expect(lines).toContain("warning: the deploy lock of qa is no longer this run's");
    const described = stolen.commands.map((x) => x.description);
    expect(described).toContain('renew the deploy lock of qa');
    expect(described).not.toContain('record release v2');
    expect(described.at(-1)).toBe('release the deploy lock of qa');
  });

  it('refuses a bad lease length before touching the manager', async () => {
    const exec = new RecordingExecutor(responses(converged));
    const p = await plan(exec);
    exec.commands.length = 0;
    await expect(
      applyRelease({ ...fx(exec), env: { CRVS_DEPLOY_LEASE_SECONDS: 'soon' } }, c, p),
    ).rejects.toThrow(
      'CRVS_DEPLOY_LEASE_SECONDS must be a whole number of seconds from 10 to 86400, not soon',
    );
    expect(exec.commands).toHaveLength(0);
  });

  it('history: what runs and what the manager keeps, read in one command', async () => {
    const exec = new RecordingExecutor(responses(converged, '{"version":"v2","history":["v1","v2"]}'));
    expect(await releaseHistory(fx(exec), c)).toEqual({ running: 'v2', kept: ['v1', 'v2'] });
    expect(exec.lines()).toEqual([
      "ssh -F /l/ssh_config qa-1 sudo -n cat /var/lib/crvs/qa/release.json 2>/dev/null || echo '{}'",
    ]);
    expect(await releaseHistory(fx(new RecordingExecutor()), c)).toEqual({ kept: [] });
  });
});
