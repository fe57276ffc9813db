// The daily restore drill on staging, as data: what crvs-restore (ansible/roles/crvs_backup_restore) runs, in
// order, and the gates between. Verify first (newest archive, its age, `borg check` of its metadata, its
// manifest, a trial restore of every stream into scratch stores, rows counted where the backup counted them,
// the file trees extracted beside the live ones), and only on an `ok` verdict stop the app, swap the scratch
// stores and the trees in, start the app and, where the preset's app can say, compare its counts with the
// manifest. The runner does the same for every preset; the presets differ only in these commands. Pure.
import { DATA_ROOT, dataPath } from '../config/data-layout.js';
import { STACK } from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { borgCheck, borgExtractToStdout, borgList, SIDE_BY_SIDE_LOCK_WAIT_SECONDS } from './borg.js';
import { DRILL_LOG } from './drill-report.js';
import { MANIFEST_FILE } from './manifest.js';
import { archiveGlob } from './naming.js';
import { ARCHIVE_TOKEN, containerLookup, RUN_DIR } from './plan.js';
import { container, ES_RESTORE_DIR, ES_SNAPSHOTS, esCurl, exec, MONGO_DATABASES } from './sources.js';

export const SCRATCH_DB = 'crvs_restore_check';
/** The services that read the restored data: stopped while it is swapped in. */
export const APP_SERVICES = [`${STACK}_app`, `${STACK}_documents`];
/** Manifest record key -> key of the app's /stats answer. */
export const APP_COUNTS: Record<string, string> = {
  'public.records': 'records',
  'public.offices': 'offices',
  'public.locations': 'locations',
  'public.users': 'users',
};
/** What the app answers about its data, asked on a node of the environment (the ingress publishes port 80). */
export const APP_STATS = [
  'curl',
  '--silent',
  '--show-error',
  '--fail',
  '--max-time',
  '5',
  'http://127.0.0.1/stats',
];
export const PREVIOUS_DB = 'crvs_before_restore';

/** The replicas a service is set to run (on a Swarm manager). */
export const replicasArgv = (service: string) => [
  'docker',
  'service',
  'inspect',
  '--format',
  '{{.Spec.Mode.Replicated.Replicas}}',
  service,
];
/**
 * Scaling that returns at once: `--detach=false` would also sit out the service's update monitor (15 s in the
 * demo stack) after its tasks converged, twice per service in a drill; the drill polls the tasks itself
 * (tasksArgv) until they have.
 */
export const scaleDetachedArgv = (service: string, replicas: number | string) => [
  'docker',
  'service',
  'scale',
  '--detach',
  `${service}=${replicas}`,
];
/** The current state of each task of a service, one per line: `Running 5 seconds ago`, `Starting ...`. */
export const tasksArgv = (service: string) => [
  'docker',
  'service',
  'ps',
  '--format',
  '{{.CurrentState}}',
  service,
];

/** Task states of a service still on its way (`docker service ps`): neither up nor gone yet. */
export const TASKS_ON_THE_WAY = new Set([
  'New',
  'Allocated',
  'Pending',
  'Assigned',
  'Accepted',
  'Preparing',
  'Ready',
  'Starting',
]);

/**
 * Whether a service's tasks (tasksArgv's output) have converged on `replicas`: exactly that many running and
 * none on the way. Tasks still stopping count as running, so scaling to 0 converges when they are gone.
 */
export function tasksConverged(stdout: string, replicas: number): boolean {
  const states = stdout
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter(Boolean);
  return (
    states.filter((s) => s === 'Running').length === replicas && !states.some((s) => TASKS_ON_THE_WAY.has(s))
  );
}

/** psql in a store's container; several statements run in order, the first failure stopping the rest. */
const psqlIn =
  (service: string) =>
  (db: string, sql: string | string[], extra: string[] = []) => [
    'docker',
    'exec',
    '--user',
    'postgres',
    container(service),
    'psql',
    '--no-psqlrc',
    '--set=ON_ERROR_STOP=1',
    '--quiet',
    ...extra,
    `--dbname=${db}`,
    ...(Array.isArray(sql) ? sql : [sql]).map((c) => `--command=${c}`),
  ];

/** Exact row counts of every table, one `schema.table|count` line each (names as pg_dump writes them). */
export const COUNT_ROWS_SQL =
  "SELECT table_schema || '.' || table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text " +
  "FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";

/** A command whose output, when `expect` is set, must match it (a JSON answer that reports its own failures). */
export interface Step {
  argv: string[];
  expect?: string;
  /** A failure is no failure (removing what may not be there). */
  mayFail?: boolean;
}

