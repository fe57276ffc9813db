// The seed job: a one-shot Swarm job on the stack's network, so it needs no public address. Its secrets are
// Docker secrets like the stack's. The job itself refuses a second run unless FORCE=1; crvs never passes FORCE
// for production.
import type { CommandSpec } from '../remote/executor.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { mergeErrors, sudo } from '../remote/shell.js';

export interface SeedJob {
  name: string;
  image: string;
  network: string;
  /** Docker secret name -> target file name under /run/secrets. */
  secrets: { name: string; target: string }[];
  force: boolean;
  reset: boolean;
}

export function createSeedJob(m: RemoteHost, job: SeedJob): CommandSpec {
  return onHost(
    m,
    sudo(
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
    ),
    { description: `start seed job ${job.name}` },
  );
}

export const seedJobState = (m: RemoteHost, name: string): CommandSpec =>
  onHost(m, sudo('docker', 'service', 'ps', '--no-trunc', '--format', '{{.CurrentState}}|{{.Error}}', name), {
    description: `watch seed job ${name}`,
  });

export const seedJobLogs = (m: RemoteHost, name: string): CommandSpec =>
  onHost(m, mergeErrors(sudo('docker', 'service', 'logs', '--raw', name)), {
    allowFailure: true,
    description: `read seed job ${name} logs`,
  });

export const removeService = (m: RemoteHost, name: string): CommandSpec =>
  onHost(m, sudo('docker', 'service', 'rm', name), {
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
