// What OpenSSH says when it ends a connection over a host key, and the first contact that asks a server for its
// keys (`crvs hostkeys`). Which keys a server must present is the spec's (src/config/host-keys.ts). Pure.
import { CrvsError } from '../errors.js';
import type { HostTrust } from './ssh.js';

/** What OpenSSH prints when it ends a connection over the host key (changed, or not among the pinned ones). */
export const HOST_KEY_REFUSED = /Host key verification failed\.|REMOTE HOST IDENTIFICATION HAS CHANGED/;

/**
 * A probe that ssh ended over the host key: a pinned server that presented a key the spec does not list, or a
 * known one whose key changed. Thrown before anything else is sent to it.
 */
export function refuseHostKey(server: string, trust: HostTrust, stderr: string): void {
  if (!HOST_KEY_REFUSED.test(stderr)) return;
  const changed =
    /The fingerprint for the (\S+) key sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(stderr);
  const unknown = /No (\S+) host key is known for/.exec(stderr);
  const offered = changed ? `${changed[1]} ${changed[2]}` : unknown ? `an ${unknown[1]} key` : undefined;
  throw new CrvsError(
    'E_HOST_KEY',
    trust.pinned
      ? `${server} did not present a host key the spec pins (servers[].hostKeys)${offered ? `; it offered ${offered}` : ''}: refused before authenticating`
      : `${server}'s host key is not the one crvs saw first (${trust.knownHosts}): refused before authenticating`,
    {
      hint: trust.pinned
        ? `compare the server's /etc/ssh/ssh_host_*_key.pub with the spec (crvs hostkeys shows what it presents); update the spec only if the server was rebuilt`
        : `if ${server} was rebuilt, confirm its new key and remove the old line: ssh-keygen -R <address> -f ${trust.knownHosts}`,
    },
  );
}

/**
 * A first contact that asks the server for its host keys and nothing else (`ssh-keyscan`): no login is tried, so
 * fail2ban, which bans a source after a few failed logins, does not count it. It proves nothing about who
 * answered: the operator compares the fingerprints with the server's own before pinning them.
 */
export const keyscanArgv = (address: string, port: number): string[] => [
  'ssh-keyscan',
  '-T',
  '10',
  '-p',
  String(port),
  '-t',
  'ed25519,ecdsa,rsa',
  address,
];
