// Host prerequisites: the distribution's Docker engine, debootstrap, OpenSSH client. Installed and started by
// the packaged setup script when we are root, otherwise we stop with the exact command to run.
import { existsSync } from 'node:fs';
import { PreconditionError } from '../errors.js';
import { packagePath } from '../paths.js';
import type { CommandSpec, Executor } from '../remote/executor.js';

export const hostChecks: { what: string; command: CommandSpec }[] = [
  {
    what: 'a running Docker engine',
    command: { argv: ['docker', 'info', '--format', '{{.ServerVersion}}'] },
  },
  { what: 'debootstrap', command: { argv: ['debootstrap', '--version'] } },
  { what: 'the OpenSSH client', command: { argv: ['ssh', '-V'] } },
  { what: 'tc (iproute2)', command: { argv: ['tc', '-V'] } },
];

async function missing(exec: Executor): Promise<string[]> {
  const out: string[] = [];
  for (const check of hostChecks) {
    const ok = await exec
      .run({ ...check.command, allowFailure: true, description: `check for ${check.what}` })
      .then((r) => r.code === 0)
      .catch(() => false);
    if (!ok) out.push(check.what);
  }
  return out;
}

export async function ensureHost(
  exec: Executor,
  progress: (line: string) => void,
  isRoot: boolean,
): Promise<void> {
  const lacking = await missing(exec);
  if (lacking.length === 0) return;
  const script = packagePath('scripts', 'setup-host.sh');
  if (!isRoot || !existsSync(script))
    throw new PreconditionError(
      `the lab needs ${lacking.join(', ')} on this machine`,
      `run: sudo bash ${script}`,
    );
  progress(`installing and starting ${lacking.join(', ')} (scripts/setup-host.sh)`);
  await exec.run({ argv: ['bash', script], description: 'set up the host', timeoutMs: 20 * 60_000 });
  const still = await missing(exec);
  if (still.length)
    throw new PreconditionError(`still missing after setup: ${still.join(', ')}`, `see ${script}`);
}
