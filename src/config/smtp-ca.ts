// The relay's CA (smtp.ca), read beside crvs.yaml. A file that is missing or not a certificate is a spec error,
// found before anything runs.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SpecInvalidError } from '../errors.js';
import type { Spec } from './schema.js';

/** The PEM text of smtp.ca, or undefined when the spec trusts the system's CAs. */
export async function readSmtpCa(spec: Spec, specFile: string): Promise<string | undefined> {
  const path = spec.smtp?.ca;
  if (!path) return undefined;
  const file = resolve(dirname(specFile), path);
  const problem = (message: string) =>
    new SpecInvalidError(
      [{ severity: 'error', rule: 'smtp-ca', path: 'smtp.ca', message, file: specFile }],
      specFile,
    );
  const pem = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw problem(`${file} cannot be read (${e.code ?? e.message})`);
  });
  try {
    new X509Certificate(pem);
  } catch {
    throw problem(`${file} is not a PEM certificate`);
  }
  return pem;
}
