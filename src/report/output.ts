import { redact } from '../secrets/sensitive.js';

/** Where a command prints. Everything goes through the redactor; the CLI decides colour and JSON mode. */
export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  readonly verbose: boolean;
  out(text: string): void;
  err(text: string): void;
}

export interface OutputOptions {
  json?: boolean;
  color?: boolean;
  verbose?: boolean;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

export function createOutput(options: OutputOptions = {}): Output {
  const stdout = options.stdout ?? ((s: string) => process.stdout.write(s));
  const stderr = options.stderr ?? ((s: string) => process.stderr.write(s));
  return {
    json: options.json ?? false,
    color: options.color ?? false,
    verbose: options.verbose ?? false,
    out: (text) => stdout(`${redact(text)}\n`),
    err: (text) => stderr(`${redact(text)}\n`),
  };
}

/** Colour is on only for a TTY without NO_COLOR (https://no-color.org) and with a terminal that is not dumb. */
export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

const codes = { red: 31, yellow: 33, green: 32, bold: 1, dim: 2, cyan: 36 } as const;
export type Style = keyof typeof codes;

export function paint(o: Pick<Output, 'color'>, style: Style, text: string): string {
  return o.color ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
}
