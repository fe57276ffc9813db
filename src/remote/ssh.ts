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

const userHostPort = (jump: string) => {
  const m = /^(.+)@(.+):(\d+)$/.exec(jump);
  if (!m) throw new Error(`jump host "${jump}" is not user@host:port`);
  return { user: m[1] as string, host: m[2] as string, port: m[3] as string };
};

/**
 * Reaching a server through the jump host (`user@host:port`) with the same key and the same pinned host keys on
 * both hops. Not `-J`/ProxyJump: OpenSSH starts the jump hop without -i, IdentitiesOnly, BatchMode or
 * UserKnownHostsFile, so it would try the operator's default keys and known_hosts (or prompt).
 */
export function jumpOptions(jump: string, identity: string, trust: HostTrust): string[] {
  const j = userHostPort(jump);
  // ssh expands %-tokens in ProxyCommand, then runs it with the shell: escape both.
  const literal = (s: string) => quote(s.replaceAll('%', '%%'));
  const hop = [
    'ssh',
    ...keyOptions(identity, trust).map(literal),
    '-p',
    j.port,
    '-W',
    "'[%h]:%p'",
    literal(`${j.user}@${j.host}`),
  ];
  return ['-o', `ProxyCommand=${hop.join(' ')}`];
}

/** A local port forwarded through the jump host to one server's SSH port. */
export interface Forward {
  local: number;
  address: string;
  port: number;
}

/**
 * A tunnel through the jump host (`user@host:port`) that forwards local ports on 127.0.0.1 to servers behind it, for
 * tools that cannot hop themselves (ssh-keyscan). A control master that goes to the background once the forwards
 * are up (-f, ExitOnForwardFailure) and detaches from our pipes; `tunnelExitArgv` ends it.
 */
export function tunnelArgv(o: {
  jump: string;
  identity: string;
  trust: HostTrust;
  socket: string;
  forwards: Forward[];
}): string[] {
  const j = userHostPort(o.jump);
  const bracket = (a: string) => (a.includes(':') ? `[${a}]` : a);
  return [
    'ssh',
    ...keyOptions(o.identity, o.trust),
    '-o',
    'ExitOnForwardFailure=yes',
    '-f',
    '-N',
    '-M',
    '-S',
    o.socket,
    ...o.forwards.flatMap((f) => ['-L', `127.0.0.1:${f.local}:${bracket(f.address)}:${f.port}`]),
    '-p',
    j.port,
    `${j.user}@${j.host}`,
  ];
}

export const tunnelExitArgv = (jump: string, socket: string): string[] => {
  const j = userHostPort(jump);
  return ['ssh', '-S', socket, '-O', 'exit', '-p', j.port, `${j.user}@${j.host}`];
};
