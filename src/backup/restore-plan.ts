// The daily restore drill on staging, as data: what crvs-restore (ansible/roles/crvs_backup_restore) runs, in
// order, and the gates between. Verify first (newest archive, its age, `borg check` of its metadata, its
// manifest, a trial restore into a scratch database whose rows are counted), and only on an `ok`
// verdict stop the app, swap the scratch database and the attachments in, start the app and compare what it
// answers with the manifest. Demo preset only for now. Pure.
import { STACK } from '../config/environment.js';
import { borgCheck, borgExtractToStdout, borgList } from './borg.js';
import { DRILL_LOG } from './drill-report.js';
import { MANIFEST_FILE } from './manifest.js';
import { archiveGlob } from './naming.js';
import { ARCHIVE_TOKEN, containerLookup, RUN_DIR } from './plan.js';
import { container, volumePath } from './sources.js';

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
const DUMP_STORE = 'postgres';
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

const psql = (db: string, sql: string, extra: string[] = []) => [
  'docker',
  'exec',
  '--user',
  'postgres',
  container('db'),
  'psql',
  '--no-psqlrc',
  '--set=ON_ERROR_STOP=1',
  '--quiet',
  ...extra,
  `--dbname=${db}`,
  `--command=${sql}`,
];

/** Exact row counts of every table, one `schema.table|count` line each (names as pg_dump writes them). */
export const COUNT_ROWS_SQL =
  "SELECT table_schema || '.' || table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text " +
  "FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";

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
  dump: {
    store: string;
    extract: string[];
    dropScratch: string[];
    createScratch: string[];
    load: string[];
    count: string[];
  };
  attachments: { extract: string[]; into: string; live: string };
  swap: {
    services: string[];
    replicas: string[];
    scale: string[];
    tasks: string[];
    terminate: string[];
    dropPrevious: string[];
    renameLive: string[];
    renameScratch: string[];
  };
  appCheck: string[];
  /** Manifest record key -> key of the app's /stats answer. */
  appCounts: Record<string, string>;
  reportFile: string;
}

export function restorePlan(o: {
  environment: string;
  source: string;
  repository: string;
  staleAfterMinutes: number;
  /**
   * Disaster recovery of the source itself, run on its data node. A Swarm worker cannot scale services, so the
   * plan neither stops nor starts the app nor asks it for its counts: crvs does that on the manager around it.
   */
  recovery?: boolean;
}): RestorePlan {
  const repo = o.repository;
  const inArchive = (path: string) => path.replace(/^\//, '');
  const documents = volumePath('documents');
  return {
    format: 1,
    environment: o.environment,
    source: o.source,
    repository: repo,
    staleAfterMinutes: o.staleAfterMinutes,
    containerLookup: containerLookup(),
    list: borgList(repo, archiveGlob(o.source)),
    // Without --verify-data: that reads the whole archive once more before the extract reads it again. The
    // extract authenticates every chunk it decrypts (a damaged one fails it: verdict corrupt), the dump's sha256
    // is compared with the manifest, and nothing is swapped before the extract is complete, so the gate holds at
    // half the bytes over the link (bench/README.md, restore). `crvs backup verify` still reads everything.
    check: borgCheck(repo, { archive: ARCHIVE_TOKEN, verifyData: false }),
    manifest: borgExtractToStdout(repo, ARCHIVE_TOKEN, inArchive(`${RUN_DIR}/${MANIFEST_FILE}`)),
    dump: {
      store: DUMP_STORE,
      extract: borgExtractToStdout(repo, ARCHIVE_TOKEN, inArchive(`${RUN_DIR}/postgres-crvs.sql`)),
      dropScratch: psql('postgres', `DROP DATABASE IF EXISTS ${SCRATCH_DB} WITH (FORCE)`),
      createScratch: psql('postgres', `CREATE DATABASE ${SCRATCH_DB} OWNER app`),
      // As the app's role, so that the restored tables belong to it (the dump carries no owners).
      load: [
        'docker',
        'exec',
        '--interactive',
        '--user',
        'postgres',
        container('db'),
        'psql',
        '--no-psqlrc',
        '--set=ON_ERROR_STOP=1',
        '--quiet',
        '--single-transaction',
        `--dbname=${SCRATCH_DB}`,
        '--command=SET ROLE app',
        '--file=-',
      ],
      count: psql(SCRATCH_DB, COUNT_ROWS_SQL, ['--tuples-only', '--no-align']),
    },
    attachments: {
      // Paths in the archive are absolute paths without their leading slash: strip down to the file names.
      extract: [
        'borg',
        'extract',
        '--lock-wait',
        '600',
        '--strip-components',
        String(inArchive(documents).split('/').length),
        `${repo}::${ARCHIVE_TOKEN}`,
        inArchive(documents),
      ],
      into: `${documents}.restore`,
      live: documents,
    },
    swap: {
      services: o.recovery ? [] : APP_SERVICES,
      replicas: replicasArgv('{service}'),
      scale: scaleDetachedArgv('{service}', '{replicas}'),
      tasks: tasksArgv('{service}'),
      terminate: psql(
        'postgres',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'crvs' AND pid <> pg_backend_pid()",
      ),
      dropPrevious: psql('postgres', `DROP DATABASE IF EXISTS ${PREVIOUS_DB} WITH (FORCE)`),
      renameLive: psql('postgres', `ALTER DATABASE crvs RENAME TO ${PREVIOUS_DB}`),
      renameScratch: psql('postgres', `ALTER DATABASE ${SCRATCH_DB} RENAME TO crvs`),
    },
    appCheck: o.recovery ? [] : APP_STATS,
    appCounts: APP_COUNTS,
    reportFile: DRILL_LOG,
  };
}

/**
 * What the app answers that differs from the archive's counts (as a drill report holds them, `store.table`),
 * one line each; empty when every count the app reports matches.
 */
export function appCountMismatches(counts: Record<string, number>, stats: Record<string, unknown>): string[] {
  return Object.entries(APP_COUNTS).flatMap(([table, key]) => {
    const want = counts[`${DUMP_STORE}.${table}`];
    return want === undefined || stats[key] === want
      ? []
      : [`${key}: the app counts ${String(stats[key])}, the archive holds ${want}`];
  });
}

export const renderRestorePlan = (plan: RestorePlan) => `${JSON.stringify(plan, null, 2)}\n`;
