import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dataDirs, dataPath } from '../../../src/config/data-layout.js';
import { validateSpecText } from '../../../src/config/load.js';
import type { Spec } from '../../../src/config/schema.js';
import { bindSecrets } from '../../../src/deploy/bind.js';
import { envSecretName } from '../../../src/deploy/opencrvs/derived.js';
import { IMAGE_START, JOBS, KEY_READERS, SINGLETONS } from '../../../src/deploy/opencrvs/services.js';
import { DEMO_SECRETS, renderDemoStack } from '../../../src/deploy/stack-demo.js';
import { catalogue } from '../../../src/secrets/catalogue.js';
import { generate } from '../../../src/secrets/generate.js';
import { forgetSecrets, type Sensitive, sensitive } from '../../../src/secrets/sensitive.js';
import { type Rendered, renderRelease } from '../../../src/usecases/release.js';
import { CORE, COUNTRY, countryRepository, requiredByCore } from '../../support/opencrvs-fixture.js';

interface Service {
  image: string;
  entrypoint?: string[];
  command?: string[] | string;
  environment?: Record<string, string>;
  secrets?: (string | { source: string })[];
  healthcheck?: { test: string[] };
  deploy: {
    replicas?: number;
    mode?: string;
    labels?: Record<string, string>;
    placement?: { constraints: string[] };
  };
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { external: boolean; name?: string }>;
}

const EXAMPLES = ['national', 'pilot', 'poc'];
const load = (name: string, edit?: (doc: Record<string, unknown>) => void): Spec => {
  const doc = parse(readFileSync(`examples/${name}/crvs.yaml`, 'utf8')) as Record<string, unknown>;
  edit?.(doc);
  const r = validateSpecText(stringify(doc));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.spec;
};
const appEnvironments = (spec: Spec) =>
  (['production', 'staging', 'qa', 'development'] as const).filter((e) => spec.environments[e]);
const secretNames = (s: Service) => (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));
const CANARY = 'canary-7f3a';

/** A value for every secret of the catalogue, as `crvs secrets init` would generate or a user would give. */
function storeFor(spec: Spec): Record<string, Sensitive<string>> {
  const values: Record<string, Sensitive<string>> = {};
  for (const d of catalogue(spec))
    values[d.name] = sensitive(d.generator ? generate(d.generator) : `${CANARY}-${d.name}`, d.name);
  values.MONGODB_ADMIN_PASSWORD = sensitive(`${CANARY}mongo`, 'MONGODB_ADMIN_PASSWORD');
  return values;
}

interface Case {
  spec: Spec;
  r: Rendered;
  doc: Compose;
  values: Record<string, Sensitive<string>>;
}
function render(spec: Spec, environment: string, specFile = countryRepository()): Case {
  const values = storeFor(spec);
  const r = renderRelease(spec, specFile, environment, 'v1.9.0', values);
  return { spec, r, doc: parse(r.compose) as Compose, values };
}

/** The variables a service starts with: its plain environment and its env file's. */
function envOf(c: Case, service: string): Record<string, string> {
  const file = c.r.secrets[envSecretName(service)]?.reveal() ?? '';
  const fromFile = Object.fromEntries(
    file
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 2, -1)]),
  );
  return { ...(c.doc.services[service]?.environment ?? {}), ...fromFile };
}

/** `service: VARIABLE` for each variable a fixture requires in production that the render does not give. */
function missing(c: Case, required: Record<string, string[]>): string[] {
  return Object.entries(required).flatMap(([service, vars]) => {
    const env = envOf(c, service);
    return vars.filter((v) => !(v in env) || env[v] === '').map((v) => `${service}: ${v}`);
  });
}

const cases = EXAMPLES.flatMap((example) => {
  const spec = load(example);
  return appEnvironments(spec).map((environment) => ({ example, spec, environment }));
});
const cache = new Map<string, Case>();
const rendered = (example: string, spec: Spec, environment: string) => {
  const key = `${example}/${environment}`;
  if (!cache.has(key)) cache.set(key, render(spec, environment));
  return cache.get(key) as Case;
};

afterEach(() => forgetSecrets());

