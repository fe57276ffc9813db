// System OpenSSH argv for reaching a server: one key, pinned host keys, optionally through the jump host. Pure.
import { quote } from './shell.js';

export interface SshTarget {
  identity: string;
  knownHosts: string;
  user: string;
  address: string;
  port: number;
  /** user@host:port of the jump host (bastion), if any. */
  jump?: string;
}

/** One key and pinned host keys, never a prompt. */
const keyOptions = (identity: string, knownHosts: string) => [
  '-i',
  identity,
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'ConnectTimeout=10',
  '-o',
  `UserKnownHostsFile=${knownHosts}`,
  '-o',
  'StrictHostKeyChecking=accept-new',
];

export function sshArgv(t: SshTarget): string[] {
  return [
    'ssh',
    ...keyOptions(t.identity, t.knownHosts),
    ...(t.jump ? jumpOptions(t.jump, t.identity, t.knownHosts) : []),
    '-p',
    String(t.port),
    `${t.user}@${t.address}`,
  ];
}

/**
 * Reaching a server through the jump host (`user@host:port`) with the same key and the same pinned host keys on
 * both hops. Not `-J`/ProxyJump: OpenSSH starts the jump hop without -i, IdentitiesOnly, BatchMode or
 * UserKnownHostsFile, so it would try the operator's default keys and known_hosts (or prompt).
 */
export function jumpOptions(jump: string, identity: string, knownHosts: string): string[] {
  const m = /^(.+)@(.+):(\d+)$/.exec(jump);
  if (!m) throw new Error(`jump host "${jump}" is not user@host:port`);
  // ssh expands %-tokens in ProxyCommand, then runs it with the shell: escape both.
  const literal = (s: string) => quote(s.replaceAll('%', '%%'));
  const hop = [
    'ssh',
    ...keyOptions(identity, knownHosts).map(literal),
    '-p',
    m[3],
    '-W',
    "'[%h]:%p'",
    literal(`${m[1]}@${m[2]}`),
  ];
  return ['-o', `ProxyCommand=${hop.join(' ')}`];
}
