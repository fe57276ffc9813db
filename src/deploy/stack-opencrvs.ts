// The opencrvs preset: the OpenCRVS v1.9 service set rendered for one environment as a compose document for
// `docker stack deploy`. Pure. Its images cannot be pulled on the lab machines, so it is validated (schema,
// variables, secrets) rather than run; see docs/deploy.md, "The OpenCRVS preset".
//
// Secrets reach the containers as Swarm secrets only. Third-party images read them through their `*_FILE`
// variables; the core services read their credentials from a per-service environment file (a derived secret,
// `ENV_<SERVICE>`) that a one-line shell entrypoint sources into the process, so no value is ever in the service
// definition that `docker service inspect` shows.
import { createHash, createPublicKey } from 'node:crypto';
import { stringify } from 'yaml';
import {
  type ApplicationEnvironment,
  applicationEnvironment,
  environmentDomain,
} from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { CrvsError } from '../errors.js';

type AppEnvironment = ApplicationEnvironment;

/** `{{NAME}}` in a service's variables stands for the value of secret NAME. */
const ref = (name: string) => `{{${name}}}`;
const PLACEHOLDER = /\{\{([A-Z][A-Z0-9_]*)\}\}/g;
const hasSecret = (v: string) => /\{\{[A-Z][A-Z0-9_]*\}\}/.test(v);

export interface CoreService {
  name: string;
  /** Image name under ghcr.io/opencrvs (ocrvs-<name>) unless it is the country configuration. */
  image: 'core' | 'countryconfig';
  port: number;
  /** Routed as <host>.<environment domain>. */
  host?: string;
  /** Variables: plain ones go to the service environment, those with a secret placeholder to its env file. */
  env: Record<string, string>;
  /** Runs once per deploy (restart none) instead of as a replicated service. */
  oneShot?: boolean;
}

export interface DataStore {
  name: string;
  image: string;
  /** Secret files mounted for the image's own *_FILE variables. */
  secrets: string[];
  env: Record<string, string>;
  volume: string;
  command?: string[];
  entrypoint?: string[];
  host?: string;
  port?: number;
}

const MONGO_HOST = 'mongo1';
const mongo = (db: string) =>
  `mongodb://admin:${ref('MONGODB_ADMIN_PASSWORD')}@${MONGO_HOST}:27017/${db}?authSource=admin&replicaSet=rs0`;
const REDIS = { REDIS_HOST: 'redis', REDIS_PASSWORD: ref('REDIS_PASSWORD') };
const ES_URL = `http://elastic:${ref('ELASTICSEARCH_SUPERUSER_PASSWORD')}@elasticsearch:9200`;
const SENTRY = 'SENTRY_DSN';

/** Service name -> internal URL, for the variables that point services at each other. */
const internal = (name: string, port: number) => `http://${name}:${port}`;

