// `crvs deploy` and `crvs rollback`: a release plan (the stack file exactly as it will be deployed, the Swarm
// secrets it needs, the diff against what runs, the steps) is computed first; `--dry-run` prints it, apply
// executes it: lock, audit, secrets, upload, `docker stack deploy`, watch convergence, record. A release that does
// not converge is rolled back by Swarm (failure_action: rollback), reported with logs, and fails.
import { randomUUID } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { readComposeInputs } from '../config/compose-inputs.js';
import { STACK } from '../config/environment.js';
import { type AuditEntry, appendAudit, auditTrail } from '../deploy/audit.js';
import { bindSecrets } from '../deploy/bind.js';
import { assess, parseProbe, probeStack, type ServiceProbe } from '../deploy/converge.js';
import type { DemoImage } from '../deploy/demo-images.js';
import {
  acquireLock,
  type LockHolder,
  leaseSeconds,
  parseLockAnswer,
  releaseLock,
  renewLock,
} from '../deploy/lock.js';
import type { UploadedFile } from '../deploy/opencrvs/files.js';
import {
  createSecret,
  managerClock,
  readStack,
  serviceDiagnostics,
  stackDeploy,
  uploadFile,
  uploadStack,
  writeRelease,
} from '../deploy/swarm.js';
import { CrvsError, NotFoundError, UsageError } from '../errors.js';
import type { RemoteHost } from '../remote/host.js';
import { type Effects, type EnvironmentContext, pollPause } from './context.js';
import { reindexOpenCrvs } from './opencrvs-data.js';
import {
  type BoundSecret,
  buildImages,
  createMissingSecrets,
  currentRelease,
  existingSecrets,
  missingImages,
  renderRelease,
  storeValues,
} from './release.js';
import { requireDataVolume } from './volume.js';

export interface ReleasePlan {
  action: 'deploy' | 'rollback';
  environment: string;
  stack: string;
  version: string;
  /** The release running when the plan was made; apply refuses a plan made against another one. */
  running?: string;
  /** The stack file exactly as it is uploaded and deployed: secret names, never values. */
  compose: string;
  /** Files uploaded beside the stack file first (the country's files its configs point at). */
  files: UploadedFile[];
  /** Images apply builds and pushes first (the demo preset's, when the registry lacks them). */
  build: DemoImage[];
  /** Swarm secrets the stack file names, and whether each exists on the manager already. */
  secrets: (BoundSecret & { exists: boolean })[];
  /** Unified diff against the running release's stack file ('' when identical). */
  diff: string;
  /** What apply does, in order. */
  steps: string[];
}

export interface DeployResult {
  version: string;
  previous?: string;
  services: ServiceProbe[];
  ms: number;
}

/** The plan of deploying a stack file (a rendered release, or a kept one for a rollback) with these values. */
export async function planRelease(
  fx: Effects,
  c: EnvironmentContext,
  o: {
    action: ReleasePlan['action'];
    version: string;
    template: string;
    values: Record<string, BoundSecret['value']>;
    build: DemoImage[];
    files: UploadedFile[];
  },
): Promise<ReleasePlan> {
  const m = c.manager;
  const { compose, bound, kept } = bindSecrets(o.template, STACK, o.values);
  const existing = await existingSecrets(fx, m);
  const gone = kept.filter((k) => !existing.has(k.name));
  if (gone.length)
    throw new CrvsError(
      'E_ROLLBACK',
      `release ${o.version} needs secrets that are neither in the store nor on ${c.environment}'s manager: ${gone.map((g) => g.key).join(', ')}`,
      { hint: `crvs secrets check ${c.environment}` },
    );
  const release = await currentRelease(fx, m);
  const running = release.version ? (await fx.exec.run(readStack(m, release.version))).stdout : '';
  const from = release.version ? `running ${release.version}` : 'nothing running';
  const diff =
    running === compose
      ? ''
      : createTwoFilesPatch(from, `would ${o.action} ${o.version}`, running, compose, '', '');
  const secrets = bound.map((b) => ({ ...b, exists: existing.has(b.name) }));
  const steps = [
    ...o.build.map((i) => `build and push ${i.repository}:${i.tag}`),
    `take the deploy lock of ${c.environment}`,
    ...secrets.filter((s) => !s.exists).map((s) => createSecret(m, s.name, s.key, s.value).description ?? ''),
    ...o.files.map((f) => uploadFile(m, f.path, f.content).description ?? ''),
    uploadStack(m, o.version, compose).description ?? '',
    stackDeploy(m, STACK, o.version).description ?? '',
    'watch until every service has converged (Swarm rolls back a release that does not)',
    `record release ${o.version}`,
    ...(c.spec.stack.preset === 'opencrvs'
      ? ['reindex search and analytics from the events database (as the reference does after every deploy)']
      : []),
    `release the deploy lock of ${c.environment}`,
  ];
  return {
    action: o.action,
    environment: c.environment,
    stack: STACK,
    version: o.version,
    ...(release.version ? { running: release.version } : {}),
    compose,
    files: o.files,
    build: o.build,
    secrets,
    diff,
    steps,
  };
}