describe('the opencrvs preset, rendered from the v1.9.0 reference files', () => {
  const required = requiredByCore();

  it('reads what the fixtures require (the parser sees every envalid file)', () => {
    // Each service with an envalid file is one that reads the JWT public key.
    expect(Object.keys(required).sort()).toEqual([...KEY_READERS].sort());
    expect(required.gateway).toContain('WEBHOOKS_URL');
    expect(required.documents).toEqual([]);
  });

  for (const { example, spec, environment } of cases) {
    it(`${example} ${environment}: every core service gets every variable its environment.ts requires in production`, () => {
      expect(missing(rendered(example, spec, environment), required)).toEqual([]);
    });

    it(`${example} ${environment}: no secret value in the stack file, every secret bound`, () => {
      const c = rendered(example, spec, environment);
      const bound = bindSecrets(c.r.compose, 'crvs', c.r.secrets);
      for (const v of Object.values(c.r.secrets)) expect(bound.compose).not.toContain(v.reveal());
      expect(bound.compose).not.toContain(CANARY);
      expect(Object.keys(c.doc.secrets).every((k) => c.r.secrets[k])).toBe(true);
    });

    it(`${example} ${environment}: singletons and jobs at one, stateless services scaled with the cluster`, () => {
      const c = rendered(example, spec, environment);
      const env = spec.environments[environment];
      const replicas = env?.replicas ?? env?.servers.length;
      for (const [name, s] of Object.entries(c.doc.services)) {
        if (name === 'traefik') expect(s.deploy.mode).toBe('global');
        else if (JOBS.has(name))
          expect([s.deploy.mode, s.deploy.replicas], name).toEqual(['replicated-job', 1]);
        else if (SINGLETONS.has(name)) expect(s.deploy.replicas, name).toBe(1);
        else expect(s.deploy.replicas, name).toBe(replicas);
      }
    });
  }

  it('fails when a fixture requires a variable the render does not supply', () => {
    const core = join(dirname(countryRepository()), 'core-copy');
    cpSync(CORE, core, { recursive: true });
    const file = `${core}/packages/gateway/src/environment.ts`;
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.replace(
        'cleanEnv(process.env, {',
        "cleanEnv(process.env, {\n  NEW_REQUIRED_SETTING: str({ devDefault: 'x, //y' }),",
      ),
    );
    const spec = load('pilot');
    expect(missing(rendered('pilot', spec, 'production'), requiredByCore(core))).toEqual([
      'gateway: NEW_REQUIRED_SETTING',
    ]);
  });

  const pilot = () => rendered('pilot', load('pilot'), 'production');

  it('has hearth, the replica-set initiation and the Postgres and Elasticsearch set-up as jobs, and migration as a job deploy waits for', () => {
    const s = pilot().doc.services;
    expect(s.hearth?.image).toBe('opencrvs/hearth:1.1.0');
    for (const job of ['mongo-on-update', 'postgres-on-update', 'setup-elasticsearch-users', 'migration'])
      expect(s[job]?.deploy.mode, job).toBe('replicated-job');
    expect(s['mongo-on-update']?.command).toEqual(['bash', '/on-deploy.sh']);
    expect(s.migration?.command).toEqual(['/bin/sh', '-c', '/app/wait && yarn start:prod']);
    expect(s.migration?.environment?.WAIT_HOSTS).toContain('postgres:5432');
  });

  it('routes client on 3000 and login on 3020, checked with the busybox wget of their nginx image', () => {
    const s = pilot().doc.services;
    expect(s.client?.deploy.labels?.['traefik.http.services.client.loadbalancer.server.port']).toBe('3000');
    expect(s.login?.deploy.labels?.['traefik.http.services.login.loadbalancer.server.port']).toBe('3020');
    expect(s.client?.healthcheck?.test).toEqual([
      'CMD',
      'wget',
      '-q',
      '-O',
      '/dev/null',
      'http://127.0.0.1:3000/',
    ]);
    expect(s.login?.healthcheck?.test).toEqual([
      'CMD',
      'wget',
      '-q',
      '-O',
      '/dev/null',
      'http://127.0.0.1:3020/',
    ]);
    for (const app of ['client', 'login'])
      expect(readFileSync(`${CORE}/packages/${app}/Dockerfile`, 'utf8')).toMatch(
        /FROM nginxinc\/nginx-unprivileged:[\d.]+-alpine/,
      );
  });

  it('checks the health of images built on node:22-slim with node itself, and starts them as their Dockerfile does', () => {
    const s = pilot().doc.services;
    expect(readFileSync(`${CORE}/packages/Dockerfile.base`, 'utf8')).toMatch(/FROM node:22-slim/);
    for (const [name, start] of Object.entries(IMAGE_START)) {
      let dockerfile: string;
      try {
        dockerfile = readFileSync(`${CORE}/packages/${name}/Dockerfile`, 'utf8');
      } catch {
        continue; // countryconfig and hearth are not core's
      }
      const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
      expect(start, name).toEqual(cmd);
      if (dockerfile.includes('ocrvs-base') && !JOBS.has(name)) {
        expect(s[name]?.healthcheck?.test.slice(0, 3), name).toEqual(['CMD', 'node', '-e']);
        expect(s[name]?.healthcheck?.test.join(' ')).not.toMatch(/wget|curl/);
      }
    }
    expect(s.scheduler?.command).toEqual(['./start.sh']);
    const cc = JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(`${COUNTRY}/Dockerfile`, 'utf8'))?.[1] ?? '[]');
    expect(s.countryconfig?.command).toEqual(cc);
  });

  it('gives countryconfig SMTP, the sender and the alert address', () => {
    const c = pilot();
    const env = envOf(c, 'countryconfig');
    expect(env).toMatchObject({
      SMTP_HOST: 'smtp.farajaland.gov.example',
      SMTP_PORT: '587',
      SMTP_SECURE: 'false',
      SENDER_EMAIL_ADDRESS: 'noreply@farajaland.gov.example',
      ALERT_EMAIL: 'ops@farajaland.gov.example',
      SMTP_USERNAME: c.values.SMTP_USERNAME?.reveal(),
      SMTP_PASSWORD: c.values.SMTP_PASSWORD?.reveal(),
    });
    expect(c.doc.services.countryconfig?.environment?.SMTP_PASSWORD).toBeUndefined();
  });

  it('mounts the public key on every service that verifies tokens', () => {
    const c = pilot();
    for (const name of KEY_READERS) {
      expect(secretNames(c.doc.services[name] as Service), name).toContain('AUTH_PUBLIC_KEY');
      expect(envOf(c, name).CERT_PUBLIC_KEY_PATH, name).toBe('/run/secrets/AUTH_PUBLIC_KEY');
    }
    expect(KEY_READERS).toHaveLength(12);
  });

  it('connects each service with its own database user, never an administrator', () => {
    const c = pilot();
    const admin = c.values.MONGODB_ADMIN_PASSWORD?.reveal() as string;
    const pg = c.values.POSTGRES_PASSWORD?.reveal() as string;
    for (const name of Object.keys(c.doc.services)) {
      if (
        [
          'mongo1',
          'mongo-on-update',
          'postgres',
          'postgres-on-update',
          'setup-elasticsearch-users',
          'elasticsearch',
        ].includes(name)
      )
        continue;
      for (const [k, v] of Object.entries(envOf(c, name))) {
        expect(v, `${name} ${k}`).not.toContain(admin);
        expect(v, `${name} ${k}`).not.toContain(pg);
        expect(v, `${name} ${k}`).not.toMatch(/\/\/(admin|postgres|elastic):/);
      }
    }
    expect(envOf(c, 'user-mgnt').MONGO_URL).toMatch(
      /^mongodb:\/\/user-mgnt:[A-Za-z0-9]{20,}@mongo1\/user-mgnt\?replicaSet=rs0$/,
    );
    expect(envOf(c, 'events').EVENTS_POSTGRES_URL).toMatch(/^postgres:\/\/events_app:/);
  });

  it('wires Metabase to the analytics database, with its admin from the store', () => {
    const c = pilot();
    const env = envOf(c, 'dashboards');
    expect(env.OPENCRVS_METABASE_ADMIN_PASSWORD).toBe(c.values.METABASE_ADMIN_PASSWORD?.reveal());
    expect(env.METABASE_DATABASE_USER).toBe('events_analytics');
    expect(env.METABASE_DATABASE_PASSWORD).toBe(envOf(c, 'postgres-on-update').ANALYTICS_POSTGRES_PASSWORD);
  });

  it('refuses, at the ingress, the internal paths of countryconfig and auth', () => {
    const s = pilot().doc.services;
    const blocked = (svc: string) =>
      Object.entries(s[svc]?.deploy.labels ?? {})
        .filter(([k]) => /routers\.crvs-internal-.*\.rule$/.test(k))
        .map(([, v]) => v);
    expect(blocked('countryconfig')).toEqual(
      ['/email', '/notification', '/reindex', '/dashboards/queries.json'].map(
        (p) => `Host(\`countryconfig.farajaland.gov.example\`) && PathPrefix(\`${p}\`)`,
      ),
    );
    expect(blocked('auth')).toEqual([
      'Host(`auth.farajaland.gov.example`) && PathPrefix(`/internal/reindexing-token`)',
    ]);
    expect(
      s.traefik?.deploy.labels?.['traefik.http.middlewares.crvs-internal-only.ipwhitelist.sourcerange'],
    ).toBe('255.255.255.255/32');
  });

  it('runs images no older than the reference', () => {
    const s = pilot().doc.services;
    expect(s.postgres?.image).toBe('postgres:17.6');
    expect(s.elasticsearch?.image).toBe('docker.elastic.co/elasticsearch/elasticsearch:8.16.4');
    expect(s.redis?.image).toBe('redis:8');
    expect(s.mongo1?.image).toBe('mongo:4.4');
    expect(s.traefik?.image).toBe('traefik:v2.11');
    expect(s.gateway?.image).toBe('ghcr.io/opencrvs/ocrvs-gateway:v1.9.0');
  });

  it('puts the data stores on the data node, and the spec TLS mode on the ingress', () => {
    const c = pilot();
    for (const name of ['mongo1', 'postgres', 'elasticsearch', 'influxdb', 'minio', 'redis'])
      expect(c.doc.services[name]?.deploy.placement?.constraints, name).toContain('node.labels.data == true');
    expect(c.doc.services.gateway?.deploy.labels?.['traefik.http.routers.gateway.tls.certresolver']).toBe(
      'le',
    );
    expect(c.doc.services.gateway?.deploy.labels?.['traefik.http.routers.gateway.entrypoints']).toBe(
      'websecure',
    );
  });
});

