// Use cases behind `crvs deploy`, `rollback`, `seed` and `reset` for one environment: they gather the spec,
// the secrets and the images, then hand the work to the deploy flow and the seed job.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { CrvsError, PreconditionError } from '../errors.js';
import { labRecipes } from '../lab/images.js';
import type { Executor } from '../remote/executor.js';
import { type Sensitive, sensitive } from '../secrets/sensitive.js';
import { SecretStore, storePath } from '../secrets/store.js';
import type { Spec } from '../config/schema.js';
import { type AuditEntry, appendAudit, parseAudit, readAudit } from './audit.js';
import { buildAndPush, demoImages, imageRef, registryHas } from './demo-images.js';
import { actor, bindSecrets, type DeployResult, deploy } from './deploy.js';
import { releaseLock } from './lock.js';
import type { Manager } from './remote.js';
import { createSeedJob, jobOutcome, removeService, seedJobLogs, seedJobState } from './seed.js';
import { renderDemoStack, STACK } from './stack-demo.js';
import { renderOpenCrvsStack } from './stack-opencrvs.js';
import { createSecret, listSecrets, type Release, readRelease, readStack } from './swarm.js';

export interface ReleaseRun {
  exec: Executor;
  progress: (line: string) => void;
  pollMs?: number;
}

export interface EnvironmentContext {
  spec: Spec;
  specFile: string;
  environment: string;
  identity: string;
  manager: Manager;
}

export async function loadSecrets(
  run: ReleaseRun,
  c: EnvironmentContext,
): Promise<Record<string, Sensitive<string>>> {
  const store = new SecretStore(run.exec, storePath(c.specFile, c.environment), c.environment);
  if (!store.exists())
    throw new PreconditionError(
      `${c.environment} has no secrets store yet`,
      `crvs secrets init ${c.environment}`,
    );
  const secrets = await store.load(c.identity);
  return Object.fromEntries([...secrets].map(([k, v]) => [k, v.value]));
}

/** Where the host pushes images: the lab publishes its registry on loopback; elsewhere the registry itself. */
export function pushRegistry(spec: Spec, specFile: string, env: NodeJS.ProcessEnv): string {
  if (env.CRVS_REGISTRY_PUSH) return env.CRVS_REGISTRY_PUSH;
  const state = join(dirname(specFile), 'state.json');
  if (existsSync(state)) {
    const lab = JSON.parse(readFileSync(state, 'utf8')) as {
      topology?: { services?: { address: string; registryPush: string } };
    };
    const s = lab.topology?.services;
    if (s && spec.registry.host === `${s.address}:5000`) return s.registryPush;
  }
  return spec.registry.host;
}

export async function ensureDemoImages(
  run: ReleaseRun,
  spec: Spec,
  specFile: string,
  version: string,
): Promise<void> {
  const push = pushRegistry(spec, specFile, process.env);
  const base = labRecipes(process.env.CRVS_DEBIAN_MIRROR).debian.tag;
  if (
    (
      await run.exec.run({
        argv: ['docker', 'image', 'inspect', base],
        allowFailure: true,
        description: 'look for the lab base image',
      })
    ).code !== 0
  )
    throw new PreconditionError(`the demo images build from ${base}, which is missing`, 'crvs lab up');
  for (const image of demoImages(version)) {
    if ((await run.exec.run(registryHas(push, image))).code === 0) continue;
    run.progress(`building ${image.repository}:${image.tag} and pushing it to ${push}`);
    for (const c of buildAndPush(base, push, image)) await run.exec.run(c);
  }
}

export interface Rendered {
  compose: string;
  /** The store's values plus what the preset derives from them (env files, key halves, configs). */
  secrets: Record<string, Sensitive<string>>;
}

