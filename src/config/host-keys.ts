// Host keys a server is expected to present, as the spec pins them (`servers[].hostKeys`), and the known_hosts
// file crvs gives OpenSSH for those servers. A pinned server is reached with StrictHostKeyChecking=yes against
// that file alone: a key it does not list ends the connection during the key exchange, before crvs authenticates
// or sends anything (src/remote/ssh.ts). Servers without hostKeys keep trust on first use (known_hosts,
// accept-new). Pure.
import { proxyJump } from './environment.js';
import { parseHostKey } from './host-key.js';
import type { Spec } from './schema.js';

/** known_hosts' host field for an address and port: `10.0.0.1` on 22, `[10.0.0.1]:2222` elsewhere. */
export const knownHostsName = (address: string, port: number): string =>
  port === 22 ? address : `[${address}]:${port}`;

/** The known_hosts lines of every server of the spec that pins its host keys, in spec order. */
export function pinnedKnownHosts(spec: Spec): string[] {
  const lines: string[] = [];
  for (const env of Object.values(spec.environments)) {
    for (const s of env?.servers ?? []) {
      for (const line of s.hostKeys ?? []) {
        const k = parseHostKey(line);
        if (typeof k !== 'string')
          lines.push(`${knownHostsName(s.address, s.sshPort)} ${k.type} ${k.base64}`);
      }
    }
  }
  return lines;
}

/** The file crvs writes those lines to, beside the trust-on-first-use known_hosts. */
export const pinnedKnownHostsFile = (knownHosts: string): string => `${knownHosts}.pinned`;

/** Whether the server at this address and port is pinned by the spec. */
export function isPinned(spec: Spec, address: string, port: number): boolean {
  return Object.values(spec.environments).some((env) =>
    (env?.servers ?? []).some(
      (s) => s.address === address && s.sshPort === port && (s.hostKeys?.length ?? 0) > 0,
    ),
  );
}

/** How crvs trusts the host key of the server at this address and port: the spec's keys, or the first one seen. */
export const hostTrust = (
  spec: Spec,
  knownHosts: string,
  address: string,
  port: number,
): { knownHosts: string; pinned?: string } => ({
  knownHosts,
  ...(isPinned(spec, address, port) ? { pinned: pinnedKnownHostsFile(knownHosts) } : {}),
});

/** The pinned file for the jump host's hop, when the spec pins the jump host's keys. */
export function jumpPinned(spec: Spec, knownHosts: string): string | undefined {
  const jump = spec.environments.jump?.servers[0];
  return jump ? hostTrust(spec, knownHosts, jump.address, jump.sshPort).pinned : undefined;
}

/** The jump hop of an environment's connections (`user@host:port`) with its pinned keys, when the spec bastions. */
export function jumpHop(
  spec: Spec,
  environment: string,
  knownHosts: string,
  jumpUser?: string,
): { via: string; pinned?: string } | undefined {
  const via = proxyJump(spec, environment, jumpUser);
  const pinned = jumpPinned(spec, knownHosts);
  return via ? { via, ...(pinned ? { pinned } : {}) } : undefined;
}