export function coreServices(domain: string, environment: string, env: AppEnvironment): CoreService[] {
  const url = (host: string) => `https://${host}.${domain}`;
  const testing = environment === 'qa' || environment === 'development';
  const common = {
    NODE_ENV: 'production',
    DOMAIN: domain,
    GATEWAY_URL: url('gateway'),
    LOGIN_URL: url('login'),
    CLIENT_APP_URL: url('register'),
    COUNTRY_CONFIG_URL: internal('countryconfig', 3040),
    CONFIG_URL: internal('config', 2021),
    AUTH_URL: internal('auth', 4040),
    USER_MANAGEMENT_URL: internal('user-mgnt', 3030),
    DOCUMENTS_URL: internal('documents', 9050),
    NOTIFICATION_URL: internal('notification', 2020),
    METRICS_URL: internal('metrics', 1050),
    SEARCH_URL: internal('search', 9090),
    WORKFLOW_URL: internal('workflow', 5050),
    EVENTS_URL: internal('events', 5555),
  };
  return [
    { name: 'client', image: 'core', port: 80, host: 'register', env: { ...common } },
    { name: 'login', image: 'core', port: 80, host: 'login', env: { ...common } },
    {
      name: 'gateway',
      image: 'core',
      port: 7070,
      host: 'gateway',
      env: {
        ...common,
        ...REDIS,
        CERT_PUBLIC_KEY_PATH: '/run/secrets/AUTH_PUBLIC_KEY',
        [SENTRY]: ref(SENTRY),
      },
    },
    {
      name: 'events',
      image: 'core',
      port: 5555,
      env: {
        ...common,
        EVENTS_POSTGRES_URL: `postgres://postgres:${ref('POSTGRES_PASSWORD')}@postgres:5432/events`,
        ENCRYPTION_KEY: ref('ENCRYPTION_KEY'),
        ES_HOST: ES_URL,
      },
    },
    {
      name: 'workflow',
      image: 'core',
      port: 5050,
      env: {
        ...common,
        ...REDIS,
        MONGO_URL: mongo('workflow'),
        CERT_PUBLIC_KEY_PATH: '/run/secrets/AUTH_PUBLIC_KEY',
        [SENTRY]: ref(SENTRY),
      },
    },
    { name: 'search', image: 'core', port: 9090, env: { ...common, ES_HOST: ES_URL } },
    {
      name: 'metrics',
      image: 'core',
      port: 1050,
      env: {
        ...common,
        INFLUX_HOST: 'influxdb',
        INFLUX_PORT: '8086',
        ES_HOST: ES_URL,
        MONGO_URL: mongo('metrics'),
      },
    },
    { name: 'scheduler', image: 'core', port: 2024, env: { ...common, MONGO_URL: mongo('scheduler') } },
    {
      name: 'auth',
      image: 'core',
      port: 4040,
      host: 'auth',
      env: {
        ...common,
        ...REDIS,
        CERT_PRIVATE_KEY_PATH: '/run/secrets/AUTH_PRIVATE_KEY',
        CERT_PUBLIC_KEY_PATH: '/run/secrets/AUTH_PUBLIC_KEY',
        QA_ENV: String(testing),
        TEST_2FA_CODES: String(env.testTwoFactorCodes),
        [SENTRY]: ref(SENTRY),
      },
    },
    {
      name: 'user-mgnt',
      image: 'core',
      port: 3030,
      env: { ...common, MONGO_URL: mongo('user-mgnt'), CERT_PUBLIC_KEY_PATH: '/run/secrets/AUTH_PUBLIC_KEY' },
    },
    {
      name: 'webhooks',
      image: 'core',
      port: 2525,
      host: 'webhooks',
      env: { ...common, ...REDIS, MONGO_URL: mongo('webhooks') },
    },
    { name: 'notification', image: 'core', port: 2020, env: { ...common, MONGO_URL: mongo('notification') } },
    {
      name: 'config',
      image: 'core',
      port: 2021,
      host: 'config',
      env: { ...common, MONGO_URL: mongo('application-config') },
    },
    {
      name: 'documents',
      image: 'core',
      port: 9050,
      host: 'documents',
      env: {
        ...common,
        MINIO_HOST: 'minio',
        MINIO_PORT: '9000',
        MINIO_ACCESS_KEY: 'minioadmin',
        MINIO_SECRET_KEY: ref('MINIO_ROOT_PASSWORD'),
        MINIO_BUCKET: 'ocrvs',
      },
    },
    {
      name: 'countryconfig',
      image: 'countryconfig',
      port: 3040,
      host: 'countryconfig',
      env: {
        ...common,
        QA_ENV: String(testing),
        // Seeded users start active only where nobody real uses them.
        ACTIVATE_USERS: String(testing),
        ENCRYPTION_KEY: ref('ENCRYPTION_KEY'),
      },
    },
    {
      name: 'migration',
      image: 'core',
      port: 0,
      oneShot: true,
      env: {
        ...common,
        MONGO_URL: mongo('admin'),
        EVENTS_POSTGRES_URL: `postgres://postgres:${ref('POSTGRES_PASSWORD')}@postgres:5432/events`,
        ES_HOST: ES_URL,
        INFLUX_HOST: 'influxdb',
      },
    },
  ];
}

