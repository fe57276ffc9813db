import { describe, expect, it } from 'vitest';
import {
  restorePlan,
  type StreamRestore,
  type TreeRestore,
  tasksConverged,
} from '../../../src/backup/restore-plan.js';
import { MONGO_DATABASES } from '../../../src/backup/sources.js';
import { cmd } from '../../../src/remote/shell.js';

const shellLine = (argv: string[]) => cmd(...argv);

const plan = restorePlan({
  environment: 'staging',
  source: 'production',
  repository: 'ssh://borg@backup-1/srv/borg/repos/production',
  staleAfterMinutes: 1560,
  preset: 'demo',
});
const R = 'ssh://borg@backup-1/srv/borg/repos/production';
const PSQL =
  "docker exec --user postgres '{container:crvs_db}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet";

describe('the restore drill of staging', () => {
  it('verifies the newest archive of production before anything else', () => {
    expect([plan.list, plan.check, plan.manifest].map(shellLine)).toEqual([
      `borg list --lock-wait 600 --json --glob-archives 'production-*' ${R}`,
      `borg check --lock-wait 600 --archives-only '${R}::{archive}'`,
      // Side by side with the trees and streams: a short wait, so that borg's retry (a tenth of it) is 3 s, not 60.
      `borg extract --lock-wait 30 --stdout '${R}::{archive}' run/crvs-backup/crvs-manifest.json`,
    ]);
    expect(plan.staleAfterMinutes).toBe(1560);
  });

  it('restores the dump into a scratch database as the app role, from a stream, and counts its rows', () => {
    expect(plan.streams).toHaveLength(1);
    const d = plan.streams[0] as StreamRestore;
    expect([d.store, d.count]).toEqual(['postgres', 'pg-copy']);
    expect([d.extract, ...d.prepare.map((p) => p.argv), d.load, d.counts].map(shellLine)).toEqual([
      `borg extract --lock-wait 30 --stdout '${R}::{archive}' run/crvs-backup/postgres-crvs.sql`,
      `${PSQL} --dbname=postgres '--command=DROP DATABASE IF EXISTS crvs_restore_check WITH (FORCE)'`,
      `${PSQL} --dbname=postgres '--command=CREATE DATABASE crvs_restore_check OWNER app'`,
      "docker exec --interactive --user postgres '{container:crvs_db}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --single-transaction --dbname=crvs_restore_check '--command=SET ROLE app' --file=-",
      `${PSQL} --tuples-only --no-align --dbname=crvs_restore_check '--command=SELECT table_schema || '\\''.'\\'' || table_name, (xpath('\\''/row/c/text()'\\'', query_to_xml(format('\\''SELECT count(*) AS c FROM %I.%I'\\'', table_schema, table_name), false, true, '\\'''\\'')))[1]::text FROM information_schema.tables WHERE table_type = '\\''BASE TABLE'\\'' AND table_schema NOT IN ('\\''pg_catalog'\\'', '\\''information_schema'\\'') ORDER BY 1'`,
    ]);
    expect(d.trial).toEqual([]);
    // The scratch database goes after a verify-only or failed drill (after a swap it has been renamed).
    expect(d.cleanup.map((c) => [shellLine(c.argv), c.mayFail])).toEqual([
      [`${PSQL} --dbname=postgres '--command=DROP DATABASE IF EXISTS crvs_restore_check WITH (FORCE)'`, true],
    ]);
  });

  it('extracts the attachments beside the live ones, file names only', () => {
    expect(plan.trees).toHaveLength(1);
    const t = plan.trees[0] as TreeRestore;
    expect([t.store, t.attachments]).toEqual(['documents', true]);
    expect(shellLine(t.extract)).toBe(
      `borg extract --lock-wait 30 --strip-components 2 '${R}::{archive}' data/documents`,
    );
    expect([t.into, t.live]).toEqual(['/data/documents.restore', '/data/documents']);
  });

  it('swaps only with the app stopped, keeping the previous database', () => {
    const s = plan.swap;
    const d = plan.streams[0] as StreamRestore;
    expect([s.services, s.discover, s.keep]).toEqual([['crvs_app', 'crvs_documents'], [], []]);
    expect([s.replicas, s.scale, s.tasks].map(shellLine)).toEqual([
      "docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' '{service}'",
      // Detached: crvs-restore polls the tasks (next line) instead of sitting out Swarm's update monitor.
      "docker service scale --detach '{service}={replicas}'",
      "docker service ps --format '{{.CurrentState}}' '{service}'",
    ]);
    // Before the app stops: the database the previous drill kept aside.
    expect(d.dropPrevious.map((p) => shellLine(p.argv))).toEqual([
      `${PSQL} --dbname=postgres '--command=DROP DATABASE IF EXISTS crvs_before_restore WITH (FORCE)'`,
    ]);
    // One psql, the statements in order (ON_ERROR_STOP: the renames do not run if the sessions were not ended).
    expect(d.swap.map((p) => shellLine(p.argv))).toEqual([
      `${PSQL} --dbname=postgres '--command=SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\\''crvs'\\'' AND pid <> pg_backend_pid()' '--command=ALTER DATABASE crvs RENAME TO crvs_before_restore' '--command=ALTER DATABASE crvs_restore_check RENAME TO crvs'`,
    ]);
  });

  it('asks the app for its counts afterwards and keeps a report', () => {
    expect(shellLine(plan.appCheck)).toBe(
      'curl --silent --show-error --fail --max-time 5 http://127.0.0.1/stats',
    );
    expect(plan.appCounts).toEqual({
      'public.records': 'records',
      'public.offices': 'offices',
      'public.locations': 'locations',
      'public.users': 'users',
    });
    expect(plan.reportFile).toBe('/var/lib/crvs/backup/restore-drills.jsonl');
  });
});

