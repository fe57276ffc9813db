// A handful of error classes with stable codes. Only the CLI entry point turns them into exit codes.

export type ExitCode = 0 | 1 | 2;

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
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; exitCode?: ExitCode; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad command-line input: exit 2, nothing executed. */
export class UsageError extends CrvsError {
  constructor(message: string, hint?: string) {
    super('E_USAGE', message, { exitCode: 2, ...(hint ? { hint } : {}) });
  }
}

/** The spec has errors: exit 2, nothing executed. Carries every problem found. */
export class SpecInvalidError extends CrvsError {
  readonly problems: SpecProblem[];
  constructor(problems: SpecProblem[], file?: string) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    super('E_SPEC', `${file ?? 'the spec'} has ${errors} error${errors === 1 ? '' : 's'}`, { exitCode: 2 });
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