export const DATA_STORES: DataStore[] = [
  {
    name: MONGO_HOST,
    image: 'mongo:4.4',
    secrets: ['MONGODB_ADMIN_PASSWORD', 'MONGO_KEYFILE'],
    env: {
      MONGO_INITDB_ROOT_USERNAME: 'admin',
      MONGO_INITDB_ROOT_PASSWORD_FILE: '/run/secrets/MONGODB_ADMIN_PASSWORD',
    },
    volume: '/data/db',
    command: ['mongod', '--replSet', 'rs0', '--bind_ip_all', '--keyFile', '/run/secrets/MONGO_KEYFILE'],
  },
  {
    name: 'elasticsearch',
    image: 'docker.elastic.co/elasticsearch/elasticsearch:8.16.1',
    secrets: ['ELASTICSEARCH_SUPERUSER_PASSWORD'],
    env: {
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'true',
      'path.repo': '/data/backups/elasticsearch',
      ES_JAVA_OPTS: '-Xms2g -Xmx2g',
      ELASTIC_PASSWORD_FILE: '/run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD',
    },
    volume: '/usr/share/elasticsearch/data',
  },
  {
    name: 'kibana',
    image: 'docker.elastic.co/kibana/kibana:8.16.1',
    secrets: ['KIBANA_SYSTEM_PASSWORD'],
    env: { ELASTICSEARCH_HOSTS: 'http://elasticsearch:9200', ELASTICSEARCH_USERNAME: 'kibana_system' },
    volume: '/usr/share/kibana/data',
    // Kibana has no *_FILE variables: its entrypoint reads the password file into the process environment.
    entrypoint: [
      '/bin/sh',
      '-c',
      'ELASTICSEARCH_PASSWORD="$(cat /run/secrets/KIBANA_SYSTEM_PASSWORD)" exec /usr/local/bin/kibana-docker',
    ],
    host: 'kibana',
    port: 5601,
  },
  {
    name: 'influxdb',
    image: 'influxdb:1.8.10',
    secrets: [],
    env: { INFLUXDB_HTTP_AUTH_ENABLED: 'false', INFLUXDB_BIND_ADDRESS: '127.0.0.1:8088' },
    volume: '/var/lib/influxdb',
  },
  {
    name: 'minio',
    image: 'minio/minio:RELEASE.2024-10-13T13-34-11Z',
    secrets: ['MINIO_ROOT_PASSWORD'],
    env: { MINIO_ROOT_USER: 'minioadmin', MINIO_ROOT_PASSWORD_FILE: 'MINIO_ROOT_PASSWORD' },
    volume: '/data',
    command: ['server', '/data', '--console-address', ':9001'],
    host: 'minio',
    port: 9000,
  },
  {
    name: 'postgres',
    image: 'postgres:17.2',
    secrets: ['POSTGRES_PASSWORD'],
    env: { POSTGRES_PASSWORD_FILE: '/run/secrets/POSTGRES_PASSWORD', POSTGRES_DB: 'events' },
    volume: '/var/lib/postgresql/data',
  },
  {
    name: 'redis',
    image: 'redis:7.4',
    secrets: ['REDIS_CONF'],
    env: {},
    volume: '/data',
    // The password lives in the config file, not on the command line.
    command: ['redis-server', '/run/secrets/REDIS_CONF'],
  },
  {
    name: 'metabase',
    image: 'metabase/metabase:v0.52.4',
    secrets: ['METABASE_ADMIN_PASSWORD'],
    // The admin password is mounted for the first-run setup of the dashboards; it is not a variable of the image.
    env: { MB_DB_FILE: '/metabase-data/metabase.db' },
    volume: '/metabase-data',
    host: 'metabase',
    port: 3000,
  },
];

/** Secrets a variable set refers to. */
export function secretsIn(env: Record<string, string>): string[] {
  const names = new Set<string>();
  for (const v of Object.values(env)) for (const m of v.matchAll(PLACEHOLDER)) names.add(m[1] as string);
  return [...names].sort();
}

export const envSecretName = (service: string) => `ENV_${service.toUpperCase().replace(/-/g, '_')}`;

/** Secrets crvs computes from the store's values (and the spec's files) at deploy time. */
export interface DerivedSecret {
  key: string;
  /** Store secrets the value is made from (the services to redeploy when one of them rotates). */
  from: string[];
  derive(values: (name: string) => string | undefined, readFile: (path: string) => string): string;
}

export interface OpenCrvsStack {
  compose: string;
  /** Store secrets the stack mounts or uses, with the services that use each. */
  consumers: Record<string, string[]>;
  derived: DerivedSecret[];
}

/** Core services with variables that hold secrets start through this: source the env file, then the real start. */
const shim = (service: string, start: string) => [
  '/bin/sh',
  '-c',
  `set -a && . /run/secrets/${envSecretName(service)} && set +a && exec ${start}`,
];