describe('tasks converged on a replica count (docker service ps --format {{.CurrentState}}, as Docker 20.10 prints it)', () => {
  const ps = (...states: string[]) => `${states.join('\n')}\n`;
  it('counts the running tasks and waits for those on their way', () => {
    expect(tasksConverged(ps('Running 3 seconds ago', 'Running 4 seconds ago'), 2)).toBe(true);
    expect(tasksConverged(ps('Running 3 seconds ago', 'Starting 1 second ago'), 2)).toBe(false);
    expect(tasksConverged(ps('Running 3 seconds ago', 'Preparing 1 second ago'), 1)).toBe(false);
    // Old tasks of the service stay listed once they stopped.
    expect(
      tasksConverged(ps('Running 3 seconds ago', 'Shutdown 2 minutes ago', 'Failed 1 hour ago'), 1),
    ).toBe(true);
  });
  it('converges on 0 when the last task is gone, not while it is stopping', () => {
    expect(tasksConverged(ps('Running 2 hours ago'), 0)).toBe(false);
    expect(tasksConverged(ps('Shutdown 1 second ago', 'Shutdown 2 hours ago'), 0)).toBe(true);
    expect(tasksConverged('', 0)).toBe(true);
    expect(tasksConverged('', 1)).toBe(false);
  });
});