/** What `crvs deploy` would do; reads the store, the registry and the manager, changes nothing. */
export async function planDeploy(fx: Effects, c: EnvironmentContext, version: string): Promise<ReleasePlan> {
  // Broken or missing compose inputs stop the deploy before the store is opened or a server is contacted.
  if (c.spec.stack.preset === 'opencrvs') readComposeInputs(c.spec, c.specFile, c.environment, version);
  const values = await storeValues(fx, c);
  const r = renderRelease(c.spec, c.specFile, c.environment, version, values);
  const build = await missingImages(fx, c.spec, version);
  return planRelease(fx, c, {
    action: 'deploy',
    version,
    template: r.compose,
    values: r.secrets,
    build,
    files: r.files,
  });
}

/** A rollback to a release kept on the manager (default: the one before the running one), bound to today's values. */
export async function planRollback(
  fx: Effects,
  c: EnvironmentContext,
  version?: string,
): Promise<ReleasePlan> {
  const release = await currentRelease(fx, c.manager);
  const history = release.history ?? [];
  const target = version ?? history[history.indexOf(release.version ?? '') - 1];
  if (!target) throw new CrvsError('E_ROLLBACK', `${c.environment} has no earlier release to roll back to`);
  const kept = await fx.exec.run(readStack(c.manager, target));
  if (kept.code !== 0)
    throw new NotFoundError('release', target, c.environment, `kept: ${history.join(', ') || 'none'}`);
  const values = await storeValues(fx, c);
  // The preset's derived secrets (env files, key halves) of that release, from today's store.
  const r = renderRelease(c.spec, c.specFile, c.environment, target, values);
  return planRelease(fx, c, {
    action: 'rollback',
    version: target,
    template: kept.stdout,
    values: r.secrets,
    build: [],
    // The kept release's files are still on the manager: their names carry their content.
    files: [],
  });
}

/** Executes a release plan. */
export async function applyRelease(
  fx: Effects,
  c: EnvironmentContext,
  plan: ReleasePlan,
): Promise<DeployResult> {
  const started = fx.now().getTime();
  const m = c.manager;
  await requireDataVolume(fx, c, c.environment);
  await buildImages(fx, c.spec, plan.build);
  const lease = leaseOrUsageError(fx);
  const holder: LockHolder = {
    who: fx.actor.who,
    host: fx.actor.from,
    since: fx.now().toISOString(),
    action: `${plan.action} ${plan.version}`,
    id: randomUUID(),
    leaseSeconds: lease,
  };
  const id = holder.id as string;
  const lock = parseLockAnswer((await fx.exec.run(acquireLock(m, holder, lease))).stdout);
  if (!lock.acquired) {
    const h = lock.holder;
    const left =
      lock.ageSeconds === undefined ? undefined : Math.max(0, (h?.leaseSeconds ?? lease) - lock.ageSeconds);
    throw new CrvsError(
      'E_LOCKED',
      `${m.environment} is locked${h ? ` by ${h.who} on ${h.host} since ${h.since} (${h.action})` : ''}`,
      {
        hint:
          left === undefined
            ? `wait for it to finish; if it is stale: crvs deploy unlock ${m.environment}`
            : `its holder renewed it ${lock.ageSeconds} s ago; if that run has stopped, its lease runs out in ${left} s and the next deploy takes the lock over`,
      },
    );
  }
  if (lock.abandoned) await recordAbandoned(fx, m, lock.abandoned, lease);
  const keeper = keepLease(fx, m, id, lease);
  const audit = auditTrail(fx.exec, m, {
    actor: fx.actor,
    action: plan.action,
    version: plan.version,
    now: fx.now,
  });
  try {
    const release = await currentRelease(fx, m);
    const previous = release.version;
    if (previous !== plan.running)
      throw new CrvsError(
        'E_PLAN_STALE',
        `the plan was made while ${plan.running ?? 'nothing'} ran on ${m.environment}; now ${previous ?? 'nothing'} runs`,
        { hint: 'plan again' },
      );
    const since = previous ? { previousVersion: previous } : {};
    await audit('started', since);
    await createMissingSecrets(
      fx,
      m,
      plan.secrets,
      (s) => `secret ${s.key}: new value, stored as a Docker secret`,
    );
    for (const f of plan.files) await fx.exec.run(uploadFile(m, f.path, f.content));
    await fx.exec.run(uploadStack(m, plan.version, plan.compose));
    const clock = new Date((await fx.exec.run(managerClock(m))).stdout.trim());
    fx.progress(
      `deploying ${plan.stack} ${plan.version} to ${m.environment}${previous ? ` (running: ${previous})` : ''}`,
    );
    await fx.exec.run(stackDeploy(m, plan.stack, plan.version));
    let services: ServiceProbe[];
    try {
      services = await watchConvergence(fx, m, plan, clock);
    } catch (e) {
      const result: AuditEntry['result'] =
        e instanceof CrvsError && e.code === 'E_DEPLOY_ROLLED_BACK' ? 'rolled-back' : 'failed';
      await audit(result, {
        detail: e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e),
        ...since,
      });
      throw e;
    }
    keeper.check();
    const history = [...(release.history ?? []).filter((v) => v !== plan.version), plan.version].slice(-20);
    await fx.exec.run(writeRelease(m, { version: plan.version, at: fx.now().toISOString(), history }));
    await audit('succeeded', since);
    if (c.spec.stack.preset === 'opencrvs') {
      fx.progress('reindexing search and analytics');
      await reindexOpenCrvs(fx, c, plan.version);
    }
    return {
      version: plan.version,
      ...(previous ? { previous } : {}),
      services,
      ms: fx.now().getTime() - started,
    };
  } finally {
    await keeper.stop();
    await fx.exec.run(releaseLock(m, id));
  }
}