function acme(spec: Spec): boolean {
  return spec.tls.mode === 'http-01' || spec.tls.mode === 'dns-01';
}

function traefik(spec: Spec, domain: string) {
  const args = [
    '--providers.docker=true',
    '--providers.docker.swarmMode=true',
    '--providers.docker.exposedByDefault=false',
    '--providers.docker.network=crvs_overlay',
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
  const tls = spec.tls;
  if (tls.mode === 'http-01' || tls.mode === 'dns-01') {
    args.push(
      `--certificatesresolvers.le.acme.email=${tls.email}`,
      '--certificatesresolvers.le.acme.storage=/acme/acme.json',
    );
    volumes.push('traefik-acme:/acme');
  }
  if (tls.mode === 'http-01') args.push('--certificatesresolvers.le.acme.httpchallenge.entrypoint=web');
  if (tls.mode === 'dns-01') {
    args.push(`--certificatesresolvers.le.acme.dnschallenge.provider=${tls.provider}`);
    secrets.push(tls.credentialsSecret);
    // The provider's credentials (KEY=value lines) enter the process environment, not the service definition.
    entrypoint = [
      '/bin/sh',
      '-c',
      `set -a && . /run/secrets/${tls.credentialsSecret} && set +a && exec traefik "$@"`,
      'traefik',
    ];
  }
  if (tls.mode === 'static') {
    args.push('--providers.file.filename=/run/secrets/TRAEFIK_TLS');
    secrets.push('TRAEFIK_TLS', 'TLS_CERTIFICATE', tls.keySecret);
  }
  return {
    image: 'traefik:v2.11',
    ...(entrypoint ? { entrypoint } : {}),
    command: args,
    ports: [
      { target: 80, published: 80, protocol: 'tcp', mode: 'host' },
      { target: 443, published: 443, protocol: 'tcp', mode: 'host' },
    ],
    volumes,
    ...(secrets.length ? { secrets } : {}),
    deploy: {
      mode: 'global',
      placement: { constraints: ['node.role == manager'] },
      update_config: { parallelism: 1, order: 'stop-first', failure_action: 'rollback' },
      labels: {
        'traefik.enable': 'true',
        // HSTS for every router, and the bare domain redirects to the registration app.
        'traefik.http.middlewares.hsts.headers.stsseconds': '31536000',
        'traefik.http.middlewares.hsts.headers.stsincludesubdomains': 'true',
        'traefik.http.middlewares.to-register.redirectregex.regex': `^https?://${domain.replace(/\./g, '\\.')}/(.*)`,
        'traefik.http.middlewares.to-register.redirectregex.replacement': `https://register.${domain}/$\${1}`,
        'traefik.http.routers.bare.rule': `Host(\`${domain}\`)`,
        'traefik.http.routers.bare.entrypoints': 'websecure',
        'traefik.http.routers.bare.middlewares': 'to-register',
        'traefik.http.routers.bare.service': 'noop@internal',
        'traefik.http.routers.bare.tls': 'true',
        ...(acme(spec) ? { 'traefik.http.routers.bare.tls.certresolver': 'le' } : {}),
        'traefik.http.services.traefik.loadbalancer.server.port': '80',
      },
    },
  };
}

function routeLabels(spec: Spec, domain: string, router: string, host: string, port: number) {
  return {
    'traefik.enable': 'true',
    [`traefik.http.routers.${router}.rule`]: `Host(\`${host}.${domain}\`)`,
    [`traefik.http.routers.${router}.entrypoints`]: 'websecure',
    [`traefik.http.routers.${router}.tls`]: 'true',
    ...(acme(spec) ? { [`traefik.http.routers.${router}.tls.certresolver`]: 'le' } : {}),
    [`traefik.http.routers.${router}.middlewares`]: 'hsts',
    [`traefik.http.services.${router}.loadbalancer.server.port`]: String(port),
  };
}

function countryConfigImage(spec: Spec): string {
  const cc = spec.stack.countryConfig;
  if (!cc)
    throw new CrvsError('E_SPEC', 'the opencrvs preset needs stack.countryConfig (image and version)', {
      hint: 'add stack.countryConfig: { image: <registry account>/<repository>, version: <tag> } to crvs.yaml',
    });
  const host = spec.registry.host;
  return host === 'docker.io' ? `${cc.image}:${cc.version}` : `${host}/${cc.image}:${cc.version}`;
}

/**
 * Renders the stack. `present` says which optional store secrets (Sentry DSN) have a value: an optional secret
 * the store lacks is left out of the stack instead of failing the deploy.
 */
export function renderOpenCrvsStack(
  spec: Spec,
  environment: string,
  version: string,
  present: (name: string) => boolean = () => false,
): OpenCrvsStack {
  const env = applicationEnvironment(spec, environment);
  const domain = environmentDomain(spec.domain, environment);
  const replicas = env.replicas ?? env.servers.length;
  const vip = env.ingressMode === 'dnsrr' ? { endpoint_mode: 'dnsrr' } : {};
  const consumers: Record<string, Set<string>> = {};
  const use = (secret: string, service: string) => {
    consumers[secret] ??= new Set();
    consumers[secret].add(service);
  };
  const derived: DerivedSecret[] = [];
  const services: Record<string, unknown> = {};
  const rolling = {
    update_config: {
      parallelism: 1,
      delay: '10s',
      order: 'start-first',
      failure_action: 'rollback',
      monitor: '30s',
    },
    rollback_config: { parallelism: 1, order: 'start-first', failure_action: 'pause', monitor: '20s' },
  };
  const optional = new Set([SENTRY]);

  for (const s of coreServices(domain, environment, env)) {
    // An optional secret the store lacks: the variable is dropped, not left with an empty value.
    const vars = Object.fromEntries(
      Object.entries(s.env).filter(([, v]) => secretsIn({ v }).every((n) => !optional.has(n) || present(n))),
    );
    const plain = Object.fromEntries(Object.entries(vars).filter(([, v]) => !hasSecret(v)));
    const withSecrets = Object.fromEntries(Object.entries(vars).filter(([k]) => !(k in plain)));
    const used = secretsIn(withSecrets);
    const files = Object.values(vars)
      .filter((v) => v.startsWith('/run/secrets/'))
      .map((v) => v.slice('/run/secrets/'.length));
    const mounted: string[] = [];
    if (used.length) {
      const key = envSecretName(s.name);
      mounted.push(key);
      for (const n of used) use(n, s.name);
      derived.push({
        key,
        from: used,
        derive: (values) =>
          `${Object.entries(withSecrets)
            .map(([k, v]) => `${k}=${shellQuote(v.replace(PLACEHOLDER, (_, n: string) => values(n) ?? ''))}`)
            .join('\n')}\n`,
      });
    }
    for (const f of files) {
      mounted.push(f);
      // Both key files (the private key, and its derived public half) come from AUTH_PRIVATE_KEY.
      use('AUTH_PRIVATE_KEY', s.name);
    }
    const image =
      s.image === 'countryconfig' ? countryConfigImage(spec) : `ghcr.io/opencrvs/ocrvs-${s.name}:${version}`;
    services[s.name] = {
      image,
      ...(used.length ? { entrypoint: shim(s.name, 'yarn start:prod') } : {}),
      environment: plain,
      ...(mounted.length ? { secrets: [...new Set(mounted)].sort() } : {}),
      ...(s.oneShot
        ? {}
        : {
            healthcheck: {
              test: ['CMD-SHELL', `wget -qO- http://127.0.0.1:${s.port}/ping || exit 1`],
              interval: '10s',
              timeout: '5s',
              retries: 6,
              start_period: '60s',
            },
          }),
      deploy: s.oneShot
        ? { ...vip, mode: 'replicated', replicas: 1, restart_policy: { condition: 'none' } }
        : {
            ...vip,
            replicas,
            ...rolling,
            restart_policy: { condition: 'any', delay: '5s' },
            ...(s.host ? { labels: routeLabels(spec, domain, s.name, s.host, s.port) } : {}),
          },
    };
  }

  for (const d of DATA_STORES) {
    for (const n of d.secrets) if (!['MONGO_KEYFILE', 'REDIS_CONF'].includes(n)) use(n, d.name);
    services[d.name] = {
      image: d.image,
      ...(d.entrypoint ? { entrypoint: d.entrypoint } : {}),
      ...(d.command ? { command: d.command } : {}),
      environment: d.env,
      ...(d.secrets.length
        ? {
            secrets: d.secrets.map((n) =>
              // mongod refuses a key file that others can read.
              n === 'MONGO_KEYFILE' ? { source: n, target: n, uid: '999', gid: '999', mode: 0o400 } : n,
            ),
          }
        : {}),
      volumes: [`${d.name}-data:${d.volume}`],
      stop_grace_period: '60s',
      deploy: {
        ...vip,
        replicas: 1,
        placement: { constraints: ['node.labels.data == true'] },
        // One volume per store: the old task stops before the new one starts.
        update_config: { parallelism: 1, order: 'stop-first', failure_action: 'rollback', monitor: '30s' },
        restart_policy: { condition: 'any', delay: '5s' },
        ...(d.host && d.port ? { labels: routeLabels(spec, domain, d.name, d.host, d.port) } : {}),
      },
    };
  }
  use('MONGODB_ADMIN_PASSWORD', MONGO_HOST);
  derived.push({
    key: 'MONGO_KEYFILE',
    from: ['MONGODB_ADMIN_PASSWORD'],
    // Replica-set members authenticate with it; derived one-way so it changes when the admin password rotates.
    derive: (values) => keyfile(values('MONGODB_ADMIN_PASSWORD') ?? ''),
  });
  use('REDIS_PASSWORD', 'redis');
  derived.push({
    key: 'REDIS_CONF',
    from: ['REDIS_PASSWORD'],
    derive: (values) => `requirepass ${values('REDIS_PASSWORD') ?? ''}\n`,
  });
  // Every service that reads the public half of the auth key gets it as a derived secret too.
  derived.push({
    key: 'AUTH_PUBLIC_KEY',
    from: ['AUTH_PRIVATE_KEY'],
    derive: (values) => publicKeyPem(values('AUTH_PRIVATE_KEY') ?? ''),
  });

  const ingress = traefik(spec, domain);
  services.traefik = ingress;
  const tls = spec.tls;
  if (tls.mode === 'dns-01') use(tls.credentialsSecret, 'traefik');
  if (tls.mode === 'static') {
    use(tls.keySecret, 'traefik');
    derived.push(
      {
        key: 'TLS_CERTIFICATE',
        from: [],
        derive: (_values, readFile) => readFile(tls.certificate),
      },
      {
        key: 'TRAEFIK_TLS',
        from: [],
        derive: () =>
          stringify({
            tls: {
              certificates: [
                { certFile: '/run/secrets/TLS_CERTIFICATE', keyFile: `/run/secrets/${tls.keySecret}` },
              ],
              stores: {
                default: {
                  defaultCertificate: {
                    certFile: '/run/secrets/TLS_CERTIFICATE',
                    keyFile: `/run/secrets/${tls.keySecret}`,
                  },
                },
              },
            },
          }),
      },
    );
  }
  if (spec.smtp) {
    // Notification e-mail credentials, when the relay needs them and the store has them.
    for (const n of [spec.smtp.usernameSecret, spec.smtp.passwordSecret])
      if (present(n)) use(n, 'notification');
  }

  const secretKeys = new Set<string>();
  for (const svc of Object.values(services) as { secrets?: (string | { source: string })[] }[])
    for (const s of svc.secrets ?? []) secretKeys.add(typeof s === 'string' ? s : s.source);
  const doc = {
    version: '3.8',
    services,
    networks: { default: { name: 'crvs_overlay', driver: 'overlay', attachable: true } },
    volumes: {
      ...Object.fromEntries(DATA_STORES.map((d) => [`${d.name}-data`, {}])),
      ...(acme(spec) ? { 'traefik-acme': {} } : {}),
    },
    secrets: Object.fromEntries([...secretKeys].sort().map((k) => [k, { external: true }])),
  };
  return {
    compose: stringify(doc, { lineWidth: 0 }),
    consumers: Object.fromEntries(Object.entries(consumers).map(([k, v]) => [k, [...v].sort()])),
    derived: derived.filter((d) => secretKeys.has(d.key)),
  };
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

function keyfile(password: string): string {
  return `${createHash('sha512').update(`crvs:mongo-keyfile:${password}`).digest('base64')}\n`;
}

function publicKeyPem(privatePem: string): string {
  return createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString();
}
