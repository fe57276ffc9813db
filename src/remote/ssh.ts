// System OpenSSH argv for reaching a server: one key, pinned host keys, optional ProxyJump. Pure.

export interface SshTarget {
  identity: string;
  knownHosts: string;
  user: string;
  address: string;
  port: number;
  /** user@host:port of the jump host (bastion), if any. */
  jump?: string;
}

export function sshArgv(t: SshTarget): string[] {
  return [
    'ssh',
    '-i',
    t.identity,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    `UserKnownHostsFile=${t.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=accept-new',
    ...(t.jump ? ['-J', t.jump] : []),
    '-p',
    String(t.port),
    `${t.user}@${t.address}`,
  ];
}
