// `crvs deploy`: lock, audit, secrets, stack file, `docker stack deploy`, watch convergence; a release that
// does not converge is rolled back by Swarm (failure_action: rollback), reported with logs, and fails.
import { hostname, userInfo } from 'node:os';
import { parse, stringify } from 'yaml';
import { CrvsError } from '../errors.js';
import type { Executor } from '../remote/executor.js';
import type { Sensitive } from '../secrets/sensitive.js';
import { type AuditEntry, appendAudit } from './audit.js';
import { assess, parseProbe, probeStack, type ServiceProbe } from './converge.js';
import { acquireLock, type LockHolder, parseLockAnswer, releaseLock } from './lock.js';
import type { Manager } from './remote.js';
import {
  createSecret,
  dockerSecretName,
  listSecrets,
  managerClock,
  type Release,
  readRelease,
  serviceDiagnostics,
  stackDeploy,
  uploadStack,
  writeRelease,
} from './swarm.js';

export interface DeployRun {
  exec: Executor;
  progress: (line: string) => void;
  /** Poll interval and limit for convergence (tests shorten them). */
  pollMs?: number;
  timeoutMs?: number;
}

export interface DeployRequest {
  manager: Manager;
  stack: string;
  version: string;
  /** The rendered compose document; top-level `secrets` keys name entries of the secrets store. */
  compose: string;
  secrets: Record<string, Sensitive<string>>;
  action?: 'deploy' | 'rollback';
}

export interface DeployResult {
  version: string;
  previous?: string;
  services: ServiceProbe[];
  ms: number;
}

export function actor(): { who: string; from: string } {
  return {
    who: process.env.GITHUB_ACTOR ?? userInfo().username,
    from: process.env.GITHUB_ACTIONS ? 'github-actions' : hostname(),
  };
}

/** Points every external secret of the compose document at the Swarm secret holding its current value. */
export function bindSecrets(
  compose: string,
  stack: string,
  values: Record<string, Sensitive<string>>,
): { compose: string; bound: { key: string; name: string; value: Sensitive<string> }[] } {
  const doc = parse(compose) as { secrets?: Record<string, { external?: boolean; name?: string }> };
  const bound: { key: string; name: string; value: Sensitive<string> }[] = [];
  const missing: string[] = [];
  for (const [key, def] of Object.entries(doc.secrets ?? {})) {
    if (!def?.external) continue;
    const value = values[key];
    if (!value) {
      missing.push(key);
      continue;
    }
    const name = dockerSecretName(stack, key, value);
    def.name = name;
    bound.push({ key, name, value });
  }
  if (missing.length)
    throw new CrvsError(
      'E_SECRETS_MISSING',
      `the stack needs secrets that are not in the store: ${missing.join(', ')}`,
      {
        hint: 'crvs secrets check <env>; crvs secrets init <env>',
        exitCode: 1,
      },
    );
  return { compose: stringify(doc, { lineWidth: 0 }), bound };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function watch(run: DeployRun, req: DeployRequest, since: Date): Promise<ServiceProbe[]> {
  const deadline = Date.now() + (run.timeoutMs ?? 10 * 60_000);
  let last = '';
  for (;;) {
    const services = parseProbe((await run.exec.run(probeStack(req.manager, req.stack))).stdout);
    const a = assess(services, since);
    const line = services
      .map(
        (s) =>
          `${s.name.replace(`${req.stack}_`, '')} ${s.replicas}${s.update?.State && a.waiting.includes(s.name) ? ` ${s.update.State}` : ''}`,
      )
      .join(', ');
    if (line !== last) run.progress(line);
    last = line;
    if (a.state === 'converged') return services;
    if (a.state === 'failed') {
      const details: string[] = [];
      for (const f of a.failed) {
        const d = await run.exec.run(serviceDiagnostics(req.manager, f.service));
        details.push(`--- ${f.service}: ${f.reason}\n${d.stdout.trim()}`);
      }
      throw new CrvsError(
        'E_DEPLOY_ROLLED_BACK',
        `${req.version} did not become healthy on ${req.manager.environment}; Swarm rolled it back\n${details.join('\n')}`,
        { hint: 'the previous release keeps running; fix the release and deploy again' },
      );
    }
    if (Date.now() > deadline)
      throw new CrvsError(
        'E_DEPLOY_TIMEOUT',
        `${req.stack} did not converge in time; waiting on ${a.waiting.join(', ')}`,
        {
          hint: `inspect with: docker service ps ${a.waiting[0] ?? req.stack}`,
        },
      );
    await sleep(run.pollMs ?? 3000);
  }
}

export async function deploy(run: DeployRun, req: DeployRequest): Promise<DeployResult> {
  const started = Date.now();
  const m = req.manager;
  const action = req.action ?? 'deploy';
  const { who, from } = actor();
  const holder: LockHolder = {
    who,
    host: from,
    since: new Date().toISOString(),
    action: `${action} ${req.version}`,
  };
  const lock = parseLockAnswer((await run.exec.run(acquireLock(m, holder))).stdout);
  if (!lock.acquired) {
    const h = lock.holder;
    throw new CrvsError(
      'E_LOCKED',
      `${m.environment} is locked${h ? ` by ${h.who} on ${h.host} since ${h.since} (${h.action})` : ''}`,
      { hint: `wait for it to finish; if it is stale: crvs deploy unlock ${m.environment}` },
    );
  }
  const audit = async (result: AuditEntry['result'], extra: Partial<AuditEntry> = {}) => {
    await run.exec.run(
      appendAudit(m, {
        at: new Date().toISOString(),
        environment: m.environment,
        action,
        who,
        from,
        version: req.version,
        result,
        ...extra,
      }),
    );
  };
  try {
    const release = JSON.parse((await run.exec.run(readRelease(m))).stdout || '{}') as Partial<Release>;
    const previous = release.version;
    await audit('started', previous ? { previousVersion: previous } : {});
    const { compose, bound } = bindSecrets(req.compose, req.stack, req.secrets);
    const existing = new Set((await run.exec.run(listSecrets(m))).stdout.split('\n').filter(Boolean));
    for (const s of bound) {
      if (existing.has(s.name)) continue;
      run.progress(`secret ${s.key}: new value, stored as a Docker secret`);
      await run.exec.run(createSecret(m, s.name, s.key, s.value));
    }
    await run.exec.run(uploadStack(m, req.version, compose));
    const since = new Date((await run.exec.run(managerClock(m))).stdout.trim());
    run.progress(
      `deploying ${req.stack} ${req.version} to ${m.environment}${previous ? ` (running: ${previous})` : ''}`,
    );
    await run.exec.run(stackDeploy(m, req.stack, req.version));
    let services: ServiceProbe[];
    try {
      services = await watch(run, req, since);
    } catch (e) {
      await audit(e instanceof CrvsError && e.code === 'E_DEPLOY_ROLLED_BACK' ? 'rolled-back' : 'failed', {
        detail: e instanceof Error ? e.message.split('\n')[0] : String(e),
        ...(previous ? { previousVersion: previous } : {}),
      });
      throw e;
    }
    const history = [...(release.history ?? []).filter((v) => v !== req.version), req.version].slice(-20);
    await run.exec.run(writeRelease(m, { version: req.version, at: new Date().toISOString(), history }));
    await audit('succeeded', previous ? { previousVersion: previous } : {});
    return { version: req.version, ...(previous ? { previous } : {}), services, ms: Date.now() - started };
  } finally {
    await run.exec.run(releaseLock(m));
  }
}
