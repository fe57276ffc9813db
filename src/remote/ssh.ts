// System OpenSSH argv for reaching a server: one key, pinned host keys, optionally through the jump host. Pure.
import { quote } from './shell.js';

/** How a server's host key is trusted: the first one seen (`known_hosts`, accept-new) or the spec's (pinned). */
export interface HostTrust {
  /** The trust-on-first-use file: a new server's key is added, a changed one refused. */
  knownHosts: string;
  /** The spec's pinned keys (src/config/host-keys.ts), when this server has any: only they are accepted. */
  pinned?: string;
}

export interface SshTarget extends HostTrust {
  identity: string;
  user: string;
  address: string;
  port: number;
  /** user@host:port of the jump host (bastion), if any. */
  jump?: string;
  /** The jump host's pinned keys, when it has any. */
  jumpPinned?: string;
}

/**
 * OpenSSH's host key options for one server. Pinned: that file alone (not the global one either) and strict, so
 * that a key of another type is refused too (accept-new would take it as a new key of a known host).
 */
export const hostKeyOptions = (t: HostTrust): string[] =>
  t.pinned
    ? [
        '-o',
        `UserKnownHostsFile=${t.pinned}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
      ]
    : ['-o', `UserKnownHostsFile=${t.knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new'];

/** One key and the server's host key trust, never a prompt. */
const keyOptions = (identity: string, trust: HostTrust) => [
  '-i',
  identity,
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  'ConnectTimeout=10',
  ...hostKeyOptions(trust),
];

export function sshArgv(t: SshTarget): string[] {
  return [
    'ssh',
    ...keyOptions(t.identity, t),
    ...(t.jump
      ? jumpOptions(t.jump, t.identity, {
          knownHosts: t.knownHosts,
          ...(t.jumpPinned ? { pinned: t.jumpPinned } : {}),
        })
      : []),
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
export function jumpOptions(jump: string, identity: string, trust: HostTrust): string[] {
  const m = /^(.+)@(.+):(\d+)$/.exec(jump);
  if (!m) throw new Error(`jump host "${jump}" is not user@host:port`);
  // ssh expands %-tokens in ProxyCommand, then runs it with the shell: escape both.
  const literal = (s: string) => quote(s.replaceAll('%', '%%'));
  const hop = [
    'ssh',
    ...keyOptions(identity, trust).map(literal),
    '-p',
    m[3],
    '-W',
    "'[%h]:%p'",
    literal(`${m[1]}@${m[2]}`),
  ];
  return ['-o', `ProxyCommand=${hop.join(' ')}`];
}
