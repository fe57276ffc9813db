// The enrolment link of an admin's SSH TOTP secret: the otpauth URI authenticator apps read (as text or QR code).
// Pure. The secret itself stays in the environment's encrypted store; this only formats it for the one admin.
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
