// A server crvs acts on over the system OpenSSH client: an environment's manager, a backup server. The remote
// side is one shell line made by src/remote/shell.ts, never a hand-made string; data (stack files, secrets)
// goes on stdin.
import type { Sensitive } from '../secrets/sensitive.js';
import type { CommandSpec } from './executor.js';
import type { ShellLine } from './shell.js';
import { type SshTarget, sshArgv } from './ssh.js';

export interface RemoteHost {
  /** The environment the host serves; names its lock, its release directory and its messages. */
  environment: string;
  /** ssh argv up to and including the destination. */
  ssh: string[];
}

export const remoteHost = (environment: string, target: SshTarget): RemoteHost => ({
  environment,
  ssh: sshArgv(target),
});

export interface OnHostOptions {
  stdin?: string | Buffer | Sensitive<string>;
  description?: string;
  allowFailure?: boolean;
  timeoutMs?: number;
  /** The remote command prints a secret: its stdout stays out of every event (CommandSpec.secretOutput). */
  secretOutput?: boolean;
}

export function onHost(host: RemoteHost, remote: ShellLine, options: OnHostOptions = {}): CommandSpec {
  return {
    argv: [...host.ssh, remote],
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    ...(options.description ? { description: options.description } : {}),
    ...(options.allowFailure ? { allowFailure: true } : {}),
    ...(options.secretOutput ? { secretOutput: true } : {}),
    timeoutMs: options.timeoutMs ?? 120_000,
  };
}
