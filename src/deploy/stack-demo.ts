// The demo preset rendered for one environment: a compose document for `docker stack deploy`. Pure.
import { stringify } from 'yaml';
import { dataPath } from '../config/data-layout.js';
import { applicationEnvironment, environmentDomain } from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { type DemoImage, demoImages, imageRef } from './demo-images.js';
import { ACME_CA_SECRET, acmeTls, STATIC_CERTIFICATE_SECRET } from './tls.js';

export const DEMO_SECRETS = ['POSTGRES_PASSWORD', 'APP_DB_PASSWORD', 'SESSION_SECRET', 'SUPER_USER_PASSWORD'];

/**
 * Replicas spread over the nodes so that losing one node never takes them all. When every node already holds
 * its share there is no room to start a new task before stopping an old one, so the update is stop-first (the
 * proxy retries on the other replicas meanwhile); with room, or on a single server, start-first.
 */
export function appSpread(
  replicas: number,
  servers: number,
  rolling: { update_config: Record<string, unknown>; rollback_config: Record<string, unknown> },
) {
  if (servers <= 1) return rolling;
  const perNode = Math.ceil(replicas / servers);
  const order = servers * perNode > replicas ? 'start-first' : 'stop-first';
  return {
    placement: { max_replicas_per_node: perNode },
    update_config: { ...rolling.update_config, order },
    rollback_config: { ...rolling.rollback_config, order },
  };
}

/**
 * A store's directory on the data node (src/config/data-layout.ts), on the encrypted volume where the environment
 * has one. Docker refuses a bind mount whose source is missing, so a store never starts on a locked volume.
 */
const bind = (dir: string, target: string) => ({ type: 'bind', source: dataPath(dir), target });

/**
 * The proxy's TLS for the spec's mode (stacks/demo/proxy/crvs-proxy reads it): the names its certificate covers
 * (the environment's domain; with dns-01 also every name under it, which only that challenge can prove), where
 * it asks for one, and the secrets it reads. Nothing here is secret: secrets are files under /run/secrets.
 */
export function demoProxyTls(spec: Spec, environment: string) {
  const domain = environmentDomain(spec.domain, environment);
  const tls = spec.tls;
  const names = tls.mode === 'dns-01' ? [domain, `*.${domain}`] : [domain];
  const env: Record<string, string> = { TLS_MODE: tls.mode, TLS_NAMES: names.join(' ') };
  const secrets: string[] = [];
  const ca = acmeTls(spec);
  if (ca) {
    env.ACME_EMAIL = ca.email;
    env.ACME_DIRECTORY = ca.directory;
    if (ca.caCertificate) {
      secrets.push(ACME_CA_SECRET);
      env.LEGO_CA_CERTIFICATES = `/run/secrets/${ACME_CA_SECRET}`;
    }
  }
  if (tls.mode === 'dns-01') {
    env.ACME_DNS_PROVIDER = tls.provider;
    env.ACME_DNS_CREDENTIALS_FILE = `/run/secrets/${tls.credentialsSecret}`;
    secrets.push(tls.credentialsSecret);
  }
  if (tls.mode === 'static') {
    env.TLS_CERTIFICATE_FILE = `/run/secrets/${STATIC_CERTIFICATE_SECRET}`;
    env.TLS_KEY_FILE = `/run/secrets/${tls.keySecret}`;
    secrets.push(STATIC_CERTIFICATE_SECRET, tls.keySecret);
  }
  return { environment: env, secrets };
}

export function renderDemoStack(
  spec: Spec,
  environment: string,
  version: string,
  images: DemoImage[] = demoImages(version),
): string {
  const env = applicationEnvironment(spec, environment);
  const ref = (name: DemoImage['name']) =>
    imageRef(spec.registry.host, images.find((i) => i.name === name) as DemoImage);
  const dnsrr = env.ingressMode === 'dnsrr';
  const endpoint = dnsrr ? { endpoint_mode: 'dnsrr' } : {};
  const onData = { constraints: ['node.labels.data == true'] };
  const replicas = env.replicas ?? env.servers.length;
  const rolling = {
    update_config: {
      parallelism: 1,
      // Time for the proxy to see the new task healthy before the next one stops.
      delay: '6s',
      order: 'start-first',
      failure_action: 'rollback',
      monitor: '15s',
    },
    rollback_config: { parallelism: 1, order: 'start-first', failure_action: 'pause', monitor: '10s' },
  };
  const appEnv = { DB_HOST: 'db', DOCUMENTS_URL: 'http://documents:8080', CRVS_ENVIRONMENT: environment };
  const proxyTls = demoProxyTls(spec, environment);
  const port = (n: number) => ({
    target: n,
    published: n,
    protocol: 'tcp',
    mode: dnsrr ? 'host' : 'ingress',
  });
  const doc = {
    version: '3.8',
    services: {
      db: {
        image: ref('db'),
        secrets: ['POSTGRES_PASSWORD', 'APP_DB_PASSWORD'],
        volumes: [bind('postgres', '/var/lib/postgresql/data')],
        stop_grace_period: '30s',
        deploy: {
          ...endpoint,
          replicas: 1,
          placement: onData,
          // One database, one volume: the old task stops before the new one starts.
          update_config: { parallelism: 1, order: 'stop-first', failure_action: 'rollback', monitor: '20s' },
          restart_policy: { condition: 'any', delay: '2s' },
        },
      },
      documents: {
        image: ref('app'),
        environment: { MODE: 'documents' },
        volumes: [bind('documents', '/data/documents')],
        stop_grace_period: '20s',
        deploy: {
          ...endpoint,
          replicas: 1,
          placement: onData,
          ...rolling,
          restart_policy: { condition: 'any', delay: '2s' },
        },
      },
      app: {
        image: ref('app'),
        environment: appEnv,
        secrets: ['APP_DB_PASSWORD', 'SESSION_SECRET'],
        stop_grace_period: '20s',
        deploy: {
          ...endpoint,
          replicas,
          ...appSpread(replicas, env.servers.length, rolling),
          restart_policy: { condition: 'any', delay: '2s' },
        },
      },
      proxy: {
        image: ref('proxy'),
        ports: [port(80), port(443)],
        environment: proxyTls.environment,
        ...(proxyTls.secrets.length ? { secrets: proxyTls.secrets } : {}),
        // Each node's certificate and ACME account, kept across restarts of its proxy (the CA's rate limits).
        volumes: ['proxy-tls:/var/lib/crvs-tls'],
        deploy: {
          ...endpoint,
          // One proxy per node: every node answers, and losing one leaves the others serving.
          mode: 'global',
          // A host-mode port cannot be held by two tasks at once.
          update_config: {
            parallelism: 1,
            order: dnsrr ? 'stop-first' : 'start-first',
            failure_action: 'rollback',
          },
        },
      },
    },
    networks: { default: { driver: 'overlay', attachable: true } },
    volumes: { 'proxy-tls': {} },
    secrets: Object.fromEntries(
      [...DEMO_SECRETS.filter((s) => s !== 'SUPER_USER_PASSWORD'), ...proxyTls.secrets].map((s) => [
        s,
        { external: true },
      ]),
    ),
  };
  return stringify(doc, { lineWidth: 0 });
}