describe("the country's large files", () => {
  it("bind-mounts Metabase's real-size dump read-only from its upload on the manager (too large for a config)", () => {
    const specFile = countryRepository();
    const dump = join(dirname(specFile), 'infrastructure/metabase/metabase.init.db.sql');
    const content = `-- a dump larger than a Swarm config may be\n${'INSERT INTO t VALUES (1);\n'.repeat(30_000)}`;
    writeFileSync(dump, content);
    const c = render(load('pilot'), 'production', specFile);
    const upload = c.r.files.find((f) => f.path.endsWith('-metabase.init.db.sql'));
    expect(upload?.content).toBe(content);
    const svc = c.doc.services.dashboards as unknown as {
      volumes: unknown[];
      configs?: { target: string }[];
      deploy: { placement: { constraints: string[] } };
    };
    expect(svc.volumes).toContainEqual({
      type: 'bind',
      source: `/var/lib/crvs/production/${upload?.path}`,
      target: '/metabase.init.db.sql',
      read_only: true,
    });
    expect(svc.deploy.placement.constraints).toEqual(['node.role == manager']);
    // Its small neighbours are still Swarm configs.
    expect((svc.configs ?? []).map((x) => x.target)).toContain('/run.sh');
  });
});

describe("the stores' data, under /data on the data node (the encrypted volume where there is one)", () => {
  /** Every bind mount of the stack whose source is under /data, as `service: source`. */
  const dataBinds = (doc: Compose) =>
    Object.entries(doc.services).flatMap(([name, svc]) =>
      ((svc as { volumes?: (string | { type?: string; source?: string })[] }).volumes ?? [])
        .map((v) => (typeof v === 'string' ? v.split(':')[0] : v.type === 'bind' ? v.source : undefined))
        .filter((src): src is string => src?.startsWith('/data/') ?? false)
        .map((src) => `${name}: ${src}`),
    );

  it('opencrvs: every store directory the stack mounts is one provisioning creates', () => {
    const created = new Set(dataDirs('opencrvs').map((d) => dataPath(d.path)));
    const binds = dataBinds(rendered('pilot', load('pilot'), 'production').doc);
    expect(binds.sort()).toEqual([
      'elasticsearch: /data/backups/elasticsearch',
      'elasticsearch: /data/elasticsearch',
      'influxdb: /data/backups/influxdb',
      'influxdb: /data/influxdb',
      'metrics: /data/vsexport',
      'minio: /data/minio',
      'mongo1: /data/mongo',
      'postgres: /data/postgres',
    ]);
    expect(binds.filter((b) => !created.has(b.split(': ')[1] as string))).toEqual([]);
  });

  it("demo: Postgres and the documents are bind mounts of the directories provisioning creates; the one named volume is the proxy's certificates", () => {
    const spec = load('national', (d) => {
      d.stack = { preset: 'demo', version: 'v1' };
    });
    const doc = parse(renderDemoStack(spec, 'production', 'v1')) as Compose & { volumes?: unknown };
    expect(dataBinds(doc).sort()).toEqual(['db: /data/postgres', 'documents: /data/documents']);
    expect((doc.services.db as { volumes?: unknown } | undefined)?.volumes).toEqual([
      { type: 'bind', source: '/data/postgres', target: '/var/lib/postgresql/data' },
    ]);
    expect(doc.volumes).toEqual({ 'proxy-tls': {} });
    expect((doc.services.proxy as { volumes?: unknown } | undefined)?.volumes).toEqual([
      'proxy-tls:/var/lib/crvs-tls',
    ]);
    expect(dataDirs('demo').map((d) => dataPath(d.path))).toEqual(['/data/postgres', '/data/documents']);
  });
});

