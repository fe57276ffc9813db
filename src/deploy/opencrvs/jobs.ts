// One-shot Swarm jobs on the stack's network for the opencrvs preset's data operations, as the reference does
// them (seed-data.yml, clear-all-data.sh, run-migrations.sh, reindex.sh), but inside the cluster: no public
// address, and passwords only in Swarm secret files that the job reads itself (never on a command line, never in
// the service definition). Pure builders; each command is asserted whole in a unit test.
import type { CommandSpec } from '../../remote/executor.js';
import { onHost, type RemoteHost } from '../../remote/host.js';
import { and, discardOutput, sudo } from '../../remote/shell.js';
import { serviceCreateJob } from '../seed.js';
import { releaseDir } from '../swarm.js';
import { NETWORK } from './routes.js';

export interface Job {
  name: string;
  image: string;
  /** Swarm secret name -> file name under /run/secrets. */
  secrets: { name: string; target: string }[];
  env: Record<string, string>;
  entrypoint: string;
  args: string[];
}

export function createJob(m: RemoteHost, job: Job): CommandSpec {
  return onHost(m, sudo(...serviceCreateJob({ ...job, network: NETWORK })), {
    description: `start job ${job.name}`,
  });
}

/** The reference's data-seeder, against the services' internal addresses; it reads the super user's password. */
export function seedJob(name: string, version: string, activateUsers: boolean, passwordSecret: string): Job {
  return {
    name,
    image: `ghcr.io/opencrvs/ocrvs-data-seeder:${version}`,
    secrets: [{ name: passwordSecret, target: 'SUPER_USER_PASSWORD' }],
    env: {
      AUTH_HOST: 'http://auth:4040',
      COUNTRY_CONFIG_HOST: 'http://countryconfig:3040',
      GATEWAY_HOST: 'http://gateway:7070',
      ACTIVATE_USERS: String(activateUsers),
    },
    entrypoint: '/bin/sh',
    // envalid reads the password from the environment: the shell puts it there from the secret file.
    args: ['-c', 'export SUPER_USER_PASSWORD="$(cat /run/secrets/SUPER_USER_PASSWORD)" && exec yarn seed'],
  };
}

/** MongoDB databases clear-all-data.sh drops (it leaves webhooks and notification). */
export const CLEARED_DATABASES = [
  'hearth-dev',
  'events',
  'openhim-dev',
  'user-mgnt',
  'application-config',
  'metrics',
  'performance',
];

/** A job that reads one store secret, mounted as /run/secrets/<target>. */
const withSecret = (
  name: string,
  image: string,
  secret: string,
  target: string,
  entrypoint: string,
  args: string[],
): Job => ({
  name,
  image,
  secrets: [{ name: secret, target }],
  env: {},
  entrypoint,
  args,
});

export function clearMongoJob(name: string, image: string, passwordSecret: string): Job {
  const drops = CLEARED_DATABASES.map((d) => `'${d}'`).join(', ');
  return withSecret(name, image, passwordSecret, 'MONGODB_ADMIN_PASSWORD', 'mongo', [
    '--host',
    'rs0/mongo1:27017',
    '--quiet',
    '--eval',
    // The legacy shell reads the password file itself (cat), so it is not on mongo's command line.
    `db.getSiblingDB('admin').auth('admin', cat('/run/secrets/MONGODB_ADMIN_PASSWORD').trim()); [${drops}].forEach(function (d) { printjson(db.getSiblingDB(d).dropDatabase()); });`,
  ]);
}

/** Every Elasticsearch index, and InfluxDB's series (the ocrvs database stays), as clear-all-data.sh does. */
export function clearSearchJob(name: string, image: string, passwordSecret: string): Job {
  const auth = `printf 'user = "elastic:%s"\\n' "$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)"`;
  return withSecret(name, image, passwordSecret, 'ELASTICSEARCH_SUPERUSER_PASSWORD', '/bin/bash', [
    '-c',
    // curl takes the credentials from its config on stdin (-K -), not from its arguments.
    `set -euo pipefail; for i in $(${auth} | curl -sSf -K - 'http://elasticsearch:9200/_cat/indices?h=index'); do ${auth} | curl -sSf -K - -X DELETE "http://elasticsearch:9200/$i"; echo; done; curl -sSf -X POST 'http://influxdb:8086/query?db=ocrvs' --data-urlencode 'q=DROP SERIES FROM /.*/'`,
  ]);
}