/** A store restored from a stream of the archive: into a scratch store first, swapped in with the app stopped. */
export interface StreamRestore {
  /** The manifest's store name. */
  store: string;
  /** borg extract --stdout of the stream. */
  extract: string[];
  /** Rows counted as the stream passes (plain SQL COPY blocks), or not at all. */
  count: 'pg-copy' | 'none';
  /** Before the load: the scratch store emptied and made ready. */
  prepare: Step[];
  /** Reads the stream on its stdin. */
  load: string[];
  /** After the load: what proves the store takes it (a trial restore from what the load unpacked). */
  trial: Step[];
  /** Prints `table|count` lines of the scratch store, compared with the manifest; empty when not counted. */
  counts: string[];
  /** With the app still up: what the previous drill kept aside. */
  dropPrevious: Step[];
  /** With the app stopped, in order: the live store kept aside where the store allows, the scratch one in. */
  swap: Step[];
  /** At the end, whatever the verdict (each may fail): what the load unpacked, scratch stores left over. */
  cleanup: Step[];
}

/** A directory of the archive (a volume), extracted beside the live one and renamed into place. */
export interface TreeRestore {
  /** The backup's source name: prefix of the attachment list, or the manifest's store of a plain tree. */
  store: string;
  /** Counted and digested against the manifest's attachments; a plain tree against its store's file count. */
  attachments: boolean;
  extract: string[];
  into: string;
  live: string;
}

export interface RestorePlan {
  format: 1;
  environment: string;
  source: string;
  repository: string;
  staleAfterMinutes: number;
  containerLookup: string[];
  list: string[];
  check: string[];
  manifest: string[];
  streams: StreamRestore[];
  trees: TreeRestore[];
  swap: {
    /** The services stopped while the stores are swapped: these... */
    services: string[];
    /** ...or the replicated services this lists (on the manager), but for `keep`. */
    discover: string[];
    keep: string[];
    replicas: string[];
    scale: string[];
    tasks: string[];
  };
  /** Asks the started app for its counts; empty when the preset's app cannot say. */
  appCheck: string[];
  /** Manifest record key -> key of the app's /stats answer. */
  appCounts: Record<string, string>;
  reportFile: string;
  /**
   * The encrypted data volume the trees are restored into, where the environment has one: the drill refuses to
   * start while it is not mounted, so that no restored file lands on the unencrypted disk beneath it.
   */
  dataVolume?: string;
}

export interface RestoreOptions {
  environment: string;
  source: string;
  repository: string;
  staleAfterMinutes: number;
  preset: Spec['stack']['preset'];
  /**
   * Disaster recovery of the source itself, run on its data node. A Swarm worker cannot scale services, so the
   * plan neither stops nor starts the app nor asks it for its counts: crvs does that on the manager around it.
   */
  recovery?: boolean;
  /** The environment keeps its stores on the encrypted data volume (config/rules.ts environmentEncrypted). */
  encrypted?: boolean;
}