describe("the demo preset's proxy, for each TLS mode (stacks/demo/proxy/crvs-proxy reads these)", () => {
  const demo = (tls: Record<string, unknown>) =>
    load('national', (d) => {
      d.stack = { preset: 'demo', version: 'v1' };
      d.tls = tls;
    });
  type Proxy = { environment: Record<string, string>; secrets?: string[]; ports: unknown[] };
  const proxy = (spec: Spec, environment = 'qa') =>
    (parse(renderDemoStack(spec, environment, 'v1')) as { services: { proxy: Proxy } }).services.proxy;
  const lab = { directory: 'https://acme.lab.crvs.test:14000/dir', caCertificate: 'lab-ca.pem' };

  it('publishes 80 and 443 through the routing mesh, or on each node itself with dnsrr (the lab: no IPVS)', () => {
    expect(proxy(demo({ mode: 'self-signed' })).ports).toEqual([
      { target: 80, published: 80, protocol: 'tcp', mode: 'ingress' },
      { target: 443, published: 443, protocol: 'tcp', mode: 'ingress' },
    ]);
    const dnsrr = load('national', (d) => {
      d.stack = { preset: 'demo', version: 'v1' };
      (d.environments as { qa: Record<string, unknown> }).qa.ingressMode = 'dnsrr';
    });
    expect(proxy(dnsrr).ports).toEqual([
      { target: 80, published: 80, protocol: 'tcp', mode: 'host' },
      { target: 443, published: 443, protocol: 'tcp', mode: 'host' },
    ]);
  });

  it("self-signed: the environment's domain, no secret", () => {
    const p = proxy(demo({ mode: 'self-signed' }));
    const domain = `qa.${load('national').domain}`;
    expect(p.environment).toEqual({ TLS_MODE: 'self-signed', TLS_NAMES: domain });
    expect(p.secrets).toBeUndefined();
  });

  it("http-01: the CA's directory and e-mail; the private CA's certificate as a secret lego trusts", () => {
    const spec = demo({ mode: 'http-01', email: 'ops@lab.crvs.test', ...lab });
    const p = proxy(spec, 'production');
    expect(p.environment).toEqual({
      TLS_MODE: 'http-01',
      TLS_NAMES: spec.domain,
      ACME_EMAIL: 'ops@lab.crvs.test',
      ACME_DIRECTORY: 'https://acme.lab.crvs.test:14000/dir',
      LEGO_CA_CERTIFICATES: '/run/secrets/TLS_ACME_CA',
    });
    expect(p.secrets).toEqual(['TLS_ACME_CA']);
    const le = proxy(demo({ mode: 'http-01', email: 'ops@lab.crvs.test' }));
    expect(le.environment.ACME_DIRECTORY).toBe('https://acme-v02.api.letsencrypt.org/directory');
    expect(le.secrets).toBeUndefined();
  });

  it('dns-01: the domain and every name under it, the provider, its credentials as a file only', () => {
    const spec = demo({
      mode: 'dns-01',
      email: 'ops@lab.crvs.test',
      provider: 'rfc2136',
      credentialsSecret: 'DNS_PROVIDER_CREDENTIALS',
      ...lab,
    });
    const p = proxy(spec);
    expect(p.environment).toEqual({
      TLS_MODE: 'dns-01',
      TLS_NAMES: `qa.${spec.domain} *.qa.${spec.domain}`,
      ACME_EMAIL: 'ops@lab.crvs.test',
      ACME_DIRECTORY: 'https://acme.lab.crvs.test:14000/dir',
      LEGO_CA_CERTIFICATES: '/run/secrets/TLS_ACME_CA',
      ACME_DNS_PROVIDER: 'rfc2136',
      ACME_DNS_CREDENTIALS_FILE: '/run/secrets/DNS_PROVIDER_CREDENTIALS',
    });
    expect(p.secrets).toEqual(['TLS_ACME_CA', 'DNS_PROVIDER_CREDENTIALS']);
    expect(catalogue(spec).find((d) => d.name === 'DNS_PROVIDER_CREDENTIALS')?.consumers).toEqual(['proxy']);
  });

  it('static: the chain from the file beside the spec and the key from the store, both as secrets', () => {
    const specFile = countryRepository();
    const chain = '-----BEGIN CERTIFICATE-----\nMIIB-demo-chain\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dirname(specFile), 'fullchain.pem'), chain);
    const spec = demo({ mode: 'static', certificate: 'fullchain.pem', keySecret: 'TLS_PRIVATE_KEY' });
    const p = proxy(spec);
    expect(p.environment).toEqual({
      TLS_MODE: 'static',
      TLS_NAMES: `qa.${spec.domain}`,
      TLS_CERTIFICATE_FILE: '/run/secrets/TLS_CERTIFICATE',
      TLS_KEY_FILE: '/run/secrets/TLS_PRIVATE_KEY',
    });
    const values = Object.fromEntries(
      [...DEMO_SECRETS, 'TLS_PRIVATE_KEY'].map((n) => [n, sensitive(`${CANARY}-${n}`, n)]),
    );
    const r = renderRelease(spec, specFile, 'qa', 'v1', values);
    expect(r.secrets.TLS_CERTIFICATE?.reveal()).toBe(chain);
    expect(r.compose).not.toContain(CANARY);
    const { bound } = bindSecrets(r.compose, 'crvs', r.secrets);
    expect(bound.map((b) => b.key)).toEqual(expect.arrayContaining(['TLS_CERTIFICATE', 'TLS_PRIVATE_KEY']));
  });
});

