// The certificate each name of an environment serves: read over a TLS handshake (nothing else is sent), and judged
// against the spec's TLS mode, the names the stack routes and the days left. `readCertificate` is the one effect
// here (a handshake); the verdict is pure.
import { connect } from 'node:tls';
import type { Finding } from './verdicts.js';

export interface ServedCertificate {
  subject: string;
  issuer: string;
  /** DNS names of the subjectAltName. */
  names: string[];
  validTo: string;
  selfSigned: boolean;
  /** Whether Node's CA store trusts the chain for that name; the reason when it does not. */
  trusted: boolean;
  trustError?: string;
}

const cn = (o: Record<string, string | string[] | undefined> | undefined) => {
  const v = o?.CN ?? o?.O;
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
};

/** One handshake with `address:port`, asking for `name` (SNI); the certificate it serves, or why there was none. */
export function readCertificate(
  address: string,
  port: number,
  name: string,
  timeoutMs = 10_000,
): Promise<ServedCertificate | { error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, servername: name, rejectUnauthorized: false });
    const done = (r: ServedCertificate | { error: string }) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ error: `no TLS answer within ${timeoutMs / 1000} s` }));
    socket.on('error', (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
    socket.on('secureConnect', () => {
      const c = socket.getPeerCertificate();
      if (!c?.valid_to) return done({ error: 'no certificate was served' });
      const names = (c.subjectaltname ?? '')
        .split(', ')
        .filter((s) => s.startsWith('DNS:'))
        .map((s) => s.slice(4));
      const err = socket.authorizationError;
      done({
        subject: cn(c.subject as unknown as Record<string, string>),
        issuer: cn(c.issuer as unknown as Record<string, string>),
        names,
        validTo: new Date(c.valid_to).toISOString(),
        // A CA's certificate never names its holder as its issuer.
        selfSigned: JSON.stringify(c.subject) === JSON.stringify(c.issuer),
        trusted: socket.authorized,
        ...(err ? { trustError: String(err) } : {}),
      });
    });
  });
}

/** Whether a certificate name covers a host: exactly, or a wildcard for one label. */
export function covers(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (!p.startsWith('*.')) return p === h;
  const rest = h.slice(h.indexOf('.') + 1);
  return h.includes('.') && rest === p.slice(2);
}

export const TLS_WARN_DAYS = 21;

/** The verdict on what `name` served, for an environment whose spec asks for `mode`. */
export function tlsFinding(
  environment: string,
  name: string,
  served: ServedCertificate | { error: string },
  mode: string,
  nowMs: number,
): Finding {
  const base = { environment, check: 'tls', subject: name };
  if ('error' in served)
    return {
      ...base,
      status: 'fail',
      detail: `no certificate: ${served.error}`,
      action: `deploy the stack (crvs deploy ${environment}), and see the ingress's logs for its certificate`,
    };
  const days = Math.floor((Date.parse(served.validTo) - nowMs) / 86_400_000);
  const by = served.selfSigned ? 'self-signed' : `issued by ${served.issuer}`;
  const what = `${by}, for ${served.names.join(', ') || served.subject}, ${days} days left (until ${served.validTo.slice(0, 10)})`;
  const fail = (detail: string, action: string): Finding => ({ ...base, status: 'fail', detail, action });
  if (days < 0) return fail(`expired: ${what}`, 'the ingress is not renewing it: see its logs');
  if (!served.names.some((n) => covers(n, name)))
    return fail(
      `does not cover ${name}: ${what}`,
      `crvs dns plan ${environment}, and the spec's tls section`,
    );
  if (mode !== 'self-signed' && !served.trusted)
    return fail(
      `not trusted (${served.trustError ?? 'unknown issuer'}): ${what}`,
      `the spec asks for ${mode}: see the ingress's logs for why the CA did not issue`,
    );
  if (days < TLS_WARN_DAYS)
    return {
      ...base,
      status: 'warn',
      detail: `${what}: renewal is due 30 days before expiry and has not happened`,
      action: "see the ingress's logs for the renewal",
    };
  return { ...base, status: 'ok', detail: what };
}
