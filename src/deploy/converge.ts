// Watching a stack converge after `docker stack deploy`: one probe over SSH returns every service's replica
// count and update status; a pure assessment says done, still moving, or failed (Swarm rolled it back).
import type { CommandSpec } from '../remote/executor.js';
import { onHost, type RemoteHost } from '../remote/host.js';
import { and, cmd, pipe, sudo } from '../remote/shell.js';

export interface UpdateStatus {
  State?: string;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

export interface ServiceProbe {
  name: string;
  replicas: string;
  image: string;
  update: UpdateStatus | null;
}

/**
 * One JSON object per service: name, image and UpdateStatus from `service inspect` (nothing to inspect when the
 * stack has no services: `xargs -r`), then name and replicas (running/desired) from `stack services`.
 */
export function probeStack(m: RemoteHost, stack: string): CommandSpec {
  const fmt =
    '{"name":{{json .Spec.Name}},"image":{{json .Spec.TaskTemplate.ContainerSpec.Image}},"update":{{json .UpdateStatus}}}';
  return onHost(
    m,
    and(
      pipe(
        sudo('docker', 'stack', 'services', '-q', stack),
        cmd('xargs', '-r', 'sudo', '-n', 'docker', 'service', 'inspect', '--format', fmt),
      ),
      sudo(
        'docker',
        'stack',
        'services',
        '--format',
        '{"name":{{json .Name}},"replicas":{{json .Replicas}}}',
        stack,
      ),
    ),
    { description: `watch ${stack}`, timeoutMs: 60_000 },
  );
}

export function parseProbe(stdout: string): ServiceProbe[] {
  const inspected = new Map<string, Omit<ServiceProbe, 'replicas'>>();
  const replicas = new Map<string, string>();
  for (const line of stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const o = JSON.parse(line) as {
      name: string;
      image?: string;
      update?: UpdateStatus | null;
      replicas?: string;
    };
    if (o.replicas !== undefined) replicas.set(o.name, o.replicas);
    else inspected.set(o.name, { name: o.name, image: o.image ?? '', update: o.update ?? null });
  }
  return [...inspected.values()]
    .map((s) => ({ ...s, replicas: replicas.get(s.name) ?? '0/0' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A service runs as many tasks as it wants ("2/2"); a job ("0/1 (1/1 completed)") has completed all its runs,
 * so deploy waits for a one-shot job such as the migration to finish successfully.
 */
export function settled(replicas: string): boolean {
  const job = /\((\d+)\/(\d+) completed\)/.exec(replicas);
  if (job) return job[1] === job[2];
  const [running, desired] = replicas.split(' ')[0]?.split('/').map(Number) ?? [0, 0];
  return running === desired;
}

export interface Assessment {
  state: 'converged' | 'progressing' | 'failed';
  failed: { service: string; reason: string }[];
  waiting: string[];
}

const FAILED = new Set(['rollback_completed', 'rollback_paused', 'paused']);
const MOVING = new Set(['updating', 'rollback_started']);

/**
 * `since` is the manager's clock when the deploy began: an update status older than that belongs to an earlier
 * deploy and says nothing about this one.
 */
export function assess(services: ServiceProbe[], since: Date): Assessment {
  const failed: Assessment['failed'] = [];
  const waiting: string[] = [];
  for (const s of services) {
    const u = s.update;
    const current = u?.StartedAt ? new Date(u.StartedAt).getTime() >= since.getTime() - 1000 : false;
    if (current && u?.State && FAILED.has(u.State)) {
      failed.push({ service: s.name, reason: u.Message ?? u.State });
      continue;
    }
    if ((current && u?.State && MOVING.has(u.State)) || !settled(s.replicas)) waiting.push(s.name);
  }
  if (failed.length) return { state: 'failed', failed, waiting };
  return { state: waiting.length ? 'progressing' : 'converged', failed, waiting };
}
