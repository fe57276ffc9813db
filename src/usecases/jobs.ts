// Running one-shot Swarm jobs on an environment's manager and waiting for them: a job crvs creates (seed, the
// clearing steps of reset, reindex), or a job of the stack run again (migration, postgres-on-update).
import { settled } from '../deploy/converge.js';
import { createJob, type Job, jobIteration, jobReplicas, rerunJob } from '../deploy/opencrvs/jobs.js';
import { jobOutcome, removeService, seedJobLogs, seedJobState } from '../deploy/seed.js';
import { CrvsError } from '../errors.js';
import type { RemoteHost } from '../remote/host.js';
import { type Effects, pollPause } from './context.js';

/** Creates the job, waits for it to end, returns its log, removes it; fails with its log when it failed. */
export async function runJob(fx: Effects, m: RemoteHost, job: Job, maxPolls = 300): Promise<string> {
  await fx.exec.run(createJob(m, job));
  try {
    let outcome = 'running';
    for (let i = 0; outcome === 'running'; i++) {
      if (i > maxPolls) throw new CrvsError('E_SEED_TIMEOUT', `the job ${job.name} did not finish`);
      await pollPause(fx, 2000);
      outcome = jobOutcome((await fx.exec.run(seedJobState(m, job.name))).stdout);
    }
    const log = (await fx.exec.run(seedJobLogs(m, job.name))).stdout.trim();
    if (outcome !== 'complete')
      throw new CrvsError(
        'E_SEED',
        `the job ${job.name} failed on ${m.environment}\n${log || '(no output)'}`,
      );
    return log;
  } finally {
    await fx.exec.run(removeService(m, job.name));
  }
}

/**
 * Runs a job of the stack again and waits until that new run has completed: the run counter must have moved
 * first, or the completion seen could be the previous run's.
 */
export async function rerunStackJob(
  fx: Effects,
  m: RemoteHost,
  service: string,
  maxPolls = 300,
): Promise<void> {
  const iteration = async () => Number((await fx.exec.run(jobIteration(m, service))).stdout.trim() || 0);
  const before = await iteration();
  await fx.exec.run(rerunJob(m, service));
  for (let i = 0; ; i++) {
    await pollPause(fx, 2000);
    const line = (await fx.exec.run(jobReplicas(m, service))).stdout.trim().split('\n')[0] ?? '';
    if ((await iteration()) > before && settled(line.slice(line.indexOf(' ') + 1))) return;
    if (i > maxPolls)
      throw new CrvsError('E_DEPLOY_TIMEOUT', `${service} did not complete on ${m.environment}`, {
        hint: `docker service ps ${service}`,
      });
  }
}