/** A command in a store's container that reads the archive's stream on its stdin. */
const stdinTo = (service: string, argv: string[]) => [
  'docker',
  'exec',
  '--interactive',
  container(service),
  ...argv,
];
const inArchive = (path: string) => path.replace(/^\//, '');
const streamOf = (repo: string, file: string) =>
  borgExtractToStdout(repo, ARCHIVE_TOKEN, inArchive(`${RUN_DIR}/${file}`), SIDE_BY_SIDE_LOCK_WAIT_SECONDS);
/** A volume's files, extracted into the working directory with the path down to them stripped. */
const treeExtract = (repo: string, path: string) => [
  'borg',
  'extract',
  '--lock-wait',
  String(SIDE_BY_SIDE_LOCK_WAIT_SECONDS),
  '--strip-components',
  String(inArchive(path).split('/').length),
  `${repo}::${ARCHIVE_TOKEN}`,
  inArchive(path),
];
const tree = (repo: string, store: string, dir: string, attachments: boolean): TreeRestore => ({
  store,
  attachments,
  extract: treeExtract(repo, dataPath(dir)),
  into: `${dataPath(dir)}.restore`,
  live: dataPath(dir),
});

/** Postgres by renames: scratch database loaded and counted, live one kept aside as `<db>_before_restore`. */
function postgresStream(o: {
  repo: string;
  service: string;
  file: string;
  live: string;
  scratch: string;
  previous: string;
  owner?: string;
}): StreamRestore {
  const psql = psqlIn(o.service);
  return {
    store: 'postgres',
    extract: streamOf(o.repo, o.file),
    count: 'pg-copy',
    prepare: [
      { argv: psql('postgres', `DROP DATABASE IF EXISTS ${o.scratch} WITH (FORCE)`) },
      { argv: psql('postgres', `CREATE DATABASE ${o.scratch}${o.owner ? ` OWNER ${o.owner}` : ''}`) },
    ],
    load: [
      'docker',
      'exec',
      '--interactive',
      '--user',
      'postgres',
      container(o.service),
      'psql',
      '--no-psqlrc',
      '--set=ON_ERROR_STOP=1',
      '--quiet',
      '--single-transaction',
      `--dbname=${o.scratch}`,
      // A dump without owners is loaded as the app's role, so that what it creates belongs to it.
      ...(o.owner ? [`--command=SET ROLE ${o.owner}`] : []),
      '--file=-',
    ],
    trial: [],
    counts: psql(o.scratch, COUNT_ROWS_SQL, ['--tuples-only', '--no-align']),
    dropPrevious: [{ argv: psql('postgres', `DROP DATABASE IF EXISTS ${o.previous} WITH (FORCE)`) }],
    // One psql for the three statements: every `docker exec` while the app is stopped is staging down longer.
    swap: [
      {
        argv: psql('postgres', [
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${o.live}' AND pid <> pg_backend_pid()`,
          `ALTER DATABASE ${o.live} RENAME TO ${o.previous}`,
          `ALTER DATABASE ${o.scratch} RENAME TO ${o.live}`,
        ]),
      },
    ],
    // After a verify-only drill or a failed one; after a swap the scratch name is gone.
    cleanup: [{ argv: psql('postgres', `DROP DATABASE IF EXISTS ${o.scratch} WITH (FORCE)`), mayFail: true }],
  };
}

const SWAP_COMMANDS = {
  replicas: replicasArgv('{service}'),
  scale: scaleDetachedArgv('{service}', '{replicas}'),
  tasks: tasksArgv('{service}'),
};

/** The demo: Postgres (crvs) by renames, the documents volume, and the app's own counts afterwards. */
function demoRestore(repo: string, recovery: boolean) {
  return {
    streams: [
      postgresStream({
        repo,
        service: 'db',
        file: 'postgres-crvs.sql',
        live: 'crvs',
        scratch: SCRATCH_DB,
        previous: PREVIOUS_DB,
        owner: 'app',
      }),
    ],
    trees: [tree(repo, 'documents', 'documents', true)],
    swap: { services: recovery ? [] : APP_SERVICES, discover: [], keep: [], ...SWAP_COMMANDS },
    appCheck: recovery ? [] : APP_STATS,
    appCounts: APP_COUNTS,
  };
}

/** The OpenCRVS stores the app writes through and that stay up while the drill swaps what they hold. */
export const OPENCRVS_KEPT_SERVICES = ['mongo1', 'postgres', 'elasticsearch', 'influxdb', 'redis'].map(
  (s) => `${STACK}_${s}`,
);
/** The stack's replicated services, one name per line (global services and jobs are not scaled). */
export const STACK_SERVICES = [
  'docker',
  'service',
  'ls',
  '--filter',
  `label=com.docker.stack.namespace=${STACK}`,
  '--filter',
  'mode=replicated',
  '--format',
  '{{.Name}}',
];

const MONGO_PASSWORD = '/run/secrets/MONGODB_ADMIN_PASSWORD';
/** The legacy mongo shell of the mongo 4.4 image, authenticated from the secret file it reads itself. */
const mongoEval = (js: string) =>
  exec('mongo1', undefined, [
    'mongo',
    '--quiet',
    '--eval',
    `var admin = db.getSiblingDB('admin'); admin.auth('admin', cat('${MONGO_PASSWORD}').trim()); ${js}`,
  ]);
/** Every collection of one database renamed into another, replacing any of the same name; stops at a failure. */
const mongoMove = (from: string, to: string) =>
  `db.getSiblingDB('${from}').getCollectionNames().forEach(function (c) { if (c.indexOf('system.') === 0) return; var r = admin.runCommand({ renameCollection: '${from}.' + c, to: '${to}.' + c, dropTarget: true }); if (!r.ok) { printjson(r); quit(2); } });`;
const mongoDrop = (db: string) => `printjson(db.getSiblingDB('${db}').dropDatabase());`;

/**
 * One MongoDB database: the archive restored under a scratch name (mongorestore renames its namespaces), then,
 * with the app stopped, the live collections renamed aside and the scratch ones into place.
 */
function mongoStream(repo: string, db: string): StreamRestore {
  const scratch = `crvs_check_${db}`;
  const previous = `crvs_prev_${db}`;
  return {
    store: `mongo-${db}`,
    extract: streamOf(repo, `mongo-${db}.archive`),
    count: 'none',
    prepare: [{ argv: mongoEval(mongoDrop(scratch)) }],
    // The archive comes on stdin, so the password reaches mongorestore as a config file on another descriptor
    // (bash's process substitution), never as an argument.
    load: stdinTo('mongo1', [
      'bash',
      '-c',
      `mongorestore --config=<(printf 'password: %s\\n' "$(cat ${MONGO_PASSWORD})") --username=admin --authenticationDatabase=admin --archive --nsFrom='${db}.*' --nsTo='${scratch}.*' --drop --quiet`,
    ]),
    trial: [],
    counts: [],
    dropPrevious: [{ argv: mongoEval(mongoDrop(previous)) }],
    swap: [{ argv: mongoEval(`${mongoMove(db, previous)} ${mongoMove(scratch, db)}`) }],
    cleanup: [{ argv: mongoEval(mongoDrop(scratch)), mayFail: true }],
  };
}

const ES_INDICES = 'ocrvs-*,events_*';
const ES_REPOSITORY = 'crvs-restore';
const esInContainer = (argv: string[]) => exec('elasticsearch', undefined, argv);
/**
 * The search indices: the snapshot unpacked into a read-only repository of its own, its shards' status read
 * back (trial), and with the app stopped the live indices deleted one by one (8.x refuses wildcards there) and
 * the snapshot restored. The indices are derived data (OpenCRVS rebuilds them from its records): the previous
 * ones are not kept, the fresh backup a disaster recovery takes first holds them.
 */
function elasticsearchStream(repo: string): StreamRestore {
  const dir = `${ES_SNAPSHOTS}/${ES_RESTORE_DIR}`;
  return {
    store: 'elasticsearch',
    extract: streamOf(repo, 'elasticsearch-snapshot.tar'),
    count: 'none',
    prepare: [
      // Absent unless an earlier drill stopped half-way: 404 then.
      { argv: esCurl('DELETE', `/_snapshot/${ES_REPOSITORY}`), mayFail: true },
      { argv: esInContainer(['rm', '-rf', dir]) },
      { argv: esInContainer(['mkdir', '-p', dir]) },
    ],
    load: stdinTo('elasticsearch', ['tar', '--extract', '--file=-', '--directory', dir]),
    trial: [
      {
        argv: esCurl(
          'PUT',
          `/_snapshot/${ES_REPOSITORY}`,
          `{"type":"fs","settings":{"location":"${dir}","readonly":true}}`,
        ),
      },
      { argv: esCurl('GET', `/_snapshot/${ES_REPOSITORY}/latest/_status`), expect: '"state":"SUCCESS"' },
    ],
    counts: [],
    dropPrevious: [],
    swap: [
      {
        argv: exec('elasticsearch', undefined, [
          'bash',
          '-c',
          `set -euo pipefail; auth() { printf 'user = "elastic:%s"\\n' "$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)"; }; for i in $(auth | curl --silent --show-error --fail --config - 'http://127.0.0.1:9200/_cat/indices/${ES_INDICES}?h=index'); do auth | curl --silent --show-error --fail --config - -X DELETE "http://127.0.0.1:9200/$i"; done`,
        ]),
      },
      {
        argv: esCurl(
          'POST',
          `/_snapshot/${ES_REPOSITORY}/latest/_restore?wait_for_completion=true`,
          `{"indices":"${ES_INDICES}","include_global_state":false}`,
        ),
        expect: '"failed":0[,}]',
      },
    ],
    cleanup: [
      { argv: esCurl('DELETE', `/_snapshot/${ES_REPOSITORY}`), mayFail: true },
      { argv: esInContainer(['rm', '-rf', dir]), mayFail: true },
    ],
  };
}

const INFLUX_RESTORE = '/tmp/crvs-influxdb-restore';
const influx = (q: string) => exec('influxdb', undefined, ['influx', '-execute', q]);
const influxRestore = (extra: string[]) =>
  exec('influxdb', undefined, [
    'influxd',
    'restore',
    '-portable',
    '-host',
    '127.0.0.1:8088',
    '-db',
    'ocrvs',
    ...extra,
    INFLUX_RESTORE,
  ]);
/**
 * The metrics: the portable backup unpacked in the container, restored under a scratch name and dropped again
 * (trial), then with the app stopped the live database dropped and restored. InfluxDB 1.8 cannot rename a
 * database, so the previous one is not kept; a disaster recovery's fresh backup holds it.
 */
function influxStream(repo: string): StreamRestore {
  return {
    store: 'influxdb',
    extract: streamOf(repo, 'influxdb-portable.tar'),
    count: 'none',
    prepare: [
      { argv: influx('DROP DATABASE crvs_check_ocrvs') },
      { argv: exec('influxdb', undefined, ['rm', '-rf', INFLUX_RESTORE]) },
      { argv: exec('influxdb', undefined, ['mkdir', '-p', INFLUX_RESTORE]) },
    ],
    load: stdinTo('influxdb', ['tar', '--extract', '--file=-', '--directory', INFLUX_RESTORE]),
    trial: [
      { argv: influxRestore(['-newdb', 'crvs_check_ocrvs']) },
      { argv: influx('DROP DATABASE crvs_check_ocrvs') },
    ],
    counts: [],
    dropPrevious: [],
    swap: [{ argv: influx('DROP DATABASE ocrvs') }, { argv: influxRestore([]) }],
    cleanup: [{ argv: exec('influxdb', undefined, ['rm', '-rf', INFLUX_RESTORE]), mayFail: true }],
  };
}

/**
 * OpenCRVS: every store its backup holds (sources.ts), each into a scratch store first. The stores stay up; every
 * other replicated service of the stack is stopped for the swap, MinIO and Metabase included (their volumes are
 * renamed). OpenCRVS has no endpoint that counts records: the drill checks the scratch Postgres rows against
 * the manifest, and that every service came back.
 */
function openCrvsRestore(repo: string, recovery: boolean) {
  return {
    streams: [
      ...MONGO_DATABASES.map((db) => mongoStream(repo, db)),
      postgresStream({
        repo,
        service: 'postgres',
        file: 'postgres-events.sql',
        live: 'events',
        scratch: 'events_restore_check',
        previous: 'events_before_restore',
      }),
      elasticsearchStream(repo),
      influxStream(repo),
    ],
    trees: [tree(repo, 'minio', 'minio', true), tree(repo, 'metabase', 'metabase', false)],
    swap: {
      services: [],
      discover: recovery ? [] : STACK_SERVICES,
      keep: OPENCRVS_KEPT_SERVICES,
      ...SWAP_COMMANDS,
    },
    appCheck: [],
    appCounts: {},
  };
}

export function restorePlan(o: RestoreOptions): RestorePlan {
  const repo = o.repository;
  const recovery = o.recovery ?? false;
  return {
    format: 1,
    environment: o.environment,
    source: o.source,
    repository: repo,
    staleAfterMinutes: o.staleAfterMinutes,
    containerLookup: containerLookup(),
    list: borgList(repo, archiveGlob(o.source)),
    // Without --verify-data: that reads the whole archive once more before the extract reads it again. The
    // extract authenticates every chunk it decrypts (a damaged one fails it: verdict corrupt), each stream's
    // sha256 is compared with the manifest, and nothing is swapped before the extract is complete, so the gate
    // holds at half the bytes over the link (bench/README.md, restore). `crvs backup verify` reads everything.
    check: borgCheck(repo, { archive: ARCHIVE_TOKEN, verifyData: false }),
    manifest: borgExtractToStdout(
      repo,
      ARCHIVE_TOKEN,
      inArchive(`${RUN_DIR}/${MANIFEST_FILE}`),
      SIDE_BY_SIDE_LOCK_WAIT_SECONDS,
    ),
    ...(o.preset === 'demo' ? demoRestore(repo, recovery) : openCrvsRestore(repo, recovery)),
    reportFile: DRILL_LOG,
    ...(o.encrypted ? { dataVolume: DATA_ROOT } : {}),
  };
}

/**
 * What the app answers that differs from the archive's counts (as a drill report holds them, `store.table`),
 * one line each; empty when every count the app reports matches.
 */
export function appCountMismatches(counts: Record<string, number>, stats: Record<string, unknown>): string[] {
  return Object.entries(APP_COUNTS).flatMap(([table, key]) => {
    const want = counts[`postgres.${table}`];
    return want === undefined || stats[key] === want
      ? []
      : [`${key}: the app counts ${String(stats[key])}, the archive holds ${want}`];
  });
}

export const renderRestorePlan = (plan: RestorePlan) => `${JSON.stringify(plan, null, 2)}\n`;
