import { z } from 'zod';
import { doc } from './doc.js';

/** Names of secrets in the encrypted store: upper snake case, like environment variables. */
export const secretName = (description: string, example: string) =>
  doc(
    z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an UPPER_SNAKE_CASE secret name'),
    `${description} The value lives in the encrypted secrets store (crvs secrets), never in this file.`,
    example,
  );

export const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i,
    'must be a host name',
  );

export const cron = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, 'must be a five-field cron expression such as "0 0 * * *"');

export const cidr = z
  .string()
  .regex(
    /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$|^[0-9a-f:]+(\/\d{1,3})?$/i,
    'must be an IP address or CIDR range',
  );
