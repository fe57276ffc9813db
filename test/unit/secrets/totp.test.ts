import { describe, expect, it } from 'vitest';
import { sensitive } from '../../../src/secrets/sensitive.js';
import { base32Decode, otpauthUri, totpCode } from '../../../src/secrets/totp.js';

describe('otpauth enrolment link', () => {
  it('is what authenticator apps and pam_google_authenticator agree on, and stays redacted in logs', () => {
    const uri = otpauthUri(
      { environment: 'production', admin: 'amina', domain: 'farajaland.gov.example' },
      sensitive('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'TOTP_AMINA'),
    );
    expect(uri.reveal()).toBe(
      'otpauth://totp/OpenCRVS%20production:amina%40farajaland.gov.example' +
        '?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=OpenCRVS%20production&algorithm=SHA1&digits=6&period=30',
    );
    expect(String(uri)).toBe('[REDACTED]');
    expect(JSON.stringify({ uri })).not.toContain('JBSWY3DP');
  });
});

describe('TOTP codes', () => {
  // RFC 6238, appendix B: the SHA1 secret is the ASCII string "12345678901234567890".
  const secret = sensitive('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 'TOTP_TEST');
  it('match the RFC 6238 test vectors', () => {
    expect(base32Decode(secret.reveal()).toString()).toBe('12345678901234567890');
    expect(totpCode(secret, new Date(59_000), 8).reveal()).toBe('94287082');
    expect(totpCode(secret, new Date(1_111_111_109_000), 8).reveal()).toBe('07081804');
    expect(totpCode(secret, new Date(2_000_000_000_000), 8).reveal()).toBe('69279037');
    expect(totpCode(secret, new Date(59_000)).reveal()).toBe('287082');
  });
});
