// What each stack preset backs up, as data. The backup runner on the data node reads these (through the plan,
// plan.ts) and does the same thing for every preset: run the `prepare` steps, start each stream's producer into
// its FIFO, hand borg the FIFOs, the trees and the manifest, in that order. Pure.
//
// Commands run inside the store's own container (`docker exec`), found by its Swarm service name: the
// `{container:<service>}` token is replaced by the running container's id on the data node. Passwords stay in
// the container's Swarm secret files and reach the tools through their config-file or stdin options, never
// through an argument.
import { dataPath } from '../config/data-layout.js';
import { STACK } from '../config/environment.js';

/** A dump that streams out of a command into a FIFO, uncompressed. */
export interface StreamSource {
  kind: 'stream';
  name: string;
  /** File name of the FIFO, and of the file in the archive (under RUN_DIR). */
  file: string;
  argv: string[];
  /** How the runner counts records as the stream passes: plain-SQL COPY rows per table, or not at all. */
  count: 'pg-copy' | 'none';
}

/** A directory taken as it is. Attachment trees are listed file by file, and the list goes into the manifest. */
export interface TreeSource {
  kind: 'tree';
  name: string;
  path: string;
  attachments: boolean;
  /** File name patterns left out (fnmatch), e.g. half-written uploads. */
  exclude: string[];
  /** A missing directory is skipped rather than an error (a store the preset may not have yet). */
  optional: boolean;
}

export type Source = StreamSource | TreeSource;

export interface SourceSet {
  /** Commands run before the streams start (a snapshot a stream then reads); each must exit 0 unless mayFail. */
  prepare: Step[];
  sources: Source[];
  /** Commands run after borg finished, successful or not (temporary snapshot files). */
  cleanup: Step[];
  /**
   * Prints the image of a store's running container; its tag is the release version when the data node has no
   * release record of crvs deploy (only the manager has one).
   */
  release?: string[];
}

export interface Step {
  argv: string[];
  mayFail?: boolean;
}

export const container = (service: string) => `{container:${STACK}_${service}}`;
export const exec = (service: string, user: string | undefined, argv: string[]) => [
  'docker',
  'exec',
  ...(user ? ['--user', user] : []),
  container(service),
  ...argv,
];

/** The demo: Postgres as a plain dump (rows counted from its COPY blocks) plus the documents volume. */
export function demoSources(): SourceSet {
  return {
    prepare: [],
    sources: [
      {
        kind: 'stream',
        name: 'postgres',
        file: 'postgres-crvs.sql',
        // Peer authentication over the container's socket: no password at all.
        argv: exec('db', 'postgres', [
          'pg_dump',
          '--dbname=crvs',
          '--format=plain',
          '--no-owner',
          '--no-privileges',
        ]),
        count: 'pg-copy',
      },
      {
        kind: 'tree',
        name: 'documents',
        path: dataPath('documents'),
        attachments: true,
        exclude: ['*.tmp'],
        optional: false,
      },
    ],
    cleanup: [],
    release: ['docker', 'inspect', '--format', '{{.Config.Image}}', container('db')],
  };
}

/** MongoDB databases of OpenCRVS v1.9 (the reference backs up the first seven; notification and openhim-dev too). */
export const MONGO_DATABASES = [
  'hearth-dev',
  'events',
  'user-mgnt',
  'application-config',
  'metrics',
  'webhooks',
  'performance',
  'notification',
  'openhim-dev',
];

export const ES_SNAPSHOTS = dataPath('backups/elasticsearch');
/** Where a restore unpacks a snapshot: inside path.repo (ES registers no repository elsewhere), left out of backups. */
export const ES_RESTORE_DIR = 'crvs-restore';
const INFLUX_TMP = '/tmp/crvs-influxdb-backup';

/** Feed a tool its credentials on stdin from a secret file, inside the container (printf is a shell builtin). */
export const withSecret = (format: string, secret: string, tool: string) =>
  `printf '${format}' "$(cat /run/secrets/${secret})" | ${tool}`;

