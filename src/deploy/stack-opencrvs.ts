// The opencrvs preset: the reference's own compose files (opencrvs-core's for the release, the country's
// docker-compose.deploy.yml and docker-compose.<environment>-deploy.yml) merged as `docker stack deploy -c ... -c`
// merges them, their variables resolved from the spec and the secrets store, then crvs's overlay (secrets,
// health, rollout, placement, ingress, files); see docs/deploy.md, "The OpenCRVS preset". Pure but for reading
// the country's mounted files.
import { parse, stringify } from 'yaml';
import type { ComposeInputs } from '../config/compose-inputs.js';
import { applicationEnvironment, environmentDomain, STACK } from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { CrvsError } from '../errors.js';
import { hasSecretMark, interpolate, wholeSecret } from './compose/interpolate.js';
import { type Doc, keyed, mergeCompose } from './compose/merge.js';
import {
  authPublicKey,
  type DerivedSecret,
  derivedPasswords,
  envFile,
  envSecretName,
  mongoKeyfile,
  redisAcl,
} from './opencrvs/derived.js';
import { countryFiles, REFERENCE_DIR, type UploadedFile } from './opencrvs/files.js';
import { ingress, NETWORK, routeLabels, staticTlsConfig } from './opencrvs/routes.js';
import {
  DATA_STORES,
  FILE_VARIABLES,
  healthTest,
  IMAGE_START,
  JOBS,
  KEY_READERS,
  NOT_DEPLOYED,
  SINGLETONS,
} from './opencrvs/services.js';
import { opencrvsVariables } from './opencrvs/variables.js';
import { releaseDir } from './swarm.js';
import { tlsFileSecrets } from './tls.js';

export { type DerivedSecret, envSecretName };

export interface OpenCrvsStack {
  compose: string;
  /** Secrets crvs computes from the store's values, in the order they can be computed. */
  derived: DerivedSecret[];
  /** Files uploaded beside the stack file, which its configs point at. */
  files: UploadedFile[];
}

type Service = Doc & {
  environment?: Record<string, string | null>;
  secrets?: (string | { source: string; target?: string })[];
  configs?: { source: string; target: string }[];
  volumes?: (string | Doc)[];
  entrypoint?: string | string[];
  command?: string | string[];
  deploy?: Doc & { labels?: unknown; placement?: { constraints?: string[] } };
};

const input = (message: string, hint: string) => new CrvsError('E_COMPOSE_INPUT', message, { hint });

/** The names the reference gives the secrets crvs supplies under its own names. */
const LITERALS = (domain: string) => ({
  '{{hostname}}': domain,
  'jwt-public-key.{{ts}}': 'AUTH_PUBLIC_KEY',
  'jwt-private-key.{{ts}}': 'AUTH_PRIVATE_KEY',
  'redis-acl.{{ts}}': 'REDIS_ACL',
  'node.labels.data1 == true': 'node.labels.data == true',
});

function parsed(inputs: ComposeInputs): Doc[] {
  return inputs.files.map(({ file, text }) => {
    try {
      const d = parse(text) as Doc | null;
      if (!d || typeof d.services !== 'object') throw new Error('it has no services');
      return d;
    } catch (e) {
      throw input(
        `${file} is not a compose file: ${(e as Error).message}`,
        'fix it, or restore it from version control',
      );
    }
  });
}

