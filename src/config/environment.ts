// The environment model: which environments exist, what kind each is, and what derives from an environment's
// name and the spec file (its domain, its manager, how it is reached, the files kept beside crvs.yaml). Pure.
// Every "the spec has no X environment" comes from here.
import { dirname, join } from 'node:path';
import { NotFoundError, UsageError } from '../errors.js';
import type { ServerSpec, Spec } from './schema.js';

/** Environments that run the application stack, most critical first (the order of the spec and its docs). */
export const APPLICATION_ENVIRONMENTS = ['production', 'staging', 'qa', 'development'] as const;
export type ApplicationEnvironmentName = (typeof APPLICATION_ENVIRONMENTS)[number];

export const ENVIRONMENTS = [...APPLICATION_ENVIRONMENTS, 'backup', 'jump'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

export type EnvironmentKind = 'application' | 'backup' | 'jump';

/** Restoring production's backups into an environment (environments.<env>.restore). */
export interface RestoreSettings {
  source: string;
  /** Absent on qa and development when only `crvs restore` runs it. */
  schedule?: string | undefined;
  enabled: boolean;
}

/** An application environment as the spec gives it (staging, qa and development may restore production's). */
export type ApplicationEnvironment = NonNullable<Spec['environments']['production']> & {
  restore?: RestoreSettings | undefined;
};

/** The environments that may restore production's backups, in the spec's order. */
export const RESTORE_ENVIRONMENTS = ['staging', 'qa', 'development'] as const;

/** Each environment the spec gives a `restore`, with it (enabled or not). */
export const restoreSettings = (spec: Spec): { environment: string; restore: RestoreSettings }[] =>
  RESTORE_ENVIRONMENTS.flatMap((environment) => {
    const restore = spec.environments[environment]?.restore;
    return restore ? [{ environment, restore }] : [];
  });

/** The Swarm stack crvs deploys on every application environment (service names are `<STACK>_<service>`). */
export const STACK = 'crvs';

/** The account crvs and CI connect as once a server is provisioned. */
export const AUTOMATION_USER = 'crvs';
/** The relay-only user of the jump host (forwarding, no shell); see the crvs_jump role. */
export const JUMP_USER = 'jump';

export const isApplicationEnvironment = (name: string): name is ApplicationEnvironmentName =>
  (APPLICATION_ENVIRONMENTS as readonly string[]).includes(name);

export function environmentKind(name: string): EnvironmentKind {
  if (isApplicationEnvironment(name)) return 'application';
  if (name === 'backup' || name === 'jump') return name;
  throw new UsageError(`unknown environment "${name}"`, `environments: ${ENVIRONMENTS.join(', ')}`);
}

/** The environments the spec defines, in the model's order. */
export const definedEnvironments = (spec: Spec): EnvironmentName[] =>
  ENVIRONMENTS.filter((name) => spec.environments[name] !== undefined);

/** The servers of an environment the spec must define. */
export function serversOf(spec: Spec, name: string): ServerSpec[] {
  environmentKind(name);
  const env = spec.environments[name as EnvironmentName];
  if (!env)
    throw new NotFoundError(
      'environment',
      name,
      'the spec',
      `defined: ${definedEnvironments(spec).join(', ') || 'none'}`,
    );
  return env.servers;
}

/** An application environment the spec must define; backup and jump run no stack. */
export function applicationEnvironment(spec: Spec, name: string): ApplicationEnvironment {
  if (environmentKind(name) !== 'application') throw new UsageError(`${name} runs no application stack`);
  serversOf(spec, name);
  return spec.environments[name as ApplicationEnvironmentName] as ApplicationEnvironment;
}

/** The server that runs the environment's Swarm manager (or the only one). */
export function managerServer(spec: Spec, name: string): ServerSpec {
  const servers = serversOf(spec, name);
  const server = servers.find((s) => s.role === 'manager') ?? servers[0];
  if (!server) throw new NotFoundError('server', 'of any kind', name);
  return server;
}

/** The server that holds the data stores: the one labelled `data: "true"`, else the only (or manager) server. */
export function dataServer(spec: Spec, name: string): ServerSpec {
  return serversOf(spec, name).find((s) => s.labels.data === 'true') ?? managerServer(spec, name);
}

/** The host name an environment's ingress answers on: the domain for production, <env>.<domain> elsewhere. */
export function environmentDomain(domain: string, environment: string): string {
  return environment === 'production' ? domain : `${environment}.${domain}`;
}

/** `user@host:port` of the jump host when the spec reaches servers through it (never for the jump host itself). */
export function proxyJump(spec: Spec, environment: string, jumpUser = JUMP_USER): string | undefined {
  if (spec.connection.method !== 'bastion' || environment === 'jump') return undefined;
  const jump = spec.environments.jump?.servers[0];
  return jump ? `${jumpUser}@${jump.address}:${jump.sshPort}` : undefined;
}

/** Files crvs keeps beside crvs.yaml: pinned host keys, the encrypted stores, the GitHub sync records. */
export const specPaths = (specFile: string) => {
  const dir = dirname(specFile);
  return {
    dir,
    knownHosts: join(dir, 'known_hosts'),
    store: (environment: string) => join(dir, 'secrets', `${environment}.age`),
    ciKey: join(dir, 'secrets', 'ci.pub'),
    githubRecord: (environment: string) => join(dir, 'secrets', `${environment}.github-sync.json`),
  };
};