export const esCurl = (method: string, path: string, body?: string) =>
  exec('elasticsearch', undefined, [
    'sh',
    '-c',
    withSecret(
      'user = "elastic:%s"\\n',
      'ELASTICSEARCH_SUPERUSER_PASSWORD',
      `curl --silent --show-error --fail --config - -X ${method} -H 'Content-Type: application/json'` +
        `${body ? ` --data '${body}'` : ''} 'http://127.0.0.1:9200${path}'`,
    ),
  ]);

/**
 * OpenCRVS: every store the reference's backup.sh covers, as streams where the tool can stream, and the MinIO
 * and Metabase volumes as trees. The Elasticsearch snapshot and the InfluxDB portable backup are written inside
 * their containers first (prepare) and streamed out as uncompressed tar.
 */
export function openCrvsSources(): SourceSet {
  const mongo = MONGO_DATABASES.map(
    (db): StreamSource => ({
      kind: 'stream',
      name: `mongo-${db}`,
      file: `mongo-${db}.archive`,
      argv: exec('mongo1', undefined, [
        'sh',
        '-c',
        withSecret(
          'password: %s\\n',
          'MONGODB_ADMIN_PASSWORD',
          `mongodump --config=/dev/stdin --username=admin --authenticationDatabase=admin --db=${db} --archive --quiet`,
        ),
      ]),
      count: 'none',
    }),
  );
  return {
    prepare: [
      {
        argv: esCurl(
          'PUT',
          '/_snapshot/crvs',
          `{"type":"fs","settings":{"location":"${ES_SNAPSHOTS}","compress":false}}`,
        ),
      },
      // One snapshot, replaced each time (absent the first time): borg keeps the history, deduplicated.
      { argv: esCurl('DELETE', '/_snapshot/crvs/latest'), mayFail: true },
      {
        argv: esCurl(
          'PUT',
          '/_snapshot/crvs/latest?wait_for_completion=true',
          '{"indices":"ocrvs-*,events_*","include_global_state":false}',
        ),
      },
      { argv: exec('influxdb', undefined, ['rm', '-rf', INFLUX_TMP]) },
      {
        argv: exec('influxdb', undefined, [
          'influxd',
          'backup',
          '-portable',
          '-host',
          '127.0.0.1:8088',
          INFLUX_TMP,
        ]),
      },
    ],
    sources: [
      ...mongo,
      {
        kind: 'stream',
        name: 'postgres',
        file: 'postgres-events.sql',
        // With owners and privileges: the events database's schema belongs to events_migrator and events_app
        // works through grants; a restore as the superuser gives both back (the roles exist on every
        // environment the stack was deployed to).
        argv: exec('postgres', 'postgres', ['pg_dump', '--dbname=events', '--format=plain']),
        count: 'pg-copy',
      },
      {
        kind: 'stream',
        name: 'elasticsearch',
        file: 'elasticsearch-snapshot.tar',
        argv: exec('elasticsearch', undefined, [
          'tar',
          '--create',
          `--exclude=./${ES_RESTORE_DIR}`,
          '--directory',
          ES_SNAPSHOTS,
          '.',
        ]),
        count: 'none',
      },
      {
        kind: 'stream',
        name: 'influxdb',
        file: 'influxdb-portable.tar',
        argv: exec('influxdb', undefined, ['tar', '--create', '--directory', INFLUX_TMP, '.']),
        count: 'none',
      },
      {
        kind: 'tree',
        name: 'minio',
        path: dataPath('minio'),
        attachments: true,
        exclude: [],
        optional: false,
      },
      {
        kind: 'tree',
        name: 'metabase',
        path: dataPath('metabase'),
        attachments: false,
        exclude: [],
        optional: true,
      },
    ],
    cleanup: [{ argv: exec('influxdb', undefined, ['rm', '-rf', INFLUX_TMP]), mayFail: true }],
  };
}
