import { inspect } from 'node:util';

export const REDACTED = '[REDACTED]';

// Every live secret value is registered here so that the log/output redactor can scrub it even if it
// slips into a string by accident (an error message from a child process, say).
const live = new Set<string>();

/**
 * A secret value. Its raw form is reachable only through `reveal()`, at the one place it is used.
 * Everywhere else (string conversion, JSON, util.inspect, template literals) it shows as [REDACTED].
 */
export class Sensitive<T = string> {
  readonly #value: T;
  readonly name: string;

  constructor(value: T, name = 'secret') {
    this.#value = value;
    this.name = name;
    if (typeof value === 'string' && value.length >= 4) live.add(value);
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Sensitive<${this.name}>(${REDACTED})`;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

export function sensitive(value: string, name?: string): Sensitive<string> {
  return new Sensitive(value, name);
}

/** Replace every registered secret value in `text` by [REDACTED]. */
export function redact(text: string): string {
  let out = text;
  for (const value of live) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}

/** For tests: forget registered values. */
export function forgetSecrets(): void {
  live.clear();
}
