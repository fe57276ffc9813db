/** One step of a GitHub Actions job, as the YAML object it becomes. */
export type Step = Record<string, unknown> & { name: string };

/** A `run:` script from its lines, newline-terminated so that it prints as a plain `|` block. */
export const script = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** A GitHub Actions expression, `${{ … }}`. Only ever placed in `env:`, `if:`, names and keys, never in `run:`. */
export const expr = (expression: string): string => `\${{ ${expression} }}`;
