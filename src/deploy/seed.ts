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

/** `docker service create` of a one-shot job (no restart) on a network, its secrets mounted as files. */
export function serviceCreateJob(o: {
  name: string;
  network: string;
  secrets: { name: string; target: string }[];
  env: Record<string, string>;
  entrypoint?: string;
  image: string;
  args: string[];
}): string[] {
  return [
    'docker',
    'service',
    'create',
    '--detach',
    '--quiet',
    '--name',
    o.name,
    '--mode',
    'replicated-job',
    '--restart-condition',
    'none',
    '--network',
    o.network,
    ...o.secrets.flatMap((s) => ['--secret', `source=${s.name},target=${s.target}`]),
    ...Object.entries(o.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(o.entrypoint ? ['--entrypoint', o.entrypoint] : []),
    o.image,
    ...o.args,
  ];
}

export function createSeedJob(m: RemoteHost, job: SeedJob): CommandSpec {
  const env = {
    DB_HOST: 'db',
    DOCUMENTS_URL: 'http://documents:8080',
    FORCE: job.force ? '1' : '0',
    RESET: job.reset ? '1' : '0',
  };
  return onHost(m, sudo(...serviceCreateJob({ ...job, env, args: ['node', '/app/seed.js'] })), {
    description: `start seed job ${job.name}`,
  });
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
