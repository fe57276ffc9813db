// What every use case is given: the effects it may use (one executor, progress lines, the clock, who acts, the
// process environment as the CLI read it) and, for those that act on one environment, that environment resolved
// from the spec: its manager as a remote host. The CLI builds these once per command (src/cli/environment.ts).
import { AUTOMATION_USER, applicationEnvironment, managerServer, proxyJump } from '../config/environment.js';
import { hostTrust, jumpPinned } from '../config/host-keys.js';
import type { ServerSpec, Spec } from '../config/schema.js';
import type { Actor } from '../deploy/audit.js';
import type { Executor } from '../remote/executor.js';
import { type RemoteHost, remoteHost } from '../remote/host.js';

export interface Effects {
  exec: Executor;
  progress: (line: string) => void;
  now: () => Date;
  actor: Actor;
  /** Environment variables, as the CLI's I/O gives them (never read from `process` here). */
  env: Readonly<Record<string, string | undefined>>;
  /** Poll interval of watched operations (tests shorten it). */
  pollMs?: number;
}

/** Waits between two polls of a watched operation: `fx.pollMs` when set (tests shorten it), else `ms`. */
export const pollPause = (fx: Effects, ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, fx.pollMs ?? ms));

export interface Connection {
  /** SSH private key crvs connects with; it also opens the secrets stores. */
  identity: string;
  /** Host keys trusted on first use; the spec's pinned ones are written beside it (src/config/host-keys.ts). */
  knownHosts: string;
}

export interface SpecContext extends Connection {
  spec: Spec;
  specFile: string;
}

export interface EnvironmentContext extends SpecContext {
  environment: string;
  /** The server that runs the environment's manager (or its only server), as the automation user. */
  manager: RemoteHost;
}

/** A server of an environment, reached as the automation user, through the jump host if any. */
export function serverHost(spec: Spec, environment: string, server: ServerSpec, c: Connection): RemoteHost {
  const jump = proxyJump(spec, environment);
  const pinnedHop = jump ? jumpPinned(spec, c.knownHosts) : undefined;
  return remoteHost(environment, {
    identity: c.identity,
    ...hostTrust(spec, c.knownHosts, server.address, server.sshPort),
    user: AUTOMATION_USER,
    address: server.address,
    port: server.sshPort,
    ...(jump ? { jump } : {}),
    ...(pinnedHop ? { jumpPinned: pinnedHop } : {}),
  });
}

/** The manager (or only server) of any environment, reached as the automation user, through the jump host if any. */
export const managerHost = (spec: Spec, environment: string, c: Connection): RemoteHost =>
  serverHost(spec, environment, managerServer(spec, environment), c);

/** An environment that runs the application stack, resolved; refused for backup and jump. */
export function applicationContext(s: SpecContext, environment: string): EnvironmentContext {
  applicationEnvironment(s.spec, environment);
  return { ...s, environment, manager: managerHost(s.spec, environment, s) };
}
