// An unknown command is bad input (exit 2) even when `--help` follows it: commander would print the parent's help
// and succeed, so `crvs backup --help` looked like a command that exists. Pure: reads the command tree only.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/** Flags accepted before a command name; any other option ends the walk (its value could look like a word). */
const GLOBAL_FLAGS = new Set(['--verbose', '--no-color', '--help', '-h', '--version', '-V']);

/** The word of argv in the place of a command (after global flags only), if any: `deploy` in `--verbose deploy qa`. */
export function commandWord(argv: string[]): string | undefined {
  for (const word of argv) {
    if (!word.startsWith('-')) return word;
    if (!GLOBAL_FLAGS.has(word)) return undefined;
  }
  return undefined;
}

/** Edit distance with adjacent transpositions (`plna` is one edit from `plan`), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  return at(a.length, b.length);
}

export function suggestion(word: string, names: string[]): string | undefined {
  const scored = names
    .map((name) => ({ name, d: distance(word, name) }))
    .filter((s) => s.d <= Math.max(1, Math.floor(s.name.length / 3)) || s.name.startsWith(word))
    .sort((x, y) => x.d - y.d);
  return scored[0]?.name;
}

/** Throws a UsageError naming the first word of argv that is not a command where only commands are expected. */
export function checkCommandPath(program: Command, argv: string[]): void {
  let cmd = program;
  const path: string[] = [];
  for (const word of argv) {
    if (word.startsWith('-')) {
      if (GLOBAL_FLAGS.has(word)) continue;
      return;
    }
    // A command with arguments of its own (deploy <environment>) takes the word; a leaf has nothing to check.
    if (cmd.commands.length === 0 || cmd.registeredArguments.length > 0) return;
    const names = cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) {
      if (word === 'help') return;
      const near = suggestion(word, names);
      const where = ['crvs', ...path].join(' ');
      throw new UsageError(
        `unknown command '${word}'${path.length ? ` for '${where}'` : ''}`,
        `${near ? `did you mean ${where} ${near}? ` : ''}${where} --help lists the commands`,
      );
    }
    cmd = next;
    path.push(word);
  }
}
