// What crvs knows about the services of the reference stack that its compose files do not say: how each image
// starts (needed when crvs wraps the start to read secrets from a file), which health check its image can run,
// and its role (scaled with the cluster, exactly one, a one-shot job). Facts from opencrvs-core v1.9.0's
// Dockerfiles (test/fixtures/opencrvs/v1.9.0) and opencrvs/hearth's Dockerfile; a unit test checks the core ones
// against the fixtures.

/** Reference services crvs does not deploy, and why. */
export const NOT_DEPLOYED: Record<string, string> = {
  base: 'a build stage (replicas 0 in core)',
  'data-seeder': 'runs once, through crvs seed, not as a service',
  filebeat: 'monitoring: crvs alerts on its own; the Elastic monitoring stack is not deployed yet',
  metricbeat: 'monitoring, see filebeat',
  kibana: 'monitoring, see filebeat',
  'setup-kibana-config': 'monitoring, see filebeat (and it puts a password on its command line)',
  elastalert: 'monitoring, see filebeat',
  logstash: 'monitoring, see filebeat',
  'apm-server': 'monitoring, see filebeat (and it puts passwords on its command line)',
  'minio-mc': 'an audit trace of the bucket with the root keys in a plain file',
};

/** The image's own start (its Dockerfile CMD), for services whose start crvs wraps. */
export const IMAGE_START: Record<string, string[]> = {
  auth: ['yarn', 'start:prod'],
  config: ['yarn', 'start'],
  documents: ['yarn', 'start:prod'],
  events: ['yarn', 'start:prod'],
  gateway: ['yarn', 'start:prod'],
  metrics: ['yarn', 'start:prod'],
  notification: ['yarn', 'start:prod'],
  search: ['yarn', 'start:prod'],
  'user-mgnt': ['yarn', 'start:prod'],
  webhooks: ['yarn', 'start:prod'],
  workflow: ['yarn', 'start:prod'],
  scheduler: ['./start.sh'],
  migration: ['/bin/sh', '-c', '/app/wait && yarn start:prod'],
  countryconfig: ['./start-prod.sh'],
  // opencrvs/hearth's Dockerfile: WORKDIR /src/hearth, CMD ["yarn", "start"].
  hearth: ['yarn', 'start'],
};

/** Ports the Node services listen on (their envalid defaults, or hard-coded for events). */
const NODE_PING: Record<string, number> = {
  auth: 4040,
  config: 2021,
  documents: 9050,
  events: 5555,
  gateway: 7070,
  metrics: 1050,
  notification: 2020,
  search: 9090,
  'user-mgnt': 3030,
  webhooks: 2525,
  workflow: 5050,
};

/** node:22-slim has neither wget nor curl: Node's own fetch asks /ping. */
const nodePing = (port: number) => [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:${port}/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
];
/** A service with no known health route: the port accepts connections. */
const nodeListening = (port: number) => [
  'CMD',
  'node',
  '-e',
  `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`,
];

export function healthTest(service: string): string[] | undefined {
  const port = NODE_PING[service];
  if (port) return nodePing(port);
  // nginx-unprivileged on Alpine: busybox wget.
  if (service === 'client') return ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:3000/'];
  if (service === 'login') return ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:3020/'];
  if (service === 'countryconfig') return nodeListening(3040);
  if (service === 'hearth') return nodeListening(3447);
  // ping needs no authentication; the mongo 4.4 image has the legacy shell.
  if (service === 'mongo1') return ['CMD', 'mongo', '--quiet', '--eval', 'db.adminCommand("ping").ok'];
  if (service === 'postgres') return ['CMD', 'pg_isready', '-U', 'postgres'];
  return undefined;
}

/** Run once per deploy; deploy waits for each to complete. */
export const JOBS = new Set([
  'migration',
  'mongo-on-update',
  'postgres-on-update',
  'setup-elasticsearch-users',
]);

/** Hold state or must not run twice: exactly one task, on the data node for the stores. */
export const DATA_STORES = new Set(['mongo1', 'elasticsearch', 'influxdb', 'minio', 'postgres', 'redis']);
export const SINGLETONS = new Set([...DATA_STORES, 'scheduler', 'hearth', 'dashboards']);

/** Services that verify the JWTs auth signs (reading the public key at start), and those the reference mounts it on. */
export const KEY_READERS = [
  'auth',
  'config',
  'countryconfig',
  'documents',
  'events',
  'gateway',
  'metrics',
  'notification',
  'search',
  'user-mgnt',
  'webhooks',
  'workflow',
];

/** Third-party images that read a variable's value from a file named by `<NAME>_FILE`. */
export const FILE_VARIABLES: Record<string, string[]> = {
  mongo1: ['MONGO_INITDB_ROOT_PASSWORD'],
  postgres: ['POSTGRES_PASSWORD'],
  elasticsearch: ['ELASTIC_PASSWORD'],
  minio: ['MINIO_ROOT_PASSWORD'],
};
