import { describe, expect, it } from 'vitest';
import { sensitive } from '../../../src/secrets/sensitive.js';
import { otpauthUri } from '../../../src/secrets/totp.js';

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
