import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { validateSpecText } from '../../../src/config/load.js';
import type { Spec } from '../../../src/config/schema.js';
import { bindSecrets } from '../../../src/deploy/bind.js';
import { DEMO_SECRETS, renderDemoStack } from '../../../src/deploy/stack-demo.js';
import { envSecretName, renderOpenCrvsStack } from '../../../src/deploy/stack-opencrvs.js';
import { catalogue } from '../../../src/secrets/catalogue.js';
import { generate } from '../../../src/secrets/generate.js';
import { forgetSecrets, type Sensitive, sensitive } from '../../../src/secrets/sensitive.js';
import { renderRelease as render } from '../../../src/usecases/release.js';

interface Service {
  image: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  secrets?: (string | { source: string; mode?: number })[];
  ports?: { published: number; mode: string }[];
  deploy: {
    replicas?: number;
    mode?: string;
    placement?: { constraints: string[] };
    labels?: Record<string, string>;
    update_config?: { order: string; failure_action: string };
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
const STACK_ONLY_ELSEWHERE = new Set(['data-seeder', 'backup', 'alerts', 'deploy', 'ci']);
const secretNames = (s: Service) => (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));

/** A value for every secret of the catalogue, as `crvs secrets init` would generate or a user would give. */
function storeFor(spec: Spec, canary: string): Record<string, Sensitive<string>> {
  const values: Record<string, Sensitive<string>> = {};
  for (const d of catalogue(spec))
    values[d.name] = sensitive(d.generator ? generate(d.generator) : `${canary}-${d.name}`, d.name);
  // The canary rides in a generated one too, where it ends up inside derived env files.
  values.MONGODB_ADMIN_PASSWORD = sensitive(`${canary}mongo`, 'MONGODB_ADMIN_PASSWORD');
  return values;
}

afterEach(() => forgetSecrets());

describe('the opencrvs preset', () => {
  for (const example of EXAMPLES)
    it(`${example}: every secret the stack mounts is in the store's catalogue or derived from it, and consumers agree`, () => {
      const spec = load(example);
      const names = new Set(catalogue(spec).map((d) => d.name));
      for (const environment of appEnvironments(spec)) {
        const stack = renderOpenCrvsStack(spec, environment, 'v1.9.0', () => true);
        const doc = parse(stack.compose) as Compose;
        const derived = new Set(stack.derived.map((d) => d.key));
        for (const key of Object.keys(doc.secrets)) {
          expect(names.has(key) || derived.has(key), `${environment}: ${key}`).toBe(true);
          expect(doc.secrets[key]).toEqual({ external: true });
        }
        for (const d of stack.derived) for (const n of d.from) expect(names.has(n), d.key).toBe(true);
        // The catalogue says which services to redeploy after a rotation: exactly the ones that use the value.
        const services = new Set(Object.keys(doc.services));
        for (const def of catalogue(spec)) {
          const inStack = def.consumers.filter((c) => services.has(c)).sort();
          expect(stack.consumers[def.name] ?? [], `${environment}: ${def.name}`).toEqual(inStack);
          for (const c of def.consumers)
            expect(services.has(c) || STACK_ONLY_ELSEWHERE.has(c), `${def.name}: ${c}`).toBe(true);
        }
        for (const [secret, users] of Object.entries(stack.consumers))
          expect(names.has(secret), `${secret} used by ${users.join(',')}`).toBe(true);
      }
    });

  it('binds with a full store, puts no value in the stack file, and derives env files from the store', () => {
    const spec = load('national');
    const canary = `CANARY${generate({ kind: 'hex', bytes: 8 })}`;
    const values = storeFor(spec, canary);
    const r = render(spec, 'examples/national/crvs.yaml', 'production', 'v1.9.0', values);
    const bound = bindSecrets(r.compose, 'crvs', r.secrets);
    expect(bound.compose).not.toContain(canary);
    expect(bound.compose).not.toContain(values.REDIS_PASSWORD?.reveal());
    const gatewayEnv = bound.bound.find((b) => b.key === 'ENV_GATEWAY')?.value.reveal() ?? '';
    expect(gatewayEnv).toContain(`REDIS_PASSWORD='${values.REDIS_PASSWORD?.reveal()}'\n`);
    expect(gatewayEnv).toContain(`SENTRY_DSN='${canary}-SENTRY_DSN'\n`);
    const workflow = bound.bound.find((b) => b.key === 'ENV_WORKFLOW')?.value.reveal() ?? '';
    expect(workflow).toContain(
      `MONGO_URL='mongodb://admin:${canary}mongo@mongo1:27017/workflow?authSource=admin&replicaSet=rs0'\n`,
    );
    expect(bound.bound.find((b) => b.key === 'REDIS_CONF')?.value.reveal()).toBe(
      `requirepass ${values.REDIS_PASSWORD?.reveal()}\n`,
    );
    expect(bound.bound.find((b) => b.key === 'AUTH_PUBLIC_KEY')?.value.reveal()).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n/,
    );
    // Each Docker secret is named after its content: a rotation makes a new one, never edits a live one.
    for (const b of bound.bound)
      expect(b.name).toMatch(new RegExp(`^crvs_${b.key.toLowerCase()}_[0-9a-f]{10}$`));
    expect(String(r.secrets.ENV_GATEWAY)).toBe('[REDACTED]');
  });

  it('leaves an optional secret the store lacks out instead of failing the deploy', () => {
    const spec = load('national');
    const values = storeFor(spec, 'x');
    delete values.SENTRY_DSN;
    const r = render(spec, 'examples/national/crvs.yaml', 'production', 'v1.9.0', values);
    const env = bindSecrets(r.compose, 'crvs', r.secrets).bound.find((b) => b.key === 'ENV_GATEWAY');
    expect(env?.value.reveal()).not.toContain('SENTRY_DSN');
    // A required one missing is named.
    delete values.MINIO_ROOT_PASSWORD;
    const again = render(spec, 'examples/national/crvs.yaml', 'production', 'v1.9.0', values);
    expect(() => bindSecrets(again.compose, 'crvs', again.secrets)).toThrow(
      'the stack needs secrets that are not in the store: ENV_DOCUMENTS, MINIO_ROOT_PASSWORD',
    );
  });

  it('core services read credentials only from their env file; data stores sit on the data node', () => {
    const spec = load('national');
    const doc = parse(renderOpenCrvsStack(spec, 'production', 'v1.9.0').compose) as Compose;
    const servers = spec.environments.production?.servers.length;
    expect(doc.services.gateway?.image).toBe('ghcr.io/opencrvs/ocrvs-gateway:v1.9.0');
    expect(doc.services.countryconfig?.image).toBe('opencrvs/far-countryconfig:v1.9.0');
    expect(doc.services.gateway?.entrypoint).toEqual([
      '/bin/sh',
      '-c',
      'set -a && . /run/secrets/ENV_GATEWAY && set +a && exec yarn start:prod',
    ]);
    for (const [name, s] of Object.entries(doc.services)) {
      for (const v of Object.values(s.environment ?? {}))
        expect(v, name).not.toMatch(/\{\{|:\/\/[^/]*:[^/]*@/);
      if (s.entrypoint?.[2]?.includes('ENV_')) expect(secretNames(s)).toContain(envSecretName(name));
    }
    for (const store of ['mongo1', 'elasticsearch', 'influxdb', 'minio', 'postgres', 'redis', 'metabase']) {
      expect(doc.services[store]?.deploy.placement?.constraints, store).toEqual(['node.labels.data == true']);
      expect(doc.services[store]?.deploy.update_config?.order, store).toBe('stop-first');
    }
    for (const core of ['gateway', 'auth', 'workflow', 'client', 'login']) {
      expect(doc.services[core]?.deploy.replicas, core).toBe(servers);
      expect(doc.services[core]?.deploy.update_config).toMatchObject({
        order: 'start-first',
        failure_action: 'rollback',
      });
    }
    expect(doc.services.migration?.deploy).toMatchObject({
      replicas: 1,
      restart_policy: { condition: 'none' },
    });
    expect(doc.services.redis?.command).toEqual(['redis-server', '/run/secrets/REDIS_CONF']);
    expect(doc.services.mongo1?.secrets).toContainEqual({
      source: 'MONGO_KEYFILE',
      target: 'MONGO_KEYFILE',
      uid: '999',
      gid: '999',
      mode: 0o400,
    });
    const proxy = doc.services.traefik as Service;
    expect(proxy.ports?.map((p) => [p.published, p.mode])).toEqual([
      [80, 'host'],
      [443, 'host'],
    ]);
    expect(proxy.deploy.placement?.constraints).toEqual(['node.role == manager']);
  });

  it('routes the documented hostnames of the environment domain, with the TLS mode of the spec', () => {
    const hosts = (spec: Spec, environment: string) => {
      const doc = parse(renderOpenCrvsStack(spec, environment, 'v1.9.0').compose) as Compose;
      return Object.values(doc.services)
        .flatMap((s) => Object.entries(s.deploy.labels ?? {}))
        .filter(([k]) => k.endsWith('.rule'))
        .map(([, v]) => v)
        .sort();
    };
    const spec = load('national');
    expect(hosts(spec, 'qa')).toEqual(
      [
        'qa.farajaland.gov.example',
        ...[
          'auth',
          'config',
          'countryconfig',
          'documents',
          'gateway',
          'kibana',
          'login',
          'metabase',
          'minio',
          'register',
          'webhooks',
        ].map((h) => `${h}.qa.farajaland.gov.example`),
      ]
        .map((h) => `Host(\`${h}\`)`)
        .sort(),
    );
    const tlsArgs = (s: Spec) =>
      (parse(renderOpenCrvsStack(s, 'production', 'v1.9.0').compose) as Compose).services.traefik as Service;
    expect(tlsArgs(spec).command).toContain('--certificatesresolvers.le.acme.httpchallenge.entrypoint=web');
    expect(tlsArgs(spec).deploy.labels?.['traefik.http.routers.gateway.tls.certresolver']).toBeUndefined();
    const dns = load('national', (d) => {
      d.tls = {
        mode: 'dns-01',
        email: 'ops@gov.example',
        provider: 'cloudflare',
        credentialsSecret: 'DNS_CREDS',
      };
    });
    const dnsProxy = tlsArgs(dns);
    expect(dnsProxy.command).toContain('--certificatesresolvers.le.acme.dnschallenge.provider=cloudflare');
    expect(secretNames(dnsProxy)).toEqual(['DNS_CREDS']);
    expect(dnsProxy.entrypoint?.[2]).toBe(
      'set -a && . /run/secrets/DNS_CREDS && set +a && exec traefik "$@"',
    );
    const gw = parse(renderOpenCrvsStack(dns, 'production', 'v1.9.0').compose) as Compose;
    expect(gw.services.gateway?.deploy.labels?.['traefik.http.routers.gateway.tls.certresolver']).toBe('le');
    const stat = load('national', (d) => {
      d.tls = { mode: 'static', certificate: 'tls/fullchain.pem', keySecret: 'TLS_KEY' };
    });
    expect(secretNames(tlsArgs(stat))).toEqual(['TRAEFIK_TLS', 'TLS_CERTIFICATE', 'TLS_KEY']);
    const selfSigned = load('national', (d) => {
      d.tls = { mode: 'self-signed' };
    });
    expect(tlsArgs(selfSigned).command?.some((a) => a.includes('certificatesresolvers'))).toBe(false);
  });

  it('differs per environment: test codes and active seeded users only on qa and development', () => {
    const spec = load('national', (d) => {
      (d.environments as { qa: Record<string, unknown> }).qa.testTwoFactorCodes = true;
    });
    const env = (environment: string, service: string) =>
      (parse(renderOpenCrvsStack(spec, environment, 'v1.9.0').compose) as Compose).services[service]
        ?.environment ?? {};
    expect(env('qa', 'countryconfig')).toMatchObject({ QA_ENV: 'true', ACTIVATE_USERS: 'true' });
    expect(env('qa', 'auth')).toMatchObject({ TEST_2FA_CODES: 'true', DOMAIN: 'qa.farajaland.gov.example' });
    expect(env('production', 'countryconfig')).toMatchObject({ QA_ENV: 'false', ACTIVATE_USERS: 'false' });
    expect(env('production', 'auth')).toMatchObject({
      TEST_2FA_CODES: 'false',
      GATEWAY_URL: 'https://gateway.farajaland.gov.example',
    });
    expect(env('staging', 'countryconfig')).toMatchObject({ ACTIVATE_USERS: 'false' });
  });

  it('refuses a spec without the country configuration image', () => {
    const spec = load('national', (d) => {
      delete (d.stack as Record<string, unknown>).countryConfig;
    });
    expect(() => renderOpenCrvsStack(spec, 'production', 'v1.9.0')).toThrow(
      'the opencrvs preset needs stack.countryConfig (image and version)',
    );
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