describe('the demo preset', () => {
  it('mounts exactly the demo secrets of the catalogue that its services use', () => {
    const spec = load('national', (d) => {
      d.stack = { preset: 'demo', version: 'v1' };
    });
    const names = catalogue(spec).map((d) => d.name);
    for (const s of DEMO_SECRETS) expect(names).toContain(s);
    const doc = parse(renderDemoStack(spec, 'production', 'v1')) as Compose;
    const used = new Set(Object.values(doc.services).flatMap(secretNames));
    expect(Object.keys(doc.secrets).sort()).toEqual([...used].sort());
    for (const s of used) expect(names).toContain(s);
  });
});

describe("Traefik, for each TLS mode of the spec (the opencrvs preset's ingress)", () => {
  const withTls = (tls: Record<string, unknown>) =>
    load('pilot', (doc) => {
      doc.tls = tls;
    });
  const traefik = (c: Case) => c.doc.services.traefik as Service & { volumes?: string[]; ports?: unknown[] };
  const command = (c: Case) => traefik(c).command as string[];
  /** Every router label of the stack that names a certificate resolver, and how many routers terminate TLS. */
  const routers = (c: Case) => {
    const labels = Object.values(c.doc.services).flatMap((s) => Object.entries(s.deploy.labels ?? {}));
    return {
      resolvers: [...new Set(labels.filter(([k]) => k.endsWith('.tls.certresolver')).map(([, v]) => v))],
      tls: labels.filter(([k, v]) => /^traefik\.http\.routers\.[^.]+\.tls$/.test(k) && v === 'true').length,
      plain: labels.filter(([k, v]) => k.endsWith('.entrypoints') && v !== 'websecure').length,
    };
  };
  const ACME_ARGS = /^--certificatesresolvers\./;
  // Every mode: plain HTTP only redirects, both ports on the node itself, Traefik's own health check.
  const common = (c: Case) => {
    expect(command(c)).toEqual(
      expect.arrayContaining([
        '--entrypoints.web.address=:80',
        '--entrypoints.web.http.redirections.entrypoint.to=websecure',
        '--entrypoints.web.http.redirections.entrypoint.scheme=https',
        '--entrypoints.websecure.address=:443',
      ]),
    );
    expect(traefik(c).ports).toEqual([
      { target: 80, published: 80, protocol: 'tcp', mode: 'host' },
      { target: 443, published: 443, protocol: 'tcp', mode: 'host' },
    ]);
    const r = routers(c);
    expect(r.tls).toBeGreaterThan(10);
    expect(r.plain).toBe(0);
  };

  it('http-01: an ACME resolver with the spec e-mail, the HTTP challenge on port 80, its account and certificates in a volume', () => {
    const c = render(withTls({ mode: 'http-01', email: 'certs@moh.example' }), 'production');
    common(c);
    expect(command(c).filter((a) => ACME_ARGS.test(a))).toEqual([
      '--certificatesresolvers.le.acme.email=certs@moh.example',
      '--certificatesresolvers.le.acme.storage=/acme/acme.json',
      '--certificatesresolvers.le.acme.caserver=https://acme-v02.api.letsencrypt.org/directory',
      '--certificatesresolvers.le.acme.httpchallenge.entrypoint=web',
    ]);
    expect(traefik(c).volumes).toEqual([
      '/var/run/docker.sock:/var/run/docker.sock:ro',
      'traefik-acme:/acme',
    ]);
    expect(parse(c.r.compose).volumes).toEqual({ 'traefik-acme': {} });
    expect(traefik(c).entrypoint).toBeUndefined();
    expect(traefik(c).secrets).toBeUndefined();
    expect(traefik(c).environment).toBeUndefined();
    expect(routers(c).resolvers).toEqual(['le']);
  });

  it("a private ACME CA, with the lab's settings (the demo's TLS lab test uses the same): its directory, and its CA trusted from the file beside the spec", () => {
    const specFile = countryRepository();
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB-lab-ca\n-----END CERTIFICATE-----\n';
    writeFileSync(join(dirname(specFile), 'lab-ca.pem'), ca);
    const settings = {
      directory: 'https://acme.lab.crvs.test:14000/dir',
      caCertificate: 'lab-ca.pem',
      caaIdentity: 'lab.crvs.test',
    };
    for (const tls of [
      { mode: 'http-01', email: 'ops@lab.crvs.test', ...settings },
      {
        mode: 'dns-01',
        email: 'ops@lab.crvs.test',
        provider: 'rfc2136',
        credentialsSecret: 'DNS_PROVIDER_CREDENTIALS',
        ...settings,
      },
    ]) {
      const c = render(withTls(tls), 'production', specFile);
      common(c);
      expect(command(c)).toContain(
        '--certificatesresolvers.le.acme.caserver=https://acme.lab.crvs.test:14000/dir',
      );
      expect(traefik(c).environment).toEqual({ LEGO_CA_CERTIFICATES: '/run/secrets/TLS_ACME_CA' });
      expect(secretNames(traefik(c))).toContain('TLS_ACME_CA');
      expect(c.r.secrets.TLS_ACME_CA?.reveal()).toBe(ca);
      expect(c.doc.secrets.TLS_ACME_CA).toEqual({ external: true });
    }
  });

  it("dns-01: the spec's provider, its credentials from the store into the process only, no HTTP challenge", () => {
    const c = render(
      withTls({
        mode: 'dns-01',
        email: 'certs@moh.example',
        provider: 'rfc2136',
        credentialsSecret: 'DNS_UPDATE_CREDENTIALS',
      }),
      'production',
    );
    common(c);
    expect(command(c).filter((a) => ACME_ARGS.test(a))).toEqual([
      '--certificatesresolvers.le.acme.email=certs@moh.example',
      '--certificatesresolvers.le.acme.storage=/acme/acme.json',
      '--certificatesresolvers.le.acme.caserver=https://acme-v02.api.letsencrypt.org/directory',
      '--certificatesresolvers.le.acme.dnschallenge.provider=rfc2136',
    ]);
    expect(secretNames(traefik(c))).toEqual(['DNS_UPDATE_CREDENTIALS']);
    expect(traefik(c).entrypoint).toEqual([
      '/bin/sh',
      '-c',
      'set -a && . /run/secrets/DNS_UPDATE_CREDENTIALS && set +a && exec traefik "$$@"',
      'traefik',
    ]);
    expect(c.doc.secrets.DNS_UPDATE_CREDENTIALS).toEqual({ external: true });
    const credentials = c.values.DNS_UPDATE_CREDENTIALS?.reveal();
    expect(credentials).toBe(`${CANARY}-DNS_UPDATE_CREDENTIALS`);
    expect(c.r.compose).not.toContain(credentials);
    expect(routers(c).resolvers).toEqual(['le']);
  });

  it("static: the certificate file beside the spec and the key from the store, as secrets Traefik's file provider names", () => {
    const specFile = countryRepository();
    const chain = '-----BEGIN CERTIFICATE-----\nMIIB-test-chain\n-----END CERTIFICATE-----\n';
    mkdirSync(join(dirname(specFile), 'tls'));
    writeFileSync(join(dirname(specFile), 'tls', 'fullchain.pem'), chain);
    const c = render(
      withTls({ mode: 'static', certificate: 'tls/fullchain.pem', keySecret: 'TLS_PRIVATE_KEY' }),
      'production',
      specFile,
    );
    common(c);
    expect(command(c).filter((a) => ACME_ARGS.test(a))).toEqual([]);
    expect(command(c)).toContain('--providers.file.filename=/run/secrets/TRAEFIK_TLS');
    expect(secretNames(traefik(c))).toEqual(['TRAEFIK_TLS', 'TLS_CERTIFICATE', 'TLS_PRIVATE_KEY']);
    expect(c.r.secrets.TLS_CERTIFICATE?.reveal()).toBe(chain);
    expect(parse(c.r.secrets.TRAEFIK_TLS?.reveal() ?? '')).toEqual({
      tls: {
        certificates: [{ certFile: '/run/secrets/TLS_CERTIFICATE', keyFile: '/run/secrets/TLS_PRIVATE_KEY' }],
        stores: {
          default: {
            defaultCertificate: {
              certFile: '/run/secrets/TLS_CERTIFICATE',
              keyFile: '/run/secrets/TLS_PRIVATE_KEY',
            },
          },
        },
      },
    });
    const key = c.values.TLS_PRIVATE_KEY?.reveal();
    expect(key).toBe(`${CANARY}-TLS_PRIVATE_KEY`);
    expect(c.r.compose).not.toContain(key);
    expect(parse(c.r.compose).volumes).toBeUndefined();
    expect(routers(c).resolvers).toEqual([]);
  });

  it("self-signed: no resolver and no secret, Traefik's own certificate on every router", () => {
    const c = render(withTls({ mode: 'self-signed' }), 'production');
    common(c);
    expect(command(c).filter((a) => ACME_ARGS.test(a) || a.startsWith('--providers.file'))).toEqual([]);
    expect(traefik(c).secrets).toBeUndefined();
    expect(traefik(c).volumes).toEqual(['/var/run/docker.sock:/var/run/docker.sock:ro']);
    expect(routers(c).resolvers).toEqual([]);
  });
});
