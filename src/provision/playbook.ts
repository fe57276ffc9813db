// The commands of a provisioning run, as data: the SSH probe that tells which account a server accepts, and
// the ansible-playbook invocation over a generated inventory (one group per environment; its secret values in
// 0600 group_vars files beside it, which Ansible reads for an inventory file's groups).
import { join } from 'node:path';
import { packagePath } from '../paths.js';
import type { CommandSpec } from '../remote/executor.js';
import { sshArgv } from '../remote/ssh.js';

export interface PlaybookOptions {
  /** The environments in this run; their inventory and group_vars are in the run's directory. */
  environments: string[];
  check?: boolean;
  tags?: string[];
  /** Only these hosts of the inventory (`--limit`). */
  limit?: string[];
}

export function sshProbe(
  identity: string,
  knownHosts: string,
  user: string,
  address: string,
  port: number,
  jump?: string,
): CommandSpec {
  return {
    argv: [...sshArgv({ identity, knownHosts, user, address, port, ...(jump ? { jump } : {}) }), 'true'],
    allowFailure: true,
    description: `probe ${user}@${address}`,
    timeoutMs: 30_000,
  };
}

export function playbookCommand(dir: string, o: PlaybookOptions, onLine: (l: string) => void): CommandSpec {
  return {
    argv: [
      'ansible-playbook',
      '-i',
      join(dir, 'inventory.yml'),
      ...(o.check ? ['--check'] : []),
      ...(o.tags?.length ? ['--tags', o.tags.join(',')] : []),
      ...(o.limit?.length ? ['--limit', o.limit.join(',')] : []),
      packagePath('ansible', 'playbooks', 'site.yml'),
    ],
    env: {
      ANSIBLE_CONFIG: packagePath('ansible', 'ansible.cfg'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      PYTHONUNBUFFERED: '1',
    },
    allowFailure: true,
    description: `ansible-playbook site.yml (${o.environments.join(', ')})`,
    timeoutMs: 60 * 60_000,
    onStdoutLine: onLine,
  };
}
