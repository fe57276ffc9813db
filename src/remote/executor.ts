import { type ChildProcess, spawn } from 'node:child_process';
import { CommandFailedError, CrvsError } from '../errors.js';
import { holdsSecret, redact, type Sensitive } from '../secrets/sensitive.js';
import { HOST_KEY_REFUSED } from './host-keys.js';

/**
 * A command as data. Builders return these; only an Executor runs them.
 * argv is plain strings on purpose: a secret must travel on stdin or in a 0600 file, never on a command line.
 */
export interface CommandSpec {
  argv: string[];
  /** Data for the child's stdin (secrets go here, never in argv). */
  stdin?: string | Buffer | Sensitive<string>;
  /** Extra environment for the child, merged over the parent's. */
  env?: Record<string, string>;
  cwd?: string;
  /** Short human description for progress and errors, e.g. "build lab base image". */
  description?: string;
  timeoutMs?: number;
  /** Return the result instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
  /** The child's stdout is secret (decrypted data): never passed to output events or error messages. */
  secretOutput?: boolean;
  /** Called with each complete stdout line as it arrives (live progress of long commands). */
  onStdoutLine?: (line: string) => void;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type ExecutorEvent =
  | { type: 'start'; command: CommandSpec }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string; command: CommandSpec }
  | { type: 'end'; command: CommandSpec; result: CommandResult; ms: number };

export interface Executor {
  run(command: CommandSpec): Promise<CommandResult>;
}

/** Refuse to start a process whose argv holds a registered secret value. */
export function assertNoSecretInArgv(argv: string[]): void {
  for (const arg of argv) {
    if (holdsSecret(arg))
      throw new Error(`refusing to run ${argv[0]}: a secret value is on its command line`);
  }
}

export function describeCommand(command: CommandSpec): string {
  return command.description ?? redact(command.argv.join(' '));
}

/** Secrets handed to crvs in its environment (`CRVS_SECRET_<NAME>`) are for crvs, never for its children. */
export function childEnvironment(base: NodeJS.ProcessEnv, extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('CRVS_SECRET_')));
  return extra ? { ...env, ...extra } : env;
}

/** The children of every ProcessExecutor that have not exited yet. */
const running = new Set<ChildProcess>();

/**
 * Sends `signal` to every command still running and says how many there were. The launcher calls it when crvs
 * itself is stopped (Ctrl-C, a CI job's timeout), so that no ansible-playbook, ssh or borg carries on alone,
 * changing servers nobody is watching and holding their package locks against the next run.
 */
export function stopRunningCommands(signal: NodeJS.Signals = 'SIGTERM'): number {
  const n = running.size;
  for (const child of running) child.kill(signal);
  return n;
}

/** Runs commands as child processes (no shell). Output events are redacted before anyone sees them. */
export class ProcessExecutor implements Executor {
  /** `baseEnv`: the environment children inherit (the CLI passes its I/O's; default: this process's). */
  constructor(
    private readonly onEvent?: (event: ExecutorEvent) => void,
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  run(command: CommandSpec): Promise<CommandResult> {
    assertNoSecretInArgv(command.argv);
    const [file, ...args] = command.argv;
    if (!file) return Promise.reject(new Error('empty command'));
    const started = Date.now();
    this.onEvent?.({ type: 'start', command });
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        cwd: command.cwd,
        env: childEnvironment(this.baseEnv, command.env),
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: command.timeoutMs,
      });
      running.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let partial = '';
      child.stdout.on('data', (b: Buffer) => {
        out.push(b);
        if (command.onStdoutLine && !command.secretOutput) {
          const lines = (partial + b.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) command.onStdoutLine(line);
        }
        if (!command.secretOutput)
          this.onEvent?.({ type: 'output', stream: 'stdout', text: redact(b.toString()), command });
      });
      child.stderr.on('data', (b: Buffer) => {
        err.push(b);
        this.onEvent?.({ type: 'output', stream: 'stderr', text: redact(b.toString()), command });
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        running.delete(child);
        reject(
          e.code === 'ENOENT'
            ? new CommandFailedError(describeCommand(command), null, `${file}: command not found`)
            : e,
        );
      });
      child.on('close', (code) => {
        running.delete(child);
        const result = { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
        const shownStdout = command.secretOutput ? '' : redact(result.stdout);
        this.onEvent?.({
          type: 'end',
          command,
          result: { ...result, stdout: shownStdout, stderr: redact(result.stderr) },
          ms: Date.now() - started,
        });
        if (code !== 0 && !command.allowFailure) {
          reject(commandError(command, code, redact(result.stderr) || shownStdout));
        } else resolve(result);
      });
      child.stdin.on('error', () => {
        /* the child may exit before reading its stdin; its exit code tells the story */
      });
      const input = command.stdin;
      if (input === undefined) child.stdin.end();
      else child.stdin.end(typeof input === 'string' || Buffer.isBuffer(input) ? input : input.reveal());
    });
  }
}

/** The last line of a command's output that says something (ssh-keyscan's `#` comments aside), for a message. */
export const lastLine = (text: string): string =>
  text
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .at(-1) ?? '';

/**
 * The error of a failed command: an ssh that OpenSSH ended over the server's host key is E_HOST_KEY (nothing
 * was sent to that server), anything else E_COMMAND with its stderr.
 */
export function commandError(command: CommandSpec, code: number | null, stderr: string): CrvsError {
  if (command.argv[0] === 'ssh' && HOST_KEY_REFUSED.test(stderr))
    return new CrvsError(
      'E_HOST_KEY',
      `${describeCommand(command)}: the server's host key is not the one crvs trusts; refused before authenticating:\n${stderr
        .split('\n')
        .filter(
          (l) =>
            /host key|SHA256:|fingerprint/i.test(l) && !/Add correct host key|Offending|remove with/i.test(l),
        )
        .join('\n')}`,
      {
        hint: "crvs hostkeys <environment> shows the key each server presents beside the spec's (servers[].hostKeys)",
      },
    );
  return new CommandFailedError(describeCommand(command), code, stderr);
}

/** For tests: records every command and answers from a script of responses (first matching prefix wins). */
export class RecordingExecutor implements Executor {
  readonly commands: CommandSpec[] = [];
  constructor(
    private readonly responses: { match: string | RegExp; result: Partial<CommandResult> }[] = [],
  ) {}

  async run(command: CommandSpec): Promise<CommandResult> {
    assertNoSecretInArgv(command.argv);
    this.commands.push(command);
    const line = command.argv.join(' ');
    const hit = this.responses.find((r) =>
      typeof r.match === 'string' ? line.startsWith(r.match) : r.match.test(line),
    );
    const result = { code: 0, stdout: '', stderr: '', ...hit?.result };
    if (result.code !== 0 && !command.allowFailure) {
      throw commandError(command, result.code, result.stderr);
    }
    return result;
  }

  lines(): string[] {
    return this.commands.map((c) => c.argv.join(' '));
  }
}
