// The seed job: a one-shot Swarm job on the stack's network, so it needs no public address. Its secrets are
// Docker secrets like the stack's. The job itself refuses a second run unless FORCE=1; crvs never passes FORCE
// for production.
import { chain, shellLine } from '../remote/combinators.js';
import type { CommandSpec } from '../remote/executor.js';
import { type Manager, onManager } from './remote.js';

export interface SeedJob {
  name: string;
  image: string;
  network: string;
  /** Docker secret name -> target file name under /run/secrets. */
  secrets: { name: string; target: string }[];
  force: boolean;
  reset: boolean;
}

export function createSeedJob(m: Manager, job: SeedJob): CommandSpec {
  return onManager(
    m,
    shellLine([
      'sudo',
      '-n',
      'docker',
      'service',
      'create',
      '--detach',
      '--quiet',
      '--name',
      job.name,
      '--mode',
      'replicated-job',
      '--restart-condition',
      'none',
      '--network',
      job.network,
      ...job.secrets.flatMap((s) => ['--secret', `source=${s.name},target=${s.target}`]),
      '--env',
      'DB_HOST=db',
      '--env',
      'DOCUMENTS_URL=http://documents:8080',
      '--env',
      `FORCE=${job.force ? '1' : '0'}`,
      '--env',
      `RESET=${job.reset ? '1' : '0'}`,
      job.image,
      'node',
      '/app/seed.js',
    ]),
    { description: `start seed job ${job.name}` },
  );
}

export const seedJobState = (m: Manager, name: string): CommandSpec =>
  onManager(
    m,
    shellLine([
      'sudo',
      '-n',
      'docker',
      'service',
      'ps',
      '--no-trunc',
      '--format',
      '{{.CurrentState}}|{{.Error}}',
      name,
    ]),
    {
      description: `watch seed job ${name}`,
    },
  );

export const seedJobLogs = (m: Manager, name: string): CommandSpec =>
  onManager(m, `${shellLine(['sudo', '-n', 'docker', 'service', 'logs', '--raw', name])} 2>&1`, {
    allowFailure: true,
    description: `read seed job ${name} logs`,
  });

export const removeService = (m: Manager, name: string): CommandSpec =>
  onManager(m, chain(['sudo', '-n', 'docker', 'service', 'rm', name]), {
    allowFailure: true,
    description: `remove ${name}`,
  });

export type JobOutcome = 'running' | 'complete' | 'failed';

export function jobOutcome(stdout: string): JobOutcome {
  const states = stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|')[0] ?? '');
  if (states.some((s) => s.startsWith('Complete'))) return 'complete';
  if (states.length && states.every((s) => /^(Failed|Rejected|Shutdown)/.test(s))) return 'failed';
  return 'running';
}
