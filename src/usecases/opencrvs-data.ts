// Seed, reset and reindex of the opencrvs preset, as the reference chains them (seed-data.yml, clear-environment.yml,
// reindex.yml), run as one-shot jobs inside the cluster network. Seed runs once (the seeder deactivates the super
// user it logs in with); reset clears what clear-all-data.sh clears, recreates the Postgres roles, runs the
// migrations, seeds and reindexes; production is never reset.
import { parse } from 'yaml';
import { STACK } from '../config/environment.js';
import {
  clearBucketJob,
  clearMongoJob,
  clearPostgresJob,
  clearSearchJob,
  forgetSeeded,
  readSeeded,
  reindexJob,
  seedJob,
  writeSeeded,
} from '../deploy/opencrvs/jobs.js';
import { readStack } from '../deploy/swarm.js';
import { CrvsError, PreconditionError, UsageError } from '../errors.js';
import type { Effects, EnvironmentContext } from './context.js';
import { rerunStackJob, runJob } from './jobs.js';
import { currentRelease, jobSecrets } from './release.js';

/** The bucket tool of the reference's clear-all-data.sh (its stack runs no mc). */
const MC_IMAGE = 'minio/mc:RELEASE.2025-05-21T01-59-54Z';

interface Running {
  version: string;
  /** Images of the running release's services (the tools of the clearing jobs). */
  images: Record<string, string>;
  /** Swarm secret name of each store secret the jobs read. */
  secret: (key: string) => string;
}

async function running(fx: Effects, c: EnvironmentContext, keys: string[]): Promise<Running> {
  const m = c.manager;
  const release = await currentRelease(fx, m);
  if (!release.version)
    throw new PreconditionError(`nothing is deployed on ${c.environment}`, `crvs deploy ${c.environment}`);
  const stack = parse((await fx.exec.run(readStack(m, release.version))).stdout || '{}') as {
    services?: Record<string, { image?: string }>;
  };
  const images = Object.fromEntries(Object.entries(stack.services ?? {}).map(([k, v]) => [k, v.image ?? '']));
  const bound = await jobSecrets(fx, c, keys);
  const names = new Map(bound.map((b) => [b.key, b.name]));
  return { version: release.version, images, secret: (k) => names.get(k) as string };
}

const activated = (environment: string) => environment === 'qa' || environment === 'development';

export async function seedOpenCrvs(
  fx: Effects,
  c: EnvironmentContext,
  o: { again?: boolean } = {},
): Promise<string> {
  const m = c.manager;
  const seeded = await fx.exec.run(readSeeded(m));
  if (seeded.code === 0 && seeded.stdout.trim() && !o.again)
    throw new CrvsError(
      'E_SEEDED',
      `${c.environment} is already seeded (${seeded.stdout.trim()}); nothing was changed`,
      {
        hint: c.environment === 'production' ? 'production is seeded once' : `crvs reset ${c.environment}`,
      },
    );
  const r = await running(fx, c, ['SUPER_USER_PASSWORD']);
  const log = await runJob(
    fx,
    m,
    seedJob(
      `${STACK}_seed_${fx.now().getTime()}`,
      r.version,
      activated(c.environment),
      r.secret('SUPER_USER_PASSWORD'),
    ),
  );
  await fx.exec.run(writeSeeded(m, { at: fx.now().toISOString(), version: r.version }));
  return log;
}

export async function reindexOpenCrvs(fx: Effects, c: EnvironmentContext, version: string): Promise<string> {
  return runJob(fx, c.manager, reindexJob(`${STACK}_reindex_${fx.now().getTime()}`, version));
}

export async function resetOpenCrvs(fx: Effects, c: EnvironmentContext): Promise<string> {
  if (c.environment === 'production')
    throw new UsageError('reset is refused on production: it holds citizen data');
  const m = c.manager;
  const r = await running(fx, c, [
    'MONGODB_ADMIN_PASSWORD',
    'ELASTICSEARCH_SUPERUSER_PASSWORD',
    'MINIO_ROOT_PASSWORD',
    'POSTGRES_PASSWORD',
  ]);
  const image = (service: string) => {
    const i = r.images[service];
    if (!i)
      throw new PreconditionError(
        `the running release has no ${service} service`,
        `crvs deploy ${c.environment}`,
      );
    return i;
  };
  const job = (what: string) => `${STACK}_reset_${what}_${fx.now().getTime()}`;
  fx.progress('clearing MongoDB, Elasticsearch, InfluxDB, MinIO and Postgres');
  await runJob(fx, m, clearMongoJob(job('mongo'), image('mongo1'), r.secret('MONGODB_ADMIN_PASSWORD')));
  await runJob(
    fx,
    m,
    clearSearchJob(job('search'), image('elasticsearch'), r.secret('ELASTICSEARCH_SUPERUSER_PASSWORD')),
  );
  await runJob(fx, m, clearBucketJob(job('bucket'), MC_IMAGE, r.secret('MINIO_ROOT_PASSWORD')));
  await runJob(fx, m, clearPostgresJob(job('postgres'), image('postgres'), r.secret('POSTGRES_PASSWORD')));
  await fx.exec.run(forgetSeeded(m));
  fx.progress('recreating the Postgres roles, then running the migrations');
  await rerunStackJob(fx, m, `${STACK}_postgres-on-update`);
  await rerunStackJob(fx, m, `${STACK}_migration`);
  fx.progress('seeding');
  const log = await seedOpenCrvs(fx, c, { again: true });
  fx.progress('reindexing');
  await reindexOpenCrvs(fx, c, r.version);
  return log;
}
