// The enrolment link of an admin's SSH TOTP secret: the otpauth URI authenticator apps read (as text or QR code),
// and the code such an app shows at a given time (the lab signs in with it; real environments never do). Pure. The secret itself stays in the environment's encrypted store; this only formats it for the one admin.
import { createHmac } from 'node:crypto';
import type { Sensitive } from './sensitive.js';
import { sensitive } from './sensitive.js';

/** otpauth://totp/<issuer>:<account>?secret=...; SHA1, 6 digits, 30 s: what pam_google_authenticator checks. */
export function otpauthUri(
  o: { environment: string; admin: string; domain: string },
  secret: Sensitive<string>,
): Sensitive<string> {
  const issuer = `OpenCRVS ${o.environment}`;
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(`${o.admin}@${o.domain}`)}`;
  const query = new URLSearchParams({
    secret: secret.reveal(),
    issuer,
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  return sensitive(`otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`, 'otpauth');
}

/** Decodes RFC 4648 base32 (upper case, padding optional), as TOTP secrets are written. */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error('not a base32 secret');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code of a base32 secret at a time (HMAC-SHA1, 30 s step): what the admin's app shows then. */
export function totpCode(secret: Sensitive<string>, at: Date, digits = 6): Sensitive<string> {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at.getTime() / 1000 / 30)));
  const mac = createHmac('sha1', base32Decode(secret.reveal())).update(counter).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return sensitive(String(binary % 10 ** digits).padStart(digits, '0'), 'TOTP code');
}
