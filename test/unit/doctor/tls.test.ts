import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { covers, readCertificate, type ServedCertificate, tlsFinding } from '../../../src/doctor/tls.js';

// A real handshake on loopback with a throw-away certificate made by openssl for this run (never committed).
const dir = mkdtempSync(join(tmpdir(), 'crvs-tls-'));
function selfSigned(days: number, names: string[]) {
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      String(days),
      '-subj',
      `/CN=${names[0]}`,
      '-addext',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}
async function serving<T>(days: number, names: string[], f: (port: number) => Promise<T>): Promise<T> {
  const server = createServer(selfSigned(days, names), (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await f((server.address() as AddressInfo).port);
  } finally {
    server.close();
  }
}
const now = Date.now();

describe('the certificate a name serves', () => {
  it('reads a self-signed certificate over a real handshake: its names, its end, untrusted', async () => {
    const served = await serving(10, ['qa.example.test', '*.qa.example.test'], (port) =>
      readCertificate('127.0.0.1', port, 'qa.example.test'),
    );
    expect(served).toMatchObject({
      subject: 'qa.example.test',
      issuer: 'qa.example.test',
      names: ['qa.example.test', '*.qa.example.test'],
      selfSigned: true,
      trusted: false,
    });
    const left = Math.floor((Date.parse((served as ServedCertificate).validTo) - now) / 86_400_000);
    expect([9, 10]).toContain(left);
    // The lab's mode accepts it, and warns that it ends within 21 days; http-01 expected a CA's.
    expect(tlsFinding('qa', 'register.qa.example.test', served, 'self-signed', now)).toMatchObject({
      status: 'warn',
    });
    expect(tlsFinding('qa', 'qa.example.test', served, 'http-01', now)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /^not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\): self-signed, for qa\.example\.test, \*\.qa\.example\.test, \d+ days left/,
      ),
    });
  });

  it('nothing on the port: no certificate, and a failed finding saying why', async () => {
    const port = await serving(10, ['x.test'], async (p) => p); // closed again once this returns
    const served = await readCertificate('127.0.0.1', port, 'qa.example.test');
    expect(served).toEqual({ error: 'ECONNREFUSED' });
    expect(tlsFinding('qa', 'qa.example.test', served, 'http-01', now)).toEqual({
      environment: 'qa',
      check: 'tls',
      subject: 'qa.example.test',
      status: 'fail',
      detail: 'no certificate: ECONNREFUSED',
      action: "deploy the stack (crvs deploy qa), and see the ingress's logs for its certificate",
    });
  });
});

describe('the verdict', () => {
  const cert = (over: Partial<ServedCertificate> = {}): ServedCertificate => ({
    subject: 'qa.example.test',
    issuer: 'R11',
    names: ['qa.example.test', '*.qa.example.test'],
    validTo: new Date(now + 60 * 86_400_000).toISOString(),
    selfSigned: false,
    trusted: true,
    ...over,
  });

  it("a CA's certificate covering the name with 60 days left passes", () => {
    expect(tlsFinding('qa', 'login.qa.example.test', cert(), 'http-01', now)).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(
        /^issued by R11, for qa\.example\.test, \*\.qa\.example\.test, (59|60) days left/,
      ),
    });
  });

  it('20 days left warns (renewal is overdue), an expired one or one for other names fails', () => {
    const soon = cert({ validTo: new Date(now + 20.5 * 86_400_000).toISOString() });
    expect(tlsFinding('qa', 'qa.example.test', soon, 'dns-01', now).status).toBe('warn');
    const gone = cert({ validTo: new Date(now - 86_400_000).toISOString() });
    expect(tlsFinding('qa', 'qa.example.test', gone, 'dns-01', now)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^expired: /),
    });
    expect(tlsFinding('qa', 'a.b.qa.example.test', cert(), 'http-01', now)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^does not cover a\.b\.qa\.example\.test: /),
    });
  });

  it('a wildcard covers one label, no more, no less', () => {
    expect(covers('*.qa.example.test', 'login.qa.example.test')).toBe(true);
    expect(covers('*.qa.example.test', 'qa.example.test')).toBe(false);
    expect(covers('*.qa.example.test', 'a.login.qa.example.test')).toBe(false);
    expect(covers('QA.example.test', 'qa.EXAMPLE.test')).toBe(true);
  });
});
