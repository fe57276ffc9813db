import { inspect } from 'node:util';

export const REDACTED = '[REDACTED]';

// Every live secret value is registered here so that the log/output redactor can scrub it even if it
// slips into a string by accident (an error message from a child process, say).
const live = new Set<string>();

/**
 * Values this long or longer are found inside other text. A shorter stored value (a user name such as `crvs`)
 * would match half the words crvs prints, so it is only recognised when it stands alone: an argv word equal to it.
 * Every value crvs generates is far longer.
 */
export const MIN_EMBEDDED_SECRET = 8;

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
    if (typeof value === 'string' && value.length > 0) live.add(value);
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

/** Replace every registered secret value in `text` by [REDACTED] (short values only where they are the whole text). */
export function redact(text: string): string {
  if (live.has(text)) return REDACTED;
  let out = text;
  for (const value of live) {
    if (value.length >= MIN_EMBEDDED_SECRET && out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}

/** Does this word hold a registered secret: equal to any of them, or containing one long enough to be found? */
export function holdsSecret(word: string): boolean {
  return redact(word) !== word;
}

/** For tests: forget registered values. */
export function forgetSecrets(): void {
  live.clear();
}
