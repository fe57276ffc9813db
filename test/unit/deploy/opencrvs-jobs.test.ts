import { describe, expect, it } from 'vitest';
import {
  clearBucketJob,
  clearMongoJob,
  clearPostgresJob,
  clearSearchJob,
  createJob,
  forgetSeeded,
  jobIteration,
  jobReplicas,
  readSeeded,
  reindexJob,
  rerunJob,
  seedJob,
  writeSeeded,
} from '../../../src/deploy/opencrvs/jobs.js';
import type { RemoteHost } from '../../../src/remote/host.js';

const m: RemoteHost = { environment: 'qa', ssh: ['ssh', 'qa-1'] };

// Each job's remote shell line, whole: the seeder inside the cluster network, the clearing steps of
// clear-all-data.sh with passwords read from Swarm secret files by the job itself, reindex.sh in Node.
describe('opencrvs data jobs', () => {
  const cases: [string, () => { argv: string[]; stdin?: unknown }, string][] = [
    [
      "createJob(m, seedJob('crvs_seed_1', 'v1.9.0', true, 'crvs_super_user_password_abc'))",
      () => createJob(m, seedJob('crvs_seed_1', 'v1.9.0', true, 'crvs_super_user_password_abc')),
      'sudo -n docker service create --detach --quiet --name crvs_seed_1 --mode replicated-job --restart-condition none --network crvs_overlay --secret source=crvs_super_user_password_abc,target=SUPER_USER_PASSWORD --env AUTH_HOST=http://auth:4040 --env COUNTRY_CONFIG_HOST=http://countryconfig:3040 --env GATEWAY_HOST=http://gateway:7070 --env ACTIVATE_USERS=true --entrypoint /bin/sh ghcr.io/opencrvs/ocrvs-data-seeder:v1.9.0 -c \'export SUPER_USER_PASSWORD="$(cat /run/secrets/SUPER_USER_PASSWORD)" && exec yarn seed\'',
    ],
    [
      "createJob(m, clearMongoJob('crvs_reset_mongo_1', 'mongo:4.4', 'crvs_mongo_abc'))",
      () => createJob(m, clearMongoJob('crvs_reset_mongo_1', 'mongo:4.4', 'crvs_mongo_abc')),
      "sudo -n docker service create --detach --quiet --name crvs_reset_mongo_1 --mode replicated-job --restart-condition none --network crvs_overlay --secret source=crvs_mongo_abc,target=MONGODB_ADMIN_PASSWORD --entrypoint mongo mongo:4.4 --host rs0/mongo1:27017 --quiet --eval 'db.getSiblingDB('\\''admin'\\'').auth('\\''admin'\\'', cat('\\''/run/secrets/MONGODB_ADMIN_PASSWORD'\\'').trim()); ['\\''hearth-dev'\\'', '\\''events'\\'', '\\''openhim-dev'\\'', '\\''user-mgnt'\\'', '\\''application-config'\\'', '\\''metrics'\\'', '\\''performance'\\''].forEach(function (d) { printjson(db.getSiblingDB(d).dropDatabase()); });'",
    ],
    [
      "createJob(m, clearSearchJob('crvs_reset_search_1', 'es:8.16.4', 'crvs_es_abc'))",
      () => createJob(m, clearSearchJob('crvs_reset_search_1', 'es:8.16.4', 'crvs_es_abc')),
      "sudo -n docker service create --detach --quiet --name crvs_reset_search_1 --mode replicated-job --restart-condition none --network crvs_overlay --secret source=crvs_es_abc,target=ELASTICSEARCH_SUPERUSER_PASSWORD --entrypoint /bin/bash es:8.16.4 -c 'set -euo pipefail; for i in $(printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\" | curl -sSf -K - '\\''http://elasticsearch:9200/_cat/indices?h=index'\\''); do printf '\\''user = \"elastic:%s\"\\n'\\'' \"$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)\" | curl -sSf -K - -X DELETE \"http://elasticsearch:9200/$i\"; echo; done; curl -sSf -X POST '\\''http://influxdb:8086/query?db=ocrvs'\\'' --data-urlencode '\\''q=DROP SERIES FROM /.*/'\\'''",
    ],
    [
      "createJob(m, clearBucketJob('crvs_reset_bucket_1', 'mc:1', 'crvs_minio_abc'))",
      () => createJob(m, clearBucketJob('crvs_reset_bucket_1', 'mc:1', 'crvs_minio_abc')),
      'sudo -n docker service create --detach --quiet --name crvs_reset_bucket_1 --mode replicated-job --restart-condition none --network crvs_overlay --secret source=crvs_minio_abc,target=MINIO_ROOT_PASSWORD --entrypoint /bin/sh mc:1 -c \'set -e; export MC_HOST_ocrvs="http://minioadmin:$(cat /run/secrets/MINIO_ROOT_PASSWORD)@minio:9000"; mc rm --recursive --force ocrvs/ocrvs; mc rb --force ocrvs/ocrvs; mc mb ocrvs/ocrvs\'',
    ],
    [
      "createJob(m, clearPostgresJob('crvs_reset_postgres_1', 'postgres:17.6', 'crvs_pg_abc'))",
      () => createJob(m, clearPostgresJob('crvs_reset_postgres_1', 'postgres:17.6', 'crvs_pg_abc')),
      "sudo -n docker service create --detach --quiet --name crvs_reset_postgres_1 --mode replicated-job --restart-condition none --network crvs_overlay --secret source=crvs_pg_abc,target=POSTGRES_PASSWORD --entrypoint /bin/sh postgres:17.6 -c 'export PGPASSWORD=\"$(cat /run/secrets/POSTGRES_PASSWORD)\" && exec psql -h postgres -U postgres -d postgres -v ON_ERROR_STOP=1 -c '\\''DROP DATABASE IF EXISTS \"events\" WITH (FORCE)'\\'' -c '\\''DROP DATABASE IF EXISTS \"analytics\" WITH (FORCE)'\\'' -c '\\''DROP ROLE IF EXISTS \"events_migrator\"'\\'' -c '\\''DROP ROLE IF EXISTS \"events_app\"'\\'' -c '\\''DROP ROLE IF EXISTS \"events_analytics\"'\\'''",
    ],
    [
      "createJob(m, reindexJob('crvs_reindex_1', 'v1.9.0'))",
      () => createJob(m, reindexJob('crvs_reindex_1', 'v1.9.0')),
      "sudo -n docker service create --detach --quiet --name crvs_reindex_1 --mode replicated-job --restart-condition none --network crvs_overlay --entrypoint node ghcr.io/opencrvs/ocrvs-auth:v1.9.0 -e 'const wait = (ms) => new Promise((r) => setTimeout(r, ms));\n(async () => {\n  for (let i = 0; i < 31; i++) {\n    try {\n      const { token } = await (await fetch('\\''http://auth:4040/internal/reindexing-token'\\'')).json();\n      const r = await fetch('\\''http://gateway:7070/events/events/reindex'\\'', { method: '\\''POST'\\'', headers: { Authorization: '\\''Bearer '\\'' + token, '\\''Content-Type'\\'': '\\''application/json'\\'' } });\n      if (r.ok) return console.log('\\''REINDEXED'\\'');\n      console.log('\\''reindex answered '\\'' + r.status);\n    } catch (e) {\n      console.log(String(e));\n    }\n    await wait(5000);\n  }\n  process.exit(1);\n})();'",
    ],
    [
      "rerunJob(m, 'crvs_migration')",
      () => rerunJob(m, 'crvs_migration'),
      'sudo -n docker service update --detach --quiet --force crvs_migration',
    ],
    [
      "jobReplicas(m, 'crvs_migration')",
      () => jobReplicas(m, 'crvs_migration'),
      "sudo -n docker service ls --filter name=crvs_migration --format '{{.Name}} {{.Replicas}}'",
    ],
    [
      "jobIteration(m, 'crvs_migration')",
      () => jobIteration(m, 'crvs_migration'),
      "sudo -n docker service inspect --format '{{.JobStatus.JobIteration.Index}}' crvs_migration",
    ],
    ['readSeeded(m)', () => readSeeded(m), 'sudo -n cat /var/lib/crvs/qa/seeded.json'],
    [
      "writeSeeded(m, { at: 'T', version: 'v1.9.0' })",
      () => writeSeeded(m, { at: 'T', version: 'v1.9.0' }),
      'sudo -n mkdir -p /var/lib/crvs/qa && sudo -n tee /var/lib/crvs/qa/seeded.json >/dev/null',
    ],
    ['forgetSeeded(m)', () => forgetSeeded(m), 'sudo -n rm -f /var/lib/crvs/qa/seeded.json'],
  ];
  it.each(cases)('%s', (_name, build, line) => {
    const c = build();
    expect(c.argv.slice(0, 2)).toEqual(['ssh', 'qa-1']);
    expect(c.argv[2]).toBe(line);
  });

  it('records the seed on stdin; each job reads its password from the Swarm secret it mounts', () => {
    expect(writeSeeded(m, { at: 'T', version: 'v1.9.0' }).stdin).toBe('{"at":"T","version":"v1.9.0"}\n');
    for (const [, build] of cases.slice(0, 5)) {
      const line = build().argv[2] as string;
      const target = /--secret source=[a-z_]+,target=([A-Z_]+)/.exec(line)?.[1];
      expect(line).toContain(`/run/secrets/${target}`);
    }
  });
});
