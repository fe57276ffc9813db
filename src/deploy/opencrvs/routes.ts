// The ingress: crvs's Traefik (the spec's TLS mode, HSTS, HTTP->HTTPS, no dashboard) instead of the reference's,
// and the reference's router labels kept but made to agree with it: HTTPS only, the spec's certificate resolver,
// crvs's network, every router with HSTS. Internal paths get a router of their own that refuses every address,
// whatever the country's files say. Pure.
import type { Spec } from '../../config/schema.js';
import { ACME_CA_SECRET, acme, acmeTls, STATIC_CERTIFICATE_SECRET } from '../tls.js';

export const NETWORK = 'crvs_overlay';

/** Paths only other services may call (inside the overlay network). */
const INTERNAL_PATHS: Record<string, string[]> = {
  countryconfig: ['/email', '/notification', '/reindex', '/dashboards/queries.json'],
  auth: ['/internal/reindexing-token'],
};

/** The router labels of one service, made to agree with crvs's ingress. */
export function routeLabels(
  spec: Spec,
  domain: string,
  service: string,
  labels: Record<string, string | null>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const routers = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (v === null || k === 'traefik.docker.network') continue;
    const m = /^traefik\.http\.routers\.([^.]+)\.(.+)$/.exec(k);
    if (m) routers.add(m[1] as string);
    if (m?.[2] === 'tls.certresolver' || m?.[2] === 'entrypoints') continue;
    out[k] = v;
  }
  if (out['traefik.enable'] !== 'true') return out;
  const headers = Object.keys(out).some((k) => k.startsWith(`traefik.http.middlewares.${service}.headers.`));
  for (const r of routers) {
    const p = `traefik.http.routers.${r}`;
    out[`${p}.entrypoints`] = 'websecure';
    out[`${p}.tls`] = 'true';
    if (acme(spec)) out[`${p}.tls.certresolver`] = 'le';
    if (r.startsWith('block-')) continue;
    const mw = (out[`${p}.middlewares`] ?? '').split(',').filter(Boolean);
    for (const add of ['hsts', ...(headers ? [service] : [])]) if (!mw.includes(add)) mw.push(add);
    out[`${p}.middlewares`] = mw.join(',');
  }
  for (const [i, path] of (INTERNAL_PATHS[service] ?? []).entries()) {
    const p = `traefik.http.routers.crvs-internal-${service}-${i}`;
    out[`${p}.rule`] = `Host(\`${service}.${domain}\`) && PathPrefix(\`${path}\`)`;
    out[`${p}.priority`] = '10000';
    out[`${p}.entrypoints`] = 'websecure';
    out[`${p}.tls`] = 'true';
    if (acme(spec)) out[`${p}.tls.certresolver`] = 'le';
    out[`${p}.middlewares`] = 'crvs-internal-only';
    out[`${p}.service`] = service;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export function ingress(spec: Spec) {
  const args = [
    '--providers.docker=true',
    '--providers.docker.swarmMode=true',
    '--providers.docker.exposedByDefault=false',
    `--providers.docker.network=${NETWORK}`,
    '--entrypoints.web.address=:80',
    '--entrypoints.web.http.redirections.entrypoint.to=websecure',
    '--entrypoints.web.http.redirections.entrypoint.scheme=https',
    '--entrypoints.websecure.address=:443',
    '--ping=true',
    '--log.level=INFO',
  ];
  const secrets: string[] = [];
  const volumes: string[] = ['/var/run/docker.sock:/var/run/docker.sock:ro'];
  let entrypoint: string[] | undefined;
  let environment: Record<string, string> | undefined;
  const tls = spec.tls;
  const ca = acmeTls(spec);
  if (ca) {
    args.push(
      `--certificatesresolvers.le.acme.email=${ca.email}`,
      '--certificatesresolvers.le.acme.storage=/acme/acme.json',
      `--certificatesresolvers.le.acme.caserver=${ca.directory}`,
    );
    volumes.push('traefik-acme:/acme');
    // Traefik's ACME client (lego) trusts the CA of a private ACME server through this variable.
    if (ca.caCertificate) {
      secrets.push(ACME_CA_SECRET);
      environment = { LEGO_CA_CERTIFICATES: `/run/secrets/${ACME_CA_SECRET}` };
    }
  }
  if (tls.mode === 'http-01') args.push('--certificatesresolvers.le.acme.httpchallenge.entrypoint=web');
  if (tls.mode === 'dns-01') {
    args.push(`--certificatesresolvers.le.acme.dnschallenge.provider=${tls.provider}`);
    secrets.push(tls.credentialsSecret);
    // The provider's credentials (KEY=value lines) enter the process environment, not the service definition.
    entrypoint = [
      '/bin/sh',
      '-c',
      `set -a && . /run/secrets/${tls.credentialsSecret} && set +a && exec traefik "$$@"`,
      'traefik',
    ];
  }
  if (tls.mode === 'static') {
    args.push('--providers.file.filename=/run/secrets/TRAEFIK_TLS');
    secrets.push('TRAEFIK_TLS', STATIC_CERTIFICATE_SECRET, tls.keySecret);
  }
  return {
    image: 'traefik:v2.11',
    ...(entrypoint ? { entrypoint } : {}),
    command: args,
    ...(environment ? { environment } : {}),
    ports: [
      { target: 80, published: 80, protocol: 'tcp', mode: 'host' },
      { target: 443, published: 443, protocol: 'tcp', mode: 'host' },
    ],
    volumes,
    ...(secrets.length ? { secrets } : {}),
    healthcheck: {
      test: ['CMD', 'traefik', 'healthcheck', '--ping'],
      interval: '10s',
      timeout: '5s',
      retries: 3,
    },
    deploy: {
      mode: 'global',
      placement: { constraints: ['node.role == manager'] },
      update_config: { parallelism: 1, order: 'stop-first', failure_action: 'rollback' },
      labels: {
        'traefik.enable': 'true',
        'traefik.http.middlewares.hsts.headers.stsseconds': '31536000',
        'traefik.http.middlewares.hsts.headers.stsincludesubdomains': 'true',
        'traefik.http.middlewares.gzip-compression.compress': 'true',
        // An address range nothing comes from: the router answers 403 to everyone outside the overlay network.
        'traefik.http.middlewares.crvs-internal-only.ipwhitelist.sourcerange': '255.255.255.255/32',
        'traefik.http.services.traefik.loadbalancer.server.port': '80',
      },
    },
  };
}

/** Static TLS: the certificate file and Traefik's dynamic configuration naming it, as derived secrets. */
export const staticTlsConfig = (keySecret: string) => ({
  tls: {
    certificates: [
      { certFile: `/run/secrets/${STATIC_CERTIFICATE_SECRET}`, keyFile: `/run/secrets/${keySecret}` },
    ],
    stores: {
      default: {
        defaultCertificate: {
          certFile: `/run/secrets/${STATIC_CERTIFICATE_SECRET}`,
          keyFile: `/run/secrets/${keySecret}`,
        },
      },
    },
  },
});
