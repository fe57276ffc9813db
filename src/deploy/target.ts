// Which server runs an environment's Swarm manager, and how crvs reaches it (the automation user). Pure.
import { dirname, join } from 'node:path';
import { CrvsError } from '../errors.js';
import { AUTOMATION_USER, environmentKind, JUMP_USER, proxyJump } from '../provision/inventory.js';
import { sshArgv } from '../remote/ssh.js';
import type { Spec } from '../config/schema.js';
import type { Manager } from './remote.js';

export interface Connection {
  identity: string;
  knownHosts: string;
}

export const defaultKnownHosts = (specFile: string) => join(dirname(specFile), 'known_hosts');

export function managerFor(spec: Spec, environment: string, c: Connection): Manager {
  if (environmentKind(environment) !== 'application')
    throw new CrvsError('E_USAGE', `${environment} runs no application stack`, { exitCode: 2 });
  const env = spec.environments[environment as 'production'];
  if (!env) throw new CrvsError('E_USAGE', `the spec has no ${environment} environment`, { exitCode: 2 });
  const server = env.servers.find((s) => s.role === 'manager') ?? env.servers[0];
  if (!server) throw new CrvsError('E_USAGE', `${environment} has no servers`, { exitCode: 2 });
  const jump = proxyJump(spec, environment, JUMP_USER);
  return {
    environment,
    ssh: sshArgv({
      identity: c.identity,
      knownHosts: c.knownHosts,
      user: AUTOMATION_USER,
      address: server.address,
      port: server.sshPort,
      ...(jump ? { jump } : {}),
    }),
  };
}
