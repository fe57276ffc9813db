// The commands of a provisioning run, as data: the SSH probe that tells which account a server accepts, and
// the ansible-playbook invocation over a generated inventory (one group per environment; its secret values in
// Vault-encrypted group_vars files beside it, which Ansible reads for an inventory file's groups, and the run's
// Vault password on ansible-playbook's stdin).
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { packagePath } from '../paths.js';
import type { CommandSpec } from '../remote/executor.js';
import { type HostTrust, sshArgv } from '../remote/ssh.js';
import type { Sensitive } from '../secrets/sensitive.js';

export interface PlaybookOptions {
  /** The environments in this run; their inventory and group_vars are in the run's directory. */
  environments: string[];
  check?: boolean;
  tags?: string[];
  /** Only these hosts of the inventory (`--limit`). */
  limit?: string[];
  /** The password of the group_vars' Vault encryption, read by Ansible from its stdin. */
  vaultPassword?: Sensitive<string>;
}

/**
 * The tags of site.yml's roles, for `--tags`: each role has its own, and `users` also covers the TOTP enrolment
 * in crvs_ssh, so a change of admins is applied whole by `--tags users`.
 */
export const PLAYBOOK_TAGS = [
  'users',
  'base',
  'ssh',
  'alerts',
  'firewall',
  'data',
  'docker',
  'swarm',
  'backup',
  'jump',
];

/** `--tags a,b` as a list; an unknown tag would run nothing at all, so it is refused. */
export function parseTags(raw: string): string[] {
  const tags = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = tags.filter((t) => !PLAYBOOK_TAGS.includes(t));
  if (!tags.length || unknown.length)
    throw new UsageError(
      `${unknown.length ? `unknown tag ${unknown.join(', ')}` : 'no tag given'}: --tags takes ${PLAYBOOK_TAGS.join(', ')}`,
    );
  return tags;
}

/** `ssh ... true`: does this account answer (and, on first contact, the host key learned or checked)? */
export function sshProbe(
  identity: string,
  trust: HostTrust,
  user: string,
  address: string,
  port: number,
  jump?: { via: string; pinned?: string },
): CommandSpec {
  return {
    argv: [
      ...sshArgv({
        identity,
        ...trust,
        user,
        address,
        port,
        ...(jump ? { jump: jump.via } : {}),
        ...(jump?.pinned ? { jumpPinned: jump.pinned } : {}),
      }),
      'true',
    ],
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
      // A script that prints its stdin (inherited from ansible-playbook's, where the password is): Node's stdio
      // pipes are sockets with execute bits, so `--vault-password-file /dev/stdin` would be run as a script.
      ...(o.vaultPassword
        ? ['--vault-password-file', packagePath('ansible', 'bin', 'vault-password-from-stdin')]
        : []),
      packagePath('ansible', 'playbooks', 'site.yml'),
    ],
    ...(o.vaultPassword ? { stdin: o.vaultPassword } : {}),
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
