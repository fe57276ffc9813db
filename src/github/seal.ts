// libsodium sealed boxes, the encryption GitHub requires for secret values: anyone with the environment's public
// key can seal, only GitHub (holding the private key) can open.
import { createRequire } from 'node:module';
import { CrvsError } from '../errors.js';
import type { Sensitive } from '../secrets/sensitive.js';

type Sodium = typeof import('libsodium-wrappers');

// The package's ESM build imports a file it does not ship (libsodium-wrappers 0.7.16); its CommonJS build works.
const sodium = createRequire(import.meta.url)('libsodium-wrappers') as Sodium;

/** Seals `value` to a base64 Curve25519 public key; returns the base64 sealed box GitHub expects. */
export async function sealFor(publicKeyBase64: string, value: Sensitive<string>): Promise<string> {
  await sodium.ready;
  const key = Buffer.from(publicKeyBase64, 'base64');
  if (key.length !== sodium.crypto_box_PUBLICKEYBYTES)
    throw new CrvsError(
      'E_GITHUB_API',
      `GitHub's public key is ${key.length} bytes, not ${sodium.crypto_box_PUBLICKEYBYTES}`,
    );
  const box = sodium.crypto_box_seal(Buffer.from(value.reveal(), 'utf8'), key);
  return Buffer.from(box).toString('base64');
}