/** The stack file of one release, and every secret value it needs. Pure but for reading the spec's TLS files. */
export function render(
  spec: Spec,
  specFile: string,
  environment: string,
  version: string,
  values: Record<string, Sensitive<string>>,
): Rendered {
  if (spec.stack.preset === 'demo')
    return { compose: renderDemoStack(spec, environment, version), secrets: values };
  const stack = renderOpenCrvsStack(spec, environment, version, (n) => n in values);
  const secrets = { ...values };
  const read = (p: string) => readFileSync(resolve(dirname(specFile), p), 'utf8');
  for (const d of stack.derived) {
    const missing = d.from.filter((n) => !values[n]);
    if (missing.length) continue; // bindSecrets names what is missing
    secrets[d.key] = sensitive(
      d.derive((n) => values[n]?.reveal(), read),
      d.key,
    );
  }
  return { compose: stack.compose, secrets };
}

export async function deployRelease(
  run: ReleaseRun,
  c: EnvironmentContext,
  version: string,
): Promise<DeployResult> {
  const secrets = await loadSecrets(run, c);
  if (c.spec.stack.preset === 'demo') await ensureDemoImages(run, c.spec, c.specFile, version);
  const r = render(c.spec, c.specFile, c.environment, version, secrets);
  return deploy(
    { exec: run.exec, progress: run.progress, ...(run.pollMs ? { pollMs: run.pollMs } : {}) },
    { manager: c.manager, stack: STACK, version, compose: r.compose, secrets: r.secrets },
  );
}

export interface DryRun {
  running?: string;
  version: string;
  /** Unified diff of the stack file that would be deployed against the one that runs ('' when identical). */
  diff: string;
}

/** What `deploy` would change: the bound stack file of `version` against the running release's, nothing applied. */
export async function dryRun(run: ReleaseRun, c: EnvironmentContext, version: string): Promise<DryRun> {
  const secrets = await loadSecrets(run, c);
  const r = render(c.spec, c.specFile, c.environment, version, secrets);
  const next = bindSecrets(r.compose, STACK, r.secrets).compose;
  const release = await currentRelease(run, c.manager);
  const running = release.version ? (await run.exec.run(readStack(c.manager, release.version))).stdout : '';
  const from = release.version ? `running ${release.version}` : 'nothing running';
  const diff =
    running === next ? '' : createTwoFilesPatch(from, `would deploy ${version}`, running, next, '', '');
  return { ...(release.version ? { running: release.version } : {}), version, diff };
}

export async function currentRelease(run: ReleaseRun, m: Manager): Promise<Partial<Release>> {
  return JSON.parse((await run.exec.run(readRelease(m))).stdout || '{}') as Partial<Release>;
}

/** Redeploys a release kept on the manager: the given version, or the one before the running one. */
export async function rollbackRelease(
  run: ReleaseRun,
  c: EnvironmentContext,
  version?: string,
): Promise<DeployResult> {
  const release = await currentRelease(run, c.manager);
  const history = release.history ?? [];
  const target = version ?? history[history.indexOf(release.version ?? '') - 1];
  if (!target)
    throw new CrvsError('E_ROLLBACK', `${c.environment} has no earlier release to roll back to`, {
      exitCode: 1,
    });
  const stack = await run.exec.run(readStack(c.manager, target));
  if (stack.code !== 0)
    throw new CrvsError('E_ROLLBACK', `release ${target} is not kept on ${c.environment}'s manager`, {
      hint: `kept: ${history.join(', ') || 'none'}`,
    });
  const secrets = await loadSecrets(run, c);
  return deploy(
    { exec: run.exec, progress: run.progress, ...(run.pollMs ? { pollMs: run.pollMs } : {}) },
    { manager: c.manager, stack: STACK, version: target, compose: stack.stdout, secrets, action: 'rollback' },
  );
}

export interface SeedResult {
  outcome: 'seeded' | 'refused';
  log: string;
}

