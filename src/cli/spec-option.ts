import { isAbsolute, resolve } from 'node:path';
import type { CliIO } from './context.js';

export const SPEC_FLAG = '-s, --spec <file>';
export const SPEC_HELP = 'deployment spec (default: $CRVS_SPEC or ./crvs.yaml)';

export function specPath(io: CliIO, given?: string): string {
  const file = given ?? io.env.CRVS_SPEC ?? 'crvs.yaml';
  return isAbsolute(file) ? file : resolve(io.cwd, file);
}
