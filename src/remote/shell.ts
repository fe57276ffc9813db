// Shell lines as data, for the commands that must run as one remote shell line (over SSH). This is the one place
// where words become a shell line: every word is quoted, and operators come from the functions below, so a
// value can never turn into shell syntax. A `ShellLine` can only be made here; `onHost` accepts nothing else.

declare const shellLineBrand: unique symbol;
export type ShellLine = string & { readonly [shellLineBrand]: true };

const line = (s: string) => s as ShellLine;

/** POSIX single-quote a word unless it is plainly safe. */
export function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** One command, each word quoted. */
export const cmd = (...argv: string[]): ShellLine => line(argv.map(quote).join(' '));
/** Each runs if the one before succeeded. */
export const and = (...parts: ShellLine[]): ShellLine => line(parts.join(' && '));
/** Each runs if the one before failed. */
export const or = (...parts: ShellLine[]): ShellLine => line(parts.join(' || '));
/** One after the other, whatever each returns. */
export const seq = (...parts: ShellLine[]): ShellLine => line(parts.join('; '));
export const pipe = (...parts: ShellLine[]): ShellLine => line(parts.join(' | '));
/** Braces, so that `and`/`or` apply to the group as a whole. */
export const group = (part: ShellLine): ShellLine => line(`{ ${part}; }`);
export const discardOutput = (part: ShellLine): ShellLine => line(`${part} >/dev/null`);
export const discardErrors = (part: ShellLine): ShellLine => line(`${part} 2>/dev/null`);
export const mergeErrors = (part: ShellLine): ShellLine => line(`${part} 2>&1`);

/** A command run through sudo without a prompt (the automation user's rights on provisioned servers). */
export const sudo = (...argv: string[]): ShellLine => cmd('sudo', '-n', ...argv);
