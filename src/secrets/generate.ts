// Secret values from the operating system's CSPRNG (node:crypto), shaped for the consumer that reads them.
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { generateSshKey, wellFormedSshKey } from './ssh-key.js';

export type Generator =
  | { kind: 'alnum'; length: number }
  | { kind: 'hex'; bytes: number }
  | { kind: 'base64url'; bytes: number }
  | { kind: 'base32'; bytes: number }
  | { kind: 'rsa-private-key'; bits: 2048 | 4096 }
  | { kind: 'ssh-ed25519'; comment: string };

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Unbiased: randomInt draws uniformly, so every character is equally likely. */
function alnum(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

/** RFC 4648 base32 without padding (what TOTP apps and pam_google_authenticator read). */
export function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function generate(g: Generator): string {
  switch (g.kind) {
    case 'alnum':
      return alnum(g.length);
    case 'hex':
      return randomBytes(g.bytes).toString('hex');
    case 'base64url':
      return randomBytes(g.bytes).toString('base64url');
    case 'base32':
      return base32(randomBytes(g.bytes));
    case 'rsa-private-key':
      return generateKeyPairSync('rsa', {
        modulusLength: g.bits,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      }).privateKey;
    case 'ssh-ed25519':
      return generateSshKey(g.comment);
  }
}

/** What a well-formed value of each kind looks like (for `crvs secrets check`). */
export function wellFormed(g: Generator, value: string): boolean {
  switch (g.kind) {
    case 'alnum':
      return new RegExp(`^[A-Za-z0-9]{${g.length},}$`).test(value);
    case 'hex':
      return new RegExp(`^[0-9a-f]{${g.bytes * 2}}$`).test(value);
    case 'base64url':
      return /^[A-Za-z0-9_-]+$/.test(value) && Buffer.from(value, 'base64url').length >= g.bytes;
    case 'base32':
      return /^[A-Z2-7]+$/.test(value) && value.length >= Math.ceil((g.bytes * 8) / 5);
    case 'rsa-private-key':
      return (
        value.startsWith('-----BEGIN PRIVATE KEY-----') &&
        value.trimEnd().endsWith('-----END PRIVATE KEY-----')
      );
    case 'ssh-ed25519':
      return wellFormedSshKey(value);
  }
}
