// `crvs seed` and `crvs reset`: the preset's seed job runs once inside the cluster network (no public address
// needed), with its secrets as Swarm secrets; the job itself refuses a second run unless forced. Every run is in
// the audit log.
import { STACK } from '../config/environment.js';
import { auditTrail } from '../deploy/audit.js';
import { demoImages, imageRef } from '../deploy/demo-images.js';
import { createSeedJob, jobOutcome, removeService, seedJobLogs, seedJobState } from '../deploy/seed.js';
import { CrvsError, PreconditionError, UsageError } from '../errors.js';
import { type Effects, type EnvironmentContext, pollPause } from './context.js';
import { resetOpenCrvs, seedOpenCrvs } from './opencrvs-data.js';
import { currentRelease, jobSecrets } from './release.js';

export interface SeedResult {
  outcome: 'seeded' | 'refused';
  log: string;
}

/** The store's secrets the demo seed job reads. */
const SEED_SECRETS = ['APP_DB_PASSWORD', 'SUPER_USER_PASSWORD'];

export async function runSeed(
  fx: Effects,
  c: EnvironmentContext,
  o: { force: boolean; reset: boolean },
): Promise<SeedResult> {
  if (c.spec.stack.preset === 'opencrvs') {
    if (o.force && !o.reset)
      throw new UsageError(
        'the OpenCRVS data-seeder runs once',
        `crvs reset ${c.environment} clears and seeds again`,
      );
    const log = o.reset ? await resetOpenCrvs(fx, c) : await seedOpenCrvs(fx, c);
    return { outcome: 'seeded', log };
  }
  const m = c.manager;
  const release = await currentRelease(fx, m);
  if (!release.version)
    throw new PreconditionError(`nothing is deployed on ${c.environment}`, `crvs deploy ${c.environment}`);
  const bound = await jobSecrets(fx, c, SEED_SECRETS);
  const image = imageRef(
    c.spec.registry.host,
    demoImages(release.version)[0] as ReturnType<typeof demoImages>[0],
  );
  const name = `${STACK}_seed_${fx.now().getTime()}`;
  const audit = auditTrail(fx.exec, m, {
    actor: fx.actor,
    action: o.reset ? 'reset' : 'seed',
    version: release.version,
    now: fx.now,
  });
  await audit('started');
  await fx.exec.run(
    createSeedJob(m, {
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
      await pollPause(fx, 2000);
      outcome = jobOutcome((await fx.exec.run(seedJobState(m, name))).stdout);
    }
    const state = (await fx.exec.run(seedJobState(m, name))).stdout.trim();
    const log = (await fx.exec.run(seedJobLogs(m, name))).stdout.trim();
    if (log.includes('SEED_REFUSED')) {
      await audit('refused', { detail: 'already seeded' });
      return { outcome: 'refused', log };
    }
    const last = log.split('\n').pop();
    if (outcome !== 'complete' || !log.includes('SEEDED')) {
      await audit('failed', last ? { detail: last } : {});
      throw new CrvsError(
        'E_SEED',
        `the seed job failed on ${c.environment} (task: ${state || 'no task'})\n${log || '(no output)'}`,
      );
    }
    await audit('succeeded', last ? { detail: last } : {});
    return { outcome: 'seeded', log };
  } finally {
    await fx.exec.run(removeService(m, name));
  }
}
