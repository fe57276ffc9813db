// A handful of error classes with stable codes. The codes are a closed set: each names one kind of failure and
// maps to one exit code (0 ok, 1 failed, 2 bad input: nothing was executed). Only the CLI entry point turns
// errors into exit codes.

export type ExitCode = 0 | 1 | 2;

/** Every error code crvs can report, with its exit code. Adding a failure means adding it here. */
export const ERROR_CODES = {
  // bad input: nothing was executed
  E_USAGE: 2,
  E_SPEC: 2,
  E_NOT_FOUND: 2,
  E_PRESET: 2,
  E_COMPOSE_INPUT: 2,
  E_LAB_DIR: 2,
  E_NO_ADMIN: 2,
  // a precondition on the operator's machine or the servers
  E_PRECONDITION: 1,
  E_CHECK_UNPROVISIONED: 1,
  E_LAB_FOREIGN: 1,
  E_LAB_NETWORK: 1,
  E_LAB_SERVICES: 1,
  E_LAB_SSH: 1,
  E_SECRETS_LOCKED: 1,
  E_SECRETS_MISSING: 1,
  E_SECRETS_CHECK: 1,
  E_CI_DRIFT: 1,
  E_LOCKED: 1,
  E_LOCK_LOST: 1,
  E_PLAN_STALE: 1,
  // an operation that ran and failed
  E_COMMAND: 1,
  E_SSH: 1,
  E_HOST_KEY: 1,
  E_PROVISION: 1,
  E_DEPLOY_ROLLED_BACK: 1,
  E_DEPLOY_TIMEOUT: 1,
  E_ROLLBACK: 1,
  E_SEED: 1,
  E_SEEDED: 1,
  E_SEED_TIMEOUT: 1,
  E_DEMO: 1,
  E_BACKUP: 1,
  E_RESTORE: 1,
  E_DNS: 1,
  E_DATA_VOLUME: 1,
  E_DOCTOR: 1,
  E_LOCK_FETCH: 1,
  // the GitHub API
  E_GITHUB_API: 1,
  E_GITHUB_AUTH: 1,
  E_GITHUB_CONFLICT: 1,
  E_GITHUB_FORBIDDEN: 1,
  E_GITHUB_NOT_FOUND: 1,
  E_GITHUB_REJECTED: 1,
  E_GITHUB_UNREACHABLE: 1,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SpecProblem {
  severity: 'error' | 'warning';
  /** Rule or check name, stable, e.g. `schema`, `unique-addresses`. */
  rule: string;
  /** Dotted YAML path, e.g. `environments.production.servers[0].address`. */
  path: string;
  message: string;
  hint?: string;
  file?: string;
  line?: number;
  column?: number;
}

export class CrvsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = ERROR_CODES[code];
  }
}

/** Bad command-line input: exit 2, nothing executed. */
export class UsageError extends CrvsError {
  constructor(message: string, hint?: string) {
    super('E_USAGE', message, hint ? { hint } : {});
  }
}

/** What can be named on the command line or in the spec and then not be there. */
export type Findable = 'environment' | 'server' | 'secret' | 'archive' | 'release' | 'admin';

/**
 * The one way to say that something named does not exist: "<where> has no <what> <name>" (environments read
 * "the spec has no qa environment"). Exit 2: the input named something that is not there.
 */
export class NotFoundError extends CrvsError {
  readonly what: Findable;
  readonly wanted: string;
  constructor(what: Findable, wanted: string, where: string, hint?: string) {
    const message =
      what === 'environment' ? `${where} has no ${wanted} environment` : `${where} has no ${what} ${wanted}`;
    super('E_NOT_FOUND', message, hint ? { hint } : {});
    this.what = what;
    this.wanted = wanted;
  }
}

/** The spec has errors: exit 2, nothing executed. Carries every problem found. */
export class SpecInvalidError extends CrvsError {
  readonly problems: SpecProblem[];
  constructor(problems: SpecProblem[], file?: string) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    super('E_SPEC', `${file ?? 'the spec'} has ${errors} error${errors === 1 ? '' : 's'}`);
    this.problems = problems;
  }
}

/** A host-side precondition is missing (a tool, a right, a running lab). */
export class PreconditionError extends CrvsError {
  constructor(message: string, hint?: string) {
    super('E_PRECONDITION', message, hint ? { hint } : {});
  }
}

/** An external command failed. The message never contains secret values (the executor redacts them). */
export class CommandFailedError extends CrvsError {
  readonly exit: number | null;
  readonly stderr: string;
  constructor(description: string, exit: number | null, stderr: string, hint?: string) {
    const tail = stderr.trim().split('\n').slice(-15).join('\n');
    super(
      'E_COMMAND',
      `${description} failed (exit ${exit ?? 'signal'})${tail ? `:\n${tail}` : ''}`,
      hint ? { hint } : {},
    );
    this.exit = exit;
    this.stderr = stderr;
  }
}
