// Shell operators as data, for the few commands that must run as one remote shell line (over SSH).
// Every word is quoted; nothing is concatenated by hand.

/** POSIX single-quote a word unless it is plainly safe. */
export function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const shellLine = (argv: string[]) => argv.map(quote).join(' ');
export const chain = (...commands: string[][]) => commands.map(shellLine).join(' && ');
export const pipe = (...commands: string[][]) => commands.map(shellLine).join(' | ');
export const either = (...commands: string[][]) => commands.map(shellLine).join(' || ');