export function clearBucketJob(name: string, image: string, passwordSecret: string): Job {
  return withSecret(name, image, passwordSecret, 'MINIO_ROOT_PASSWORD', '/bin/sh', [
    '-c',
    // mc reads the alias with its keys from the environment (MC_HOST_<alias>).
    'set -e; export MC_HOST_ocrvs="http://minioadmin:$(cat /run/secrets/MINIO_ROOT_PASSWORD)@minio:9000"; mc rm --recursive --force ocrvs/ocrvs; mc rb --force ocrvs/ocrvs; mc mb ocrvs/ocrvs',
  ]);
}

export function clearPostgresJob(name: string, image: string, passwordSecret: string): Job {
  const sql = [
    'DROP DATABASE IF EXISTS "events" WITH (FORCE)',
    'DROP DATABASE IF EXISTS "analytics" WITH (FORCE)',
    'DROP ROLE IF EXISTS "events_migrator"',
    'DROP ROLE IF EXISTS "events_app"',
    'DROP ROLE IF EXISTS "events_analytics"',
  ];
  return withSecret(name, image, passwordSecret, 'POSTGRES_PASSWORD', '/bin/sh', [
    '-c',
    `export PGPASSWORD="$(cat /run/secrets/POSTGRES_PASSWORD)" && exec psql -h postgres -U postgres -d postgres -v ON_ERROR_STOP=1 ${sql.map((s) => `-c '${s}'`).join(' ')}`,
  ]);
}

/** reindex.sh, in Node (the auth image has it): a token from auth, then events' reindex through the gateway. */
export function reindexJob(name: string, version: string): Job {
  const script = [
    'const wait = (ms) => new Promise((r) => setTimeout(r, ms));',
    '(async () => {',
    '  for (let i = 0; i < 31; i++) {',
    '    try {',
    "      const { token } = await (await fetch('http://auth:4040/internal/reindexing-token')).json();",
    "      const r = await fetch('http://gateway:7070/events/events/reindex', { method: 'POST', headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' } });",
    "      if (r.ok) return console.log('REINDEXED');",
    "      console.log('reindex answered ' + r.status);",
    '    } catch (e) {',
    '      console.log(String(e));',
    '    }',
    '    await wait(5000);',
    '  }',
    '  process.exit(1);',
    '})();',
  ].join('\n');
  return {
    name,
    image: `ghcr.io/opencrvs/ocrvs-auth:${version}`,
    secrets: [],
    env: {},
    entrypoint: 'node',
    args: ['-e', script],
  };
}

/** Runs a job of the stack again (Swarm re-runs a job whose service is updated) and reports nothing. */
export const rerunJob = (m: RemoteHost, service: string): CommandSpec =>
  onHost(m, sudo('docker', 'service', 'update', '--detach', '--quiet', '--force', service), {
    description: `run ${service} again`,
  });

/** Which run of a job the service is at: it grows when Swarm starts the job again. */
export const jobIteration = (m: RemoteHost, service: string): CommandSpec =>
  onHost(m, sudo('docker', 'service', 'inspect', '--format', '{{.JobStatus.JobIteration.Index}}', service), {
    description: `read the run of ${service}`,
  });

/** "0/1 (1/1 completed)" for a job: see converge.ts settled(). */
export const jobReplicas = (m: RemoteHost, service: string): CommandSpec =>
  onHost(
    m,
    sudo('docker', 'service', 'ls', '--filter', `name=${service}`, '--format', '{{.Name}} {{.Replicas}}'),
    {
      description: `watch ${service}`,
    },
  );

const seededFile = (environment: string) => `${releaseDir(environment)}/seeded.json`;

/** The data-seeder deactivates the super user it logs in with, so it runs once: crvs records that it did. */
export const readSeeded = (m: RemoteHost): CommandSpec =>
  onHost(m, sudo('cat', seededFile(m.environment)), {
    allowFailure: true,
    description: 'read the seed record',
  });

export const writeSeeded = (m: RemoteHost, record: { at: string; version: string }): CommandSpec =>
  onHost(
    m,
    and(
      sudo('mkdir', '-p', releaseDir(m.environment)),
      discardOutput(sudo('tee', seededFile(m.environment))),
    ),
    {
      stdin: `${JSON.stringify(record)}\n`,
      description: 'record the seed',
    },
  );

export const forgetSeeded = (m: RemoteHost): CommandSpec =>
  onHost(m, sudo('rm', '-f', seededFile(m.environment)), { description: 'forget the seed record' });
