// What both presets' ingresses take from the spec's `tls` section: the ACME CA they ask, the CA certificate
// they trust it with, the names a certificate covers, and the files they read as derived secrets. Pure.

import type { Spec } from '../config/schema.js';
import { LETS_ENCRYPT_DIRECTORY } from '../config/sections/services.js';
import type { DerivedSecret } from './opencrvs/derived.js';

/** Whether the ingress gets its certificates from an ACME CA. */
export const acme = (spec: Spec) => acmeTls(spec) !== undefined;

/** The CA behind Let's Encrypt's directory, as CAA records name it. */
export const LETS_ENCRYPT = 'letsencrypt.org';

/** The secret that carries the PEM certificate the ingress trusts the ACME server's HTTPS with. */
export const ACME_CA_SECRET = 'TLS_ACME_CA';
/** The secret that carries the static mode's certificate chain (the file beside crvs.yaml). */
export const STATIC_CERTIFICATE_SECRET = 'TLS_CERTIFICATE';

/** The spec's TLS section when it asks an ACME CA (http-01, dns-01): its directory, e-mail, CA certificate. */
export function acmeTls(spec: Spec) {
  const tls = spec.tls;
  return tls.mode === 'http-01' || tls.mode === 'dns-01' ? tls : undefined;
}

/** The issuer domain CAA records must allow: the spec's, or Let's Encrypt's for its directory; none otherwise. */
export function caaIdentity(spec: Spec): string | undefined {
  const tls = acmeTls(spec);
  if (!tls) return undefined;
  return tls.caaIdentity ?? (tls.directory === LETS_ENCRYPT_DIRECTORY ? LETS_ENCRYPT : undefined);
}

/** Files from beside crvs.yaml that the ingress reads, as secrets: the static chain, the ACME server's CA. */
export function tlsFileSecrets(spec: Spec): DerivedSecret[] {
  const tls = spec.tls;
  const out: DerivedSecret[] = [];
  if (tls.mode === 'static')
    out.push({
      key: STATIC_CERTIFICATE_SECRET,
      from: [],
      derive: (_v, readFile) => readFile(tls.certificate),
    });
  const file = acmeTls(spec)?.caCertificate;
  if (file) {
    out.push({ key: ACME_CA_SECRET, from: [], derive: (_v, readFile) => readFile(file) });
  }
  return out;
}
