// Ansible's progress as crvs_events JSON lines (ansible/callback_plugins/crvs_events.py) -> progress and summary.

export type AnsibleEvent =
  /** Once, before the first play: what runs the tasks (`mitogen`, or `linear (why not Mitogen)`). */
  | { event: 'engine'; strategy: string }
  | { event: 'play'; name: string }
  | { event: 'task'; name: string; role?: string | null; handler?: boolean }
  | {
      event: 'result';
      status: 'ok' | 'failed' | 'skipped' | 'unreachable' | 'ignored';
      host: string;
      task: string;
      changed: boolean;
      message: string;
      /** Seconds from the task's start to this host's result (every host starts a task together). */
      seconds?: number;
    }
  | { event: 'stats'; hosts: Record<string, HostStats> };

export interface HostStats {
  ok: number;
  changed: number;
  failures: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export function parseEvent(line: string): AnsibleEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as AnsibleEvent;
  } catch {
    return undefined;
  }
}

/** One human line per event worth showing: changes, failures; quiet for ok/skipped. */
export function describeEvent(e: AnsibleEvent): string | undefined {
  switch (e.event) {
    case 'engine':
      return `ansible: tasks run through ${e.strategy === 'mitogen' ? 'Mitogen' : `Ansible's ${e.strategy}`}`;
    case 'play':
      return `== ${e.name}`;
    case 'result':
      if (e.status === 'failed' || e.status === 'unreachable')
        return `  ${e.host}: FAILED ${e.task}: ${e.message}`;
      return e.changed ? `  ${e.host}: changed ${e.task}` : undefined;
    default:
      return undefined;
  }
}

/** A failed or unreachable result in one line, for the run's closing error: host, task, the message's first line. */
export function failureLine(e: Extract<AnsibleEvent, { event: 'result' }>): string {
  const first = e.message.trim().split('\n')[0] ?? '';
  const text = first.length > 300 ? `${first.slice(0, 300)}…` : first;
  return `  ${e.host}: ${e.status === 'unreachable' ? 'UNREACHABLE' : 'FAILED'} ${e.task}${text ? `: ${text}` : ''}`;
}

export function failedHosts(stats: Record<string, HostStats>): string[] {
  return Object.entries(stats)
    .filter(([, s]) => s.failures > 0 || s.unreachable > 0)
    .map(([h]) => h);
}