function leaseOrUsageError(fx: Effects): number {
  try {
    return leaseSeconds(fx.env);
  } catch (e) {
    throw new UsageError((e as Error).message, 'unset it for the default of 180 s');
  }
}

/** The run whose lease ran out goes on record as abandoned, under its own name, and the operator is told. */
async function recordAbandoned(
  fx: Effects,
  m: RemoteHost,
  abandoned: { holder?: LockHolder; ageSeconds: number },
  lease: number,
) {
  const h = abandoned.holder;
  const [action, version] = (h?.action ?? '').split(' ');
  fx.progress(
    `warning: took over the deploy lock of ${m.environment}: ${h ? `${h.who} on ${h.host} (${h.action}, since ${h.since})` : 'its holder'} stopped renewing it ${abandoned.ageSeconds} s ago (lease ${h?.leaseSeconds ?? lease} s)`,
  );
  await fx.exec.run(
    appendAudit(m, {
      at: fx.now().toISOString(),
      environment: m.environment,
      action: action === 'rollback' ? 'rollback' : 'deploy',
      who: h?.who ?? 'unknown',
      from: h?.host ?? 'unknown',
      ...(version ? { version } : {}),
      result: 'abandoned',
      detail: `no renewal of the deploy lock for ${abandoned.ageSeconds} s; taken over by ${fx.actor.who} on ${fx.actor.from}`,
    }),
  );
}

/**
 * Renews the lease every sixth of its length while the deploy works. A renewal that finds the lock gone (broken
 * by an operator, or taken over after this run stalled longer than the lease) is remembered, and check() refuses
 * to record the release as this run's.
 */
function keepLease(fx: Effects, m: RemoteHost, id: string, lease: number) {
  let lost = false;
  let pending: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      pending = pending
        .then(() => fx.exec.run(renewLock(m, id)))
        .then((r) => {
          if (r.stdout.trim() === 'lost' && !lost) {
            lost = true;
            fx.progress(`warning: the deploy lock of ${m.environment} is no longer this run's`);
          }
        })
        .catch(() => undefined);
    },
    Math.max(1000, (lease * 1000) / 6),
  );
  return {
    check() {
      if (lost)
        throw new CrvsError(
          'E_LOCK_LOST',
          `the deploy lock of ${m.environment} was taken from this run (broken, or taken over after its lease ran out)`,
          { hint: `crvs deploy log ${m.environment} says who; deploy again when it is free` },
        );
    },
    async stop() {
      clearInterval(timer);
      await pending;
    },
  };
}

async function watchConvergence(
  fx: Effects,
  m: RemoteHost,
  plan: ReleasePlan,
  since: Date,
  timeoutMs = 10 * 60_000,
): Promise<ServiceProbe[]> {
  const deadline = fx.now().getTime() + timeoutMs;
  let last = '';
  for (;;) {
    const services = parseProbe((await fx.exec.run(probeStack(m, plan.stack))).stdout);
    const a = assess(services, since);
    const line = services
      .map(
        (s) =>
          `${s.name.replace(`${plan.stack}_`, '')} ${s.replicas}${s.update?.State && a.waiting.includes(s.name) ? ` ${s.update.State}` : ''}`,
      )
      .join(', ');
    if (line !== last) fx.progress(line);
    last = line;
    if (a.state === 'converged') return services;
    if (a.state === 'failed') {
      const details: string[] = [];
      for (const f of a.failed) {
        const d = await fx.exec.run(serviceDiagnostics(m, f.service));
        details.push(`--- ${f.service}: ${f.reason}\n${d.stdout.trim()}`);
      }
      throw new CrvsError(
        'E_DEPLOY_ROLLED_BACK',
        `${plan.version} did not become healthy on ${m.environment}; Swarm rolled it back\n${details.join('\n')}`,
        { hint: 'the previous release keeps running; fix the release and deploy again' },
      );
    }
    if (fx.now().getTime() > deadline)
      throw new CrvsError(
        'E_DEPLOY_TIMEOUT',
        `${plan.stack} did not converge in time; waiting on ${a.waiting.join(', ')}`,
        { hint: `inspect with: docker service ps ${a.waiting[0] ?? plan.stack}` },
      );
    await pollPause(fx, 3000);
  }
}