const words = (v: string | string[] | undefined): string[] | undefined => {
  if (v === undefined || Array.isArray(v)) return v;
  if (/["'\\]/.test(v))
    throw input(`cannot split the command "${v}" safely`, 'write it as a list in the compose file');
  return v.split(/\s+/).filter(Boolean);
};

/** A start that first sources the service's env file (a Swarm secret), then runs what the image would. */
const shim = (service: string) => [
  '/bin/sh',
  '-c',
  `set -a && . /run/secrets/${envSecretName(service)} && set +a && exec "$$@"`,
  'sh',
];

export function renderOpenCrvsStack(
  spec: Spec,
  environment: string,
  version: string,
  inputs: ComposeInputs,
  present: (name: string) => boolean = () => false,
): OpenCrvsStack {
  const env = applicationEnvironment(spec, environment);
  const domain = environmentDomain(spec.domain, environment);
  const merged = mergeCompose(parsed(inputs));
  const { value: doc, unknown } = interpolate(
    merged,
    opencrvsVariables(spec, environment, version, present),
    LITERALS(domain),
  );
  if (unknown.length)
    throw input(
      `the compose files use variables crvs cannot give a value: ${unknown.join(', ')}`,
      `they are new in ${inputs.files.map((f) => f.file).join(', ')}; give them a default (\${NAME:-value}) there, or ask for crvs to support them`,
    );
  const files = countryFiles(inputs.countryDir, STACK);
  const referenceConfigs = (doc.configs ?? {}) as Record<string, { file?: string }>;
  const derived: DerivedSecret[] = [...derivedPasswords(), mongoKeyfile, redisAcl, authPublicKey];
  const replicas = env.replicas ?? env.servers.length;
  const vip = env.ingressMode === 'dnsrr' ? { endpoint_mode: 'dnsrr' } : {};
  const services: Record<string, Service> = {};

  for (const [name, raw] of Object.entries(doc.services as Record<string, Service>)) {
    if (name in NOT_DEPLOYED || name === 'traefik') continue;
    const { build, depends_on, restart, logging, networks, healthcheck, ...s } = raw;
    const svc: Service = { ...s, environment: keyed(s.environment) as Record<string, string> };
    if (name === 'countryconfig') svc.image = countryConfigImage(spec);
    if (typeof svc.image !== 'string' || !svc.image)
      throw input(
        `service ${name} has no image in the merged compose files`,
        'give it an image in the country compose file',
      );
    const mounted = mountFiles(name, svc, referenceConfigs, files, releaseDir(environment));
    mountSecrets(name, svc, derived);
    svc.deploy = deployOf(spec, domain, name, svc, replicas, vip);
    // A bind-mounted upload exists on the manager only.
    if (mounted.onManager)
      svc.deploy = {
        ...svc.deploy,
        placement: { ...(svc.deploy.placement as Doc), constraints: ['node.role == manager'] },
      };
    const test = JOBS.has(name) ? undefined : healthTest(name);
    if (test) svc.healthcheck = { test, interval: '10s', timeout: '5s', retries: 6, start_period: '60s' };
    services[name] = svc;
  }
  services.traefik = ingress(spec) as Service;
  derived.push(...tlsFileSecrets(spec));
  if (spec.tls.mode === 'static') {
    const tls = spec.tls;
    derived.push({ key: 'TRAEFIK_TLS', from: [], derive: () => stringify(staticTlsConfig(tls.keySecret)) });
  }
  const secretKeys = new Set<string>();
  for (const svc of Object.values(services))
    for (const s of svc.secrets ?? []) secretKeys.add(typeof s === 'string' ? s : s.source);
  const out = {
    services,
    networks: { default: { name: NETWORK, driver: 'overlay', attachable: true } },
    ...(spec.tls.mode === 'http-01' || spec.tls.mode === 'dns-01' ? { volumes: { 'traefik-acme': {} } } : {}),
    secrets: Object.fromEntries([...secretKeys].sort().map((k) => [k, { external: true }])),
    configs: Object.fromEntries(Object.entries(files.configs).sort(([a], [b]) => a.localeCompare(b))),
  };
  const compose = stringify(out, { lineWidth: 0 });
  // A value still marked as secret would reach `docker service inspect`: never render that.
  if (hasSecretMark(compose))
    throw new CrvsError('E_PRESET', 'a secret value would be rendered into the stack file');
  return {
    compose: `# Rendered by crvs from: ${inputs.files.map((f) => f.file.split('/').slice(-1)[0]).join(', ')}\n# Not deployed: ${Object.keys(NOT_DEPLOYED).join(', ')}\n${compose}`,
    derived,
    files: files.uploads,
  };
}

/**
 * Reference configs and bind mounts from /opt/opencrvs/infrastructure become uploaded Swarm configs; a file too
 * large for one is bind-mounted read-only from its uploaded copy in the release folder, on the manager.
 */
function mountFiles(
  name: string,
  svc: Service,
  referenceConfigs: Record<string, { file?: string }>,
  files: ReturnType<typeof countryFiles>,
  releaseFolder: string,
): { onManager: boolean } {
  let onManager = false;
  const configs: { source: string; target: string }[] = [];
  for (const c of svc.configs ?? []) {
    const file = referenceConfigs[c.source]?.file;
    if (!file?.startsWith(REFERENCE_DIR))
      throw input(
        `config ${c.source} of ${name} is not a file of the infrastructure folder`,
        'define it with file: /opt/opencrvs/infrastructure/...',
      );
    configs.push({ source: files.config(file, c.source.replace('.{{ts}}', '')), target: c.target });
  }
  const volumes: (string | Doc)[] = [];
  const secrets = [...(svc.secrets ?? [])];
  for (const v of svc.volumes ?? []) {
    const [from, target] = typeof v === 'string' ? v.split(':') : [String(v.source), String(v.target)];
    if (from === '/mongodb-keyfile') {
      // The reference's host file becomes a derived secret; the image's entrypoint copies it as the reference does.
      secrets.push({ source: 'MONGO_KEYFILE', target: target as string });
    } else if (from?.startsWith(REFERENCE_DIR)) {
      for (const rel of files.filesUnder(from)) {
        const path = rel ? `${from}/${rel}` : from;
        if (files.tooLarge(path)) {
          volumes.push({
            type: 'bind',
            source: `${releaseFolder}/${files.upload(path)}`,
            target: rel ? `${target}/${rel}` : (target as string),
            read_only: true,
          });
          onManager = true;
          continue;
        }
        const key = `${name}-${(rel || from.split('/').slice(-1)[0] || '').replace(/[^A-Za-z0-9]+/g, '-')}`;
        configs.push({
          source: files.config(path, key),
          target: rel ? `${target}/${rel}` : (target as string),
        });
      }
    } else volumes.push(v);
  }
  if (configs.length) svc.configs = configs;
  else delete svc.configs;
  if (volumes.length) svc.volumes = volumes;
  else delete svc.volumes;
  if (secrets.length) svc.secrets = secrets;
  return { onManager };
}

/** Secret values leave the environment: `*_FILE` where the image reads one, else the service's env file. */
function mountSecrets(name: string, svc: Service, derived: DerivedSecret[]): void {
  const vars = svc.environment as Record<string, string>;
  const secrets = new Set((svc.secrets ?? []).map((s) => (typeof s === 'string' ? s : JSON.stringify(s))));
  if (KEY_READERS.includes(name)) {
    secrets.add('AUTH_PUBLIC_KEY');
    vars.CERT_PUBLIC_KEY_PATH = '/run/secrets/AUTH_PUBLIC_KEY';
  }
  if (name === 'migration' && vars.WAIT_HOSTS && !vars.WAIT_HOSTS.includes('postgres:'))
    vars.WAIT_HOSTS = `${vars.WAIT_HOSTS},postgres:5432`; // the events migrations need Postgres too
  const secretVars = Object.keys(vars).filter((k) => hasSecretMark(String(vars[k])));
  const fileVars = FILE_VARIABLES[name] ?? [];
  const inFile: Record<string, string> = {};
  for (const k of secretVars) {
    const whole = wholeSecret(String(vars[k]));
    if (whole && fileVars.includes(k)) {
      secrets.add(whole);
      vars[`${k}_FILE`] = `/run/secrets/${whole}`;
    } else inFile[k] = String(vars[k]);
    delete vars[k];
  }
  if (Object.keys(inFile).length) {
    const start = words(svc.entrypoint)
      ? [...(words(svc.entrypoint) ?? []), ...(words(svc.command) ?? [])]
      : (words(svc.command) ?? IMAGE_START[name]);
    if (!start)
      throw new CrvsError(
        'E_PRESET',
        `crvs does not know how the image of ${name} starts, so it cannot give it its secrets`,
        {
          hint: `set its entrypoint or command in the country compose file`,
        },
      );
    derived.push(envFile(name, inFile));
    secrets.add(envSecretName(name));
    svc.entrypoint = shim(name);
    svc.command = start;
  }
  if (!Object.keys(vars).length) delete svc.environment;
  if (secrets.size)
    svc.secrets = [...secrets]
      .sort()
      .map((s) => (s.startsWith('{') ? (JSON.parse(s) as { source: string }) : s));
}

function deployOf(spec: Spec, domain: string, name: string, svc: Service, replicas: number, vip: Doc): Doc {
  const d = svc.deploy ?? {};
  const labels = routeLabels(spec, domain, name, keyed(d.labels));
  const constraints = (d.placement?.constraints ?? []).filter((c) => c !== 'node.labels.data == true');
  if (DATA_STORES.has(name) || (d.placement?.constraints ?? []).includes('node.labels.data == true'))
    constraints.push('node.labels.data == true');
  const placement = constraints.length ? { placement: { ...d.placement, constraints } } : {};
  const {
    labels: _l,
    placement: _p,
    replicas: _r,
    restart_policy: _rp,
    update_config: _u,
    rollback_config: _rb,
    mode: _m,
    ...rest
  } = d;
  if (JOBS.has(name))
    return {
      ...rest,
      mode: 'replicated-job',
      replicas: 1,
      ...placement,
      labels,
      restart_policy: { condition: 'on-failure', delay: '10s', max_attempts: 5 },
    };
  const single = SINGLETONS.has(name);
  return {
    ...rest,
    ...vip,
    replicas: single ? 1 : replicas,
    ...placement,
    labels,
    restart_policy: { condition: 'any', delay: '5s' },
    // A store's one volume: the old task stops before the new one starts. Stateless services overlap.
    update_config: {
      parallelism: 1,
      delay: '10s',
      order: single ? 'stop-first' : 'start-first',
      failure_action: 'rollback',
      monitor: '30s',
    },
    rollback_config: {
      parallelism: 1,
      order: single ? 'stop-first' : 'start-first',
      failure_action: 'pause',
      monitor: '20s',
    },
  };
}

function countryConfigImage(spec: Spec): string {
  const cc = spec.stack.countryConfig;
  if (!cc)
    throw new CrvsError('E_PRESET', 'the opencrvs preset needs stack.countryConfig (image and version)', {
      hint: 'add stack.countryConfig: { image: <registry account>/<repository>, version: <tag> } to crvs.yaml',
    });
  const host = spec.registry.host;
  return host === 'docker.io' ? `${cc.image}:${cc.version}` : `${host}/${cc.image}:${cc.version}`;
}
