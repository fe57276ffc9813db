// The lab as data: which containers, volumes and addresses a spec turns into. Pure.

import type { Spec } from '../config/schema.js';
import { NotFoundError, UsageError } from '../errors.js';

export const LAB_LABEL = 'crvs.lab';
export const DEFAULT_LAB_NAME = 'crvs-lab';

export interface LabServer {
  /** Server name from the spec; also the container's host name. */
  name: string;
  environment: string;
  address: string;
  container: string;
  /** Volume for the inner Docker engine's /var/lib/docker (overlay2 instead of vfs). */
  dockerVolume: string;
}

export interface LabTopology {
  name: string;
  domain: string;
  network: { name: string; subnet: string; gateway: string };
  /**
   * Registry, DNS and apt cache in one container. The registry is also published on the host's loopback
   * (`registryPush`): Docker treats 127.0.0.0/8 registries as local, so the host can push images there over
   * plain HTTP without a change to its daemon configuration, and servers pull the same repositories at
   * <address>:5000.
   */
  services: { container: string; address: string; hostname: string; registryPush: string };
  servers: LabServer[];
}

const LAB_NAME = /^[a-z][a-z0-9-]{1,30}$/;

function octets(address: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : undefined;
}

/** A loopback port per lab network, so that two labs side by side do not collide. */
export function registryPushPort(prefix: string): number {
  const [, b = 0, c = 0] = prefix.split('.').map(Number);
  return 15000 + ((b * 256 + c) % 5000);
}

/**
 * One /24 network holds the whole lab: .1 is the host's bridge, .2 the lab services, servers anywhere else.
 * Every spec server must have an IPv4 address inside that /24 so the spec stays true for the lab.
 */
export function labTopology(spec: Spec, name = DEFAULT_LAB_NAME): LabTopology {
  if (!LAB_NAME.test(name))
    throw new UsageError(`lab name "${name}" must be 2-31 lower-case letters, digits or dashes`);
  const servers: LabServer[] = [];
  let prefix: string | undefined;
  for (const [environment, env] of Object.entries(spec.environments)) {
    for (const server of env?.servers ?? []) {
      const parts = octets(server.address);
      if (!parts)
        throw new UsageError(
          `lab server ${server.name} needs an IPv4 address, not "${server.address}"`,
          'give every server an address in one /24, e.g. 10.77.0.11',
        );
      const net = parts.slice(0, 3).join('.');
      prefix ??= net;
      if (net !== prefix)
        throw new UsageError(
          `lab server ${server.name} (${server.address}) is outside the lab network ${prefix}.0/24`,
          'the lab puts every server on one /24 network',
        );
      if (parts[3] === 0 || parts[3] === 1 || parts[3] === 2 || parts[3] === 255)
        throw new UsageError(
          `lab server ${server.name} uses ${server.address}: .0, .1 (host), .2 (lab services) and .255 are reserved`,
        );
      servers.push({
        name: server.name,
        environment,
        address: server.address,
        container: `${name}-${server.name}`,
        dockerVolume: `${name}-${server.name}-docker`,
      });
    }
  }
  if (!prefix) throw new UsageError('the lab spec declares no servers');
  return {
    name,
    domain: spec.domain,
    network: { name: `${name}-net`, subnet: `${prefix}.0/24`, gateway: `${prefix}.1` },
    services: {
      container: `${name}-services`,
      address: `${prefix}.2`,
      hostname: 'lab-services',
      registryPush: `127.0.0.1:${registryPushPort(prefix)}`,
    },
    servers,
  };
}

export function findServer(topology: LabTopology, name: string): LabServer {
  const server = topology.servers.find((s) => s.name === name || s.container === name);
  if (!server)
    throw new NotFoundError(
      'server',
      name,
      `lab ${topology.name}`,
      `servers: ${topology.servers.map((s) => s.name).join(', ')}`,
    );
  return server;
}