export async function runSeed(
  run: ReleaseRun,
  c: EnvironmentContext,
  o: { force: boolean; reset: boolean },
): Promise<SeedResult> {
  if (c.spec.stack.preset !== 'demo')
    throw new CrvsError('E_PRESET', `seeding the ${c.spec.stack.preset} preset is not automated yet`, {
      hint: 'crvs seed runs the demo preset\'s seed job; see docs/deploy.md, "The OpenCRVS preset"',
    });
  const release = await currentRelease(run, c.manager);
  if (!release.version)
    throw new PreconditionError(`nothing is deployed on ${c.environment}`, `crvs deploy ${c.environment}`);
  const secrets = await loadSecrets(run, c);
  const needed = ['APP_DB_PASSWORD', 'SUPER_USER_PASSWORD'];
  const { bound } = bindSecrets(
    `secrets:\n${needed.map((n) => `  ${n}: { external: true }`).join('\n')}\n`,
    STACK,
    Object.fromEntries(needed.filter((n) => secrets[n]).map((n) => [n, secrets[n] as Sensitive<string>])),
  );
  const existing = new Set((await run.exec.run(listSecrets(c.manager))).stdout.split('\n'));
  for (const s of bound)
    if (!existing.has(s.name)) await run.exec.run(createSecret(c.manager, s.name, s.key, s.value));
  const image = imageRef(
    c.spec.registry.host,
    demoImages(release.version)[0] as ReturnType<typeof demoImages>[0],
  );
  const name = `${STACK}_seed_${Date.now()}`;
  const { who, from } = actor();
  const audit = (result: AuditEntry['result'], detail?: string) =>
    run.exec.run(
      appendAudit(c.manager, {
        at: new Date().toISOString(),
        environment: c.environment,
        action: o.reset ? 'reset' : 'seed',
        who,
        from,
        version: release.version as string,
        result,
        ...(detail ? { detail } : {}),
      }),
    );
  await audit('started');
  await run.exec.run(
    createSeedJob(c.manager, {
      name,
      image,
      network: `${STACK}_default`,
      secrets: bound.map((b) => ({ name: b.name, target: b.key })),
      force: o.force,
      reset: o.reset,
    }),
  );
  try {
    let outcome = 'running';
    for (let i = 0; outcome === 'running'; i++) {
      if (i > 200) throw new CrvsError('E_SEED_TIMEOUT', `the seed job ${name} did not finish`);
      await new Promise((r) => setTimeout(r, run.pollMs ?? 2000));
      outcome = jobOutcome((await run.exec.run(seedJobState(c.manager, name))).stdout);
    }
    const state = (await run.exec.run(seedJobState(c.manager, name))).stdout.trim();
    const log = (await run.exec.run(seedJobLogs(c.manager, name))).stdout.trim();
    if (log.includes('SEED_REFUSED')) {
      await audit('refused', 'already seeded');
      return { outcome: 'refused', log };
    }
    if (outcome !== 'complete' || !log.includes('SEEDED')) {
      await audit('failed', log.split('\n').pop());
      throw new CrvsError(
        'E_SEED',
        `the seed job failed on ${c.environment} (task: ${state || 'no task'})\n${log || '(no output)'}`,
      );
    }
    await audit('succeeded', log.split('\n').pop());
    return { outcome: 'seeded', log };
  } finally {
    await run.exec.run(removeService(c.manager, name));
  }
}

export async function auditLog(run: ReleaseRun, m: Manager, lines: number): Promise<AuditEntry[]> {
  return parseAudit((await run.exec.run(readAudit(m, lines))).stdout);
}

export async function breakLock(run: ReleaseRun, c: EnvironmentContext): Promise<void> {
  await run.exec.run(releaseLock(c.manager));
  const { who, from } = actor();
  await run.exec.run(
    appendAudit(c.manager, {
      at: new Date().toISOString(),
      environment: c.environment,
      action: 'lock-broken',
      who,
      from,
      result: 'succeeded',
    }),
  );
}
