import { afterEach, describe, expect, it } from 'vitest';
import { assess, parseProbe } from '../../../src/deploy/converge.js';
import { bindSecrets, deploy } from '../../../src/deploy/deploy.js';
import { acquireLock, parseLockAnswer } from '../../../src/deploy/lock.js';
import type { Manager } from '../../../src/deploy/remote.js';
import { createSecret, dockerSecretName } from '../../../src/deploy/swarm.js';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import { forgetSecrets, sensitive } from '../../../src/secrets/sensitive.js';

const m: Manager = { environment: 'qa', ssh: ['ssh', '-F', '/l/ssh_config', 'qa-1'] };
const compose = `services:
  app:
    image: reg/app:v2
    secrets: [APP_DB_PASSWORD]
secrets:
  APP_DB_PASSWORD:
    external: true
`;

afterEach(() => forgetSecrets());

describe('deploy lock', () => {
  it('is an atomic mkdir whose holder travels on stdin, and reports who holds it', () => {
    const c = acquireLock(m, {
      who: 'alice',
      host: 'laptop',
      since: '2026-11-24T10:00:00Z',
      action: 'deploy v2',
    });
    expect(c.argv.slice(0, 4)).toEqual(['ssh', '-F', '/l/ssh_config', 'qa-1']);
    expect(c.argv[4]).toBe(
      'sudo -n mkdir -p /var/lib/crvs/locks && sudo -n mkdir /var/lib/crvs/locks/deploy-qa && ' +
        "sudo -n sh -c 'cat > /var/lib/crvs/locks/deploy-qa/holder.json' && echo acquired || " +
        '{ echo held && sudo -n cat /var/lib/crvs/locks/deploy-qa/holder.json; }',
    );
    expect(c.stdin).toBe(
      '{"who":"alice","host":"laptop","since":"2026-11-24T10:00:00Z","action":"deploy v2"}',
    );
    expect(parseLockAnswer('acquired\n')).toEqual({ acquired: true });
    expect(parseLockAnswer('held\n{"who":"bob","host":"ci","since":"x","action":"deploy v3"}\n')).toEqual({
      acquired: false,
      holder: { who: 'bob', host: 'ci', since: 'x', action: 'deploy v3' },
    });
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

describe('the deploy flow', () => {
  const responses = (probeOut: string) => [
    { match: /mkdir \/var\/lib\/crvs\/locks\/deploy-qa/, result: { stdout: 'acquired\n' } },
    { match: /release\.json.*echo/, result: { stdout: '{"version":"v1","history":["v1"]}' } },
    { match: /docker secret ls/, result: { stdout: 'crvs_other_0000000000\n' } },
    { match: /date -u/, result: { stdout: '2026-11-24T10:00:00Z\n' } },
    { match: /docker stack services -q/, result: { stdout: probeOut } },
  ];

  it('locks, audits, creates the new secret, uploads, deploys, waits, records the release, unlocks', async () => {
    const exec = new RecordingExecutor(
      responses(
        '{"name":"crvs_app","image":"reg/app:v2","update":{"State":"completed","StartedAt":"2026-11-24T10:00:02Z"}}\n{"name":"crvs_app","replicas":"2/2"}\n',
      ),
    );
    const lines: string[] = [];
    const r = await deploy(
      { exec, progress: (l) => lines.push(l), pollMs: 1 },
      {
        manager: m,
        stack: 'crvs',
        version: 'v2',
        compose,
        secrets: { APP_DB_PASSWORD: sensitive('canary-db-9') },
      },
    );
    expect(r.previous).toBe('v1');
    const steps = exec.commands.map((c) => c.description);
    expect(steps).toEqual([
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
    expect(exec.lines().join('\n')).not.toContain('canary');
    expect(lines).toContain('app 2/2');
  });

  it('reports a rolled-back release with diagnostics, audits it and still unlocks', async () => {
    const exec = new RecordingExecutor(
      responses(
        '{"name":"crvs_app","image":"reg/app:v3","update":{"State":"rollback_completed","StartedAt":"2026-11-24T10:00:02Z","Message":"update rolled back"}}\n{"name":"crvs_app","replicas":"2/2"}\n',
      ),
    );
    await expect(
      deploy(
        { exec, progress: () => {}, pollMs: 1 },
        {
          manager: m,
          stack: 'crvs',
          version: 'v3',
          compose,
          secrets: { APP_DB_PASSWORD: sensitive('canary-db-9') },
        },
      ),
    ).rejects.toThrow('v3 did not become healthy on qa; Swarm rolled it back');
    const steps = exec.commands.map((c) => c.description);
    expect(steps.slice(-3)).toEqual([
      'diagnose crvs_app',
      'audit: deploy rolled-back',
      'release the deploy lock of qa',
    ]);
  });

  it('refuses when another deploy holds the lock, naming the holder', async () => {
    const exec = new RecordingExecutor([
      {
        match: /mkdir/,
        result: {
          stdout: 'held\n{"who":"bob","host":"ci","since":"2026-11-24T09:59:00Z","action":"deploy v9"}\n',
        },
      },
    ]);
    await expect(
      deploy(
        { exec, progress: () => {} },
        { manager: m, stack: 'crvs', version: 'v2', compose, secrets: {} },
      ),
    ).rejects.toThrow('qa is locked by bob on ci since 2026-11-24T09:59:00Z (deploy v9)');
    expect(exec.commands).toHaveLength(1);
  });
});
