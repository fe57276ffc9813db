// The commands of a provisioning run, as data: the SSH probe that tells which account a server accepts, and
// the ansible-playbook invocation over a generated inventory and a 0600 secrets file.
import { join } from 'node:path';
import { packagePath } from '../paths.js';
import type { CommandSpec } from '../remote/executor.js';
import { sshArgv } from '../remote/ssh.js';

export interface PlaybookOptions {
  environment: string;
  check?: boolean;
  tags?: string[];
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
      '-e',
      `@${join(dir, 'secrets.json')}`,
      ...(o.check ? ['--check'] : []),
      ...(o.tags?.length ? ['--tags', o.tags.join(',')] : []),
      packagePath('ansible', 'playbooks', 'site.yml'),
    ],
    env: {
      ANSIBLE_CONFIG: packagePath('ansible', 'ansible.cfg'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      PYTHONUNBUFFERED: '1',
    },
    allowFailure: true,
    description: `ansible-playbook site.yml (${o.environment})`,
    timeoutMs: 60 * 60_000,
    onStdoutLine: onLine,
  };
}