describe('the restore drill of an OpenCRVS staging (every store the backup holds; the images cannot run here)', () => {
  const oc = restorePlan({
    environment: 'staging',
    source: 'production',
    repository: R,
    staleAfterMinutes: 1560,
    preset: 'opencrvs',
  });
  const describeStream = (st: StreamRestore) => [
    `== ${st.store} ${st.count}`,
    `extract: ${shellLine(st.extract)}`,
    ...(['prepare', 'trial', 'dropPrevious', 'swap', 'cleanup'] as const).flatMap((k) =>
      st[k].map(
        (x) => `${k}${x.mayFail ? '?' : ''}${x.expect ? ` [${x.expect}]` : ''}: ${shellLine(x.argv)}`,
      ),
    ),
    `load: ${shellLine(st.load)}`,
    ...(st.counts.length ? [`counts: ${shellLine(st.counts)}`] : []),
  ];

  it('restores each store into a scratch store, swaps it in with the app stopped, and cleans up after', () => {
    expect(oc.streams.map((s) => s.store)).toEqual([
      ...MONGO_DATABASES.map((db) => `mongo-${db}`),
      'postgres',
      'elasticsearch',
      'influxdb',
    ]);
    const shown = oc.streams
      .filter((s) => ['mongo-hearth-dev', 'postgres', 'elasticsearch', 'influxdb'].includes(s.store))
      .flatMap(describeStream);
    const trees = oc.trees.map(
      (t) => `tree ${t.store} ${t.attachments}: ${shellLine(t.extract)} ${t.into} ${t.live}`,
    );
    expect([...shown, ...trees]).toEqual([
      '== mongo-hearth-dev none',
      `extract: borg extract --lock-wait 30 --stdout '${R}::{archive}' run/crvs-backup/mongo-hearth-dev.archive`,
      "prepare: docker exec '{container:crvs_mongo1}' mongo --quiet --eval 'var admin = db.getSiblingDB('\\''admin'\\''); admin.auth('\\''admin'\\'', cat('\\''/run/secrets/MONGODB_ADMIN_PASSWORD'\\'').trim()); printjson(db.getSiblingDB('\\''crvs_check_hearth-dev'\\'').dropDatabase());'",
      "dropPrevious: docker exec '{container:crvs_mongo1}' mongo --quiet --eval 'var admin = db.getSiblingDB('\\''admin'\\''); admin.auth('\\''admin'\\'', cat('\\''/run/secrets/MONGODB_ADMIN_PASSWORD'\\'').trim()); printjson(db.getSiblingDB('\\''crvs_prev_hearth-dev'\\'').dropDatabase());'",
      "swap: docker exec '{container:crvs_mongo1}' mongo --quiet --eval 'var admin = db.getSiblingDB('\\''admin'\\''); admin.auth('\\''admin'\\'', cat('\\''/run/secrets/MONGODB_ADMIN_PASSWORD'\\'').trim()); db.getSiblingDB('\\''hearth-dev'\\'').getCollectionNames().forEach(function (c) { if (c.indexOf('\\''system.'\\'') === 0) return; var r = admin.runCommand({ renameCollection: '\\''hearth-dev.'\\'' + c, to: '\\''crvs_prev_hearth-dev.'\\'' + c, dropTarget: true }); if (!r.ok) { printjson(r); quit(2); } }); db.getSiblingDB('\\''crvs_check_hearth-dev'\\'').getCollectionNames().forEach(function (c) { if (c.indexOf('\\''system.'\\'') === 0) return; var r = admin.runCommand({ renameCollection: '\\''crvs_check_hearth-dev.'\\'' + c, to: '\\''hearth-dev.'\\'' + c, dropTarget: true }); if (!r.ok) { printjson(r); quit(2); } });'",
      "cleanup?: docker exec '{container:crvs_mongo1}' mongo --quiet --eval 'var admin = db.getSiblingDB('\\''admin'\\''); admin.auth('\\''admin'\\'', cat('\\''/run/secrets/MONGODB_ADMIN_PASSWORD'\\'').trim()); printjson(db.getSiblingDB('\\''crvs_check_hearth-dev'\\'').dropDatabase());'",
      "load: docker exec --interactive '{container:crvs_mongo1}' bash -c 'mongorestore --config=<(printf '\\''password: %s\\n'\\'' \"$(cat /run/secrets/MONGODB_ADMIN_PASSWORD)\") --username=admin --authenticationDatabase=admin --archive --nsFrom='\\''hearth-dev.*'\\'' --nsTo='\\''crvs_check_hearth-dev.*'\\'' --drop --quiet'",
      '== postgres pg-copy',
      `extract: borg extract --lock-wait 30 --stdout '${R}::{archive}' run/crvs-backup/postgres-events.sql`,
      "prepare: docker exec --user postgres '{container:crvs_postgres}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --dbname=postgres '--command=DROP DATABASE IF EXISTS events_restore_check WITH (FORCE)'",
      "prepare: docker exec --user postgres '{container:crvs_postgres}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --dbname=postgres '--command=CREATE DATABASE events_restore_check'",
      "dropPrevious: docker exec --user postgres '{container:crvs_postgres}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --dbname=postgres '--command=DROP DATABASE IF EXISTS events_before_restore WITH (FORCE)'",
      "swap: docker exec --user postgres '{container:crvs_postgres}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --dbname=postgres '--command=SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\\''events'\\'' AND pid <> pg_backend_pid()' '--command=ALTER DATABASE events RENAME TO events_before_restore' '--command=ALTER DATABASE events_restore_check RENAME TO events'",
      "cleanup?: docker exec --user postgres '{container:crvs_postgres}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --dbname=postgres '--command=DROP DATABASE IF EXISTS events_restore_check WITH (FORCE)'",
      "load: docker exec --interactive --user postgres '{container:crvs_postgres}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --single-transaction --dbname=events_restore_check --file=-",
      "counts: docker exec --user postgres '{container:crvs_postgres}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --tuples-only --no-align --dbname=events_restore_check '--command=SELECT table_schema || '\\''.'\\'' || table_name, (xpath('\\''/row/c/text()'\\'', query_to_xml(format('\\''SELECT count(*) AS c FROM %I.%I'\\'', table_schema, table_name), false, true, '\\'''\\'')))[1]::text FROM information_schema.tables WHERE table_type = '\\''BASE TABLE'\\'' AND table_schema NOT IN ('\\''pg_catalog'\\'', '\\''information_schema'\\'') ORDER BY 1'",
      '== elasticsearch none',
      `extract: borg extract --lock-wait 30 --stdout '${R}::{archive}' run/crvs-backup/elasticsearch-snapshot.tar`,
      "prepare?: docker exec '{container:crvs_elasticsearch}' sh -c 'printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\" | curl --silent --show-error --fail --config - -X DELETE -H '\\''Content-Type: application/json'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs-restore'\\'''",
      "prepare: docker exec '{container:crvs_elasticsearch}' rm -rf /data/backups/elasticsearch/crvs-restore",
      "prepare: docker exec '{container:crvs_elasticsearch}' mkdir -p /data/backups/elasticsearch/crvs-restore",
      "trial: docker exec '{container:crvs_elasticsearch}' sh -c 'printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\" | curl --silent --show-error --fail --config - -X PUT -H '\\''Content-Type: application/json'\\'' --data '\\''{\"type\":\"fs\",\"settings\":{\"location\":\"/data/backups/elasticsearch/crvs-restore\",\"readonly\":true}}'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs-restore'\\'''",
      "trial [\"state\":\"SUCCESS\"]: docker exec '{container:crvs_elasticsearch}' sh -c 'printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\" | curl --silent --show-error --fail --config - -X GET -H '\\''Content-Type: application/json'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs-restore/latest/_status'\\'''",
      "swap: docker exec '{container:crvs_elasticsearch}' bash -c 'set -euo pipefail; auth() { printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\"; }; for i in $(auth | curl --silent --show-error --fail --config - '\\''http://127.0.0.1:9200/_cat/indices/ocrvs-*,events_*?h=index'\\''); do auth | curl --silent --show-error --fail --config - -X DELETE \"http://127.0.0.1:9200/$i\"; done'",
      "swap [\"failed\":0[,}]]: docker exec '{container:crvs_elasticsearch}' sh -c 'printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\" | curl --silent --show-error --fail --config - -X POST -H '\\''Content-Type: application/json'\\'' --data '\\''{\"indices\":\"ocrvs-*,events_*\",\"include_global_state\":false}'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs-restore/latest/_restore?wait_for_completion=true'\\'''",
      "cleanup?: docker exec '{container:crvs_elasticsearch}' sh -c 'printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\" | curl --silent --show-error --fail --config - -X DELETE -H '\\''Content-Type: application/json'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs-restore'\\'''",
      "cleanup?: docker exec '{container:crvs_elasticsearch}' rm -rf /data/backups/elasticsearch/crvs-restore",
      "load: docker exec --interactive '{container:crvs_elasticsearch}' tar --extract --file=- --directory /data/backups/elasticsearch/crvs-restore",
      '== influxdb none',
      `extract: borg extract --lock-wait 30 --stdout '${R}::{archive}' run/crvs-backup/influxdb-portable.tar`,
      "prepare: docker exec '{container:crvs_influxdb}' influx -execute 'DROP DATABASE crvs_check_ocrvs'",
      "prepare: docker exec '{container:crvs_influxdb}' rm -rf /tmp/crvs-influxdb-restore",
      "prepare: docker exec '{container:crvs_influxdb}' mkdir -p /tmp/crvs-influxdb-restore",
      "trial: docker exec '{container:crvs_influxdb}' influxd restore -portable -host 127.0.0.1:8088 -db ocrvs -newdb crvs_check_ocrvs /tmp/crvs-influxdb-restore",
      "trial: docker exec '{container:crvs_influxdb}' influx -execute 'DROP DATABASE crvs_check_ocrvs'",
      "swap: docker exec '{container:crvs_influxdb}' influx -execute 'DROP DATABASE ocrvs'",
      "swap: docker exec '{container:crvs_influxdb}' influxd restore -portable -host 127.0.0.1:8088 -db ocrvs /tmp/crvs-influxdb-restore",
      "cleanup?: docker exec '{container:crvs_influxdb}' rm -rf /tmp/crvs-influxdb-restore",
      "load: docker exec --interactive '{container:crvs_influxdb}' tar --extract --file=- --directory /tmp/crvs-influxdb-restore",
      `tree minio true: borg extract --lock-wait 30 --strip-components 2 '${R}::{archive}' data/minio /data/minio.restore /data/minio`,
      `tree metabase false: borg extract --lock-wait 30 --strip-components 2 '${R}::{archive}' data/metabase /data/metabase.restore /data/metabase`,
    ]);
    // The other MongoDB databases as hearth-dev's, by name.
    for (const db of MONGO_DATABASES) {
      const st = oc.streams.find((s) => s.store === `mongo-${db}`) as StreamRestore;
      const hearth = oc.streams[0] as StreamRestore;
      expect(JSON.stringify(st)).toBe(JSON.stringify(hearth).replaceAll('hearth-dev', db));
    }
  });

  it('stops every replicated service of the stack but the stores, and has no app to ask for counts', () => {
    expect(shellLine(oc.swap.discover)).toBe(
      "docker service ls --filter label=com.docker.stack.namespace=crvs --filter mode=replicated --format '{{.Name}}'",
    );
    expect(oc.swap.services).toEqual([]);
    expect(oc.swap.keep).toEqual([
      'crvs_mongo1',
      'crvs_postgres',
      'crvs_elasticsearch',
      'crvs_influxdb',
      'crvs_redis',
    ]);
    expect([oc.appCheck, oc.appCounts]).toEqual([[], {}]);
    // Disaster recovery runs on production's data node: crvs stops and starts the services from the manager.
    const dr = restorePlan({
      environment: 'production',
      source: 'production',
      repository: R,
      staleAfterMinutes: 1560,
      preset: 'opencrvs',
      recovery: true,
    });
    expect([dr.swap.services, dr.swap.discover]).toEqual([[], []]);
  });
});
