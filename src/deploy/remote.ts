// A command on an environment's manager, over the system OpenSSH client. The remote side is one shell line
// built from quoted words (combinators), never a hand-made string; data (stack files, secrets) goes on stdin.
import { shellLine } from '../remote/combinators.js';
import type { CommandSpec } from '../remote/executor.js';
import type { Sensitive } from '../secrets/sensitive.js';

export interface Manager {
  environment: string;
  /** ssh argv up to and including the destination, e.g. ['ssh', '-F', cfg, 'prod-1']. */
  ssh: string[];
}

export function onManager(
  m: Manager,
  remote: string,
  options: {
    stdin?: string | Sensitive<string>;
    description?: string;
    allowFailure?: boolean;
    timeoutMs?: number;
  } = {},
): CommandSpec {
  return {
    argv: [...m.ssh, remote],
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    ...(options.description ? { description: options.description } : {}),
    ...(options.allowFailure ? { allowFailure: true } : {}),
    timeoutMs: options.timeoutMs ?? 120_000,
  };
}

/** argv run on the manager with sudo (the automation user may run docker only through it on some hosts). */
export const sudo = (argv: string[]) => shellLine(['sudo', '-n', ...argv]);
