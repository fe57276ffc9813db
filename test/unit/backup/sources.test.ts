import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backupPlan } from '../../../src/backup/plan.js';
import { demoSources, openCrvsSources } from '../../../src/backup/sources.js';
import { validateSpecText } from '../../../src/config/load.js';
import { cmd } from '../../../src/remote/shell.js';

const shellLine = (argv: string[]) => cmd(...argv);

const lines = (set: ReturnType<typeof demoSources>) => ({
  prepare: set.prepare.map((s) => `${s.mayFail ? '(may fail) ' : ''}${shellLine(s.argv)}`),
  sources: set.sources.map((s) =>
    s.kind === 'stream'
      ? `${s.name} -> ${s.file} [${s.count}]: ${shellLine(s.argv)}`
      : `${s.name}: tree ${s.path}${s.attachments ? ' (attachments)' : ''}${s.optional ? ' (optional)' : ''}${s.exclude.length ? ` without ${s.exclude.join(' ')}` : ''}`,
  ),
  cleanup: set.cleanup.map((s) => shellLine(s.argv)),
  release: set.release ? shellLine(set.release) : undefined,
});

describe('what each preset backs up', () => {
  it('demo: a plain Postgres dump counted by its COPY rows, and the documents', () => {
    expect(lines(demoSources())).toEqual({
      prepare: [],
      sources: [
        "postgres -> postgres-crvs.sql [pg-copy]: docker exec --user postgres '{container:crvs_db}' pg_dump --dbname=crvs --format=plain --no-owner --no-privileges",
        'documents: tree /data/documents (attachments) without *.tmp',
      ],
      cleanup: [],
      release: "docker inspect --format '{{.Config.Image}}' '{container:crvs_db}'",
    });
  });

  it('opencrvs: every MongoDB database, Postgres, the Elasticsearch snapshot, InfluxDB, MinIO and Metabase', () => {
    const mongo = (db: string) =>
      `mongo-${db} -> mongo-${db}.archive [none]: docker exec '{container:crvs_mongo1}' sh -c 'printf '\\''password: %s\\n'\\'' "$(cat /run/secrets/MONGODB_ADMIN_PASSWORD)" | mongodump --config=/dev/stdin --username=admin --authenticationDatabase=admin --db=${db} --archive --quiet'`;
    const es = (rest: string) =>
      `docker exec '{container:crvs_elasticsearch}' sh -c 'printf '\\''user = "elastic:%s"\\n'\\'' "$(cat /run/secrets/ELASTICSEARCH_SUPERUSER_PASSWORD)" | curl --silent --show-error --fail --config - ${rest}'`;
    expect(lines(openCrvsSources())).toEqual({
      prepare: [
        es(
          `-X PUT -H '\\''Content-Type: application/json'\\'' --data '\\''{"type":"fs","settings":{"location":"/data/backups/elasticsearch","compress":false}}'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs'\\''`,
        ),
        `(may fail) ${es(`-X DELETE -H '\\''Content-Type: application/json'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs/latest'\\''`)}`,
        es(
          `-X PUT -H '\\''Content-Type: application/json'\\'' --data '\\''{"indices":"ocrvs-*,events_*","include_global_state":false}'\\'' '\\''http://127.0.0.1:9200/_snapshot/crvs/latest?wait_for_completion=true'\\''`,
        ),
        "docker exec '{container:crvs_influxdb}' rm -rf /tmp/crvs-influxdb-backup",
        "docker exec '{container:crvs_influxdb}' influxd backup -portable -host 127.0.0.1:8088 /tmp/crvs-influxdb-backup",
      ],
      sources: [
        ...[
          'hearth-dev',
          'events',
          'user-mgnt',
          'application-config',
          'metrics',
          'webhooks',
          'performance',
          'notification',
          'openhim-dev',
        ].map(mongo),
        "postgres -> postgres-events.sql [pg-copy]: docker exec --user postgres '{container:crvs_postgres}' pg_dump --dbname=events --format=plain",
        "elasticsearch -> elasticsearch-snapshot.tar [none]: docker exec '{container:crvs_elasticsearch}' tar --create --exclude=./crvs-restore --directory /data/backups/elasticsearch .",
        "influxdb -> influxdb-portable.tar [none]: docker exec '{container:crvs_influxdb}' tar --create --directory /tmp/crvs-influxdb-backup .",
        'minio: tree /data/minio (attachments)',
        'metabase: tree /data/metabase (optional)',
      ],
      cleanup: ["docker exec '{container:crvs_influxdb}' rm -rf /tmp/crvs-influxdb-backup"],
      release: undefined,
    });
  });

  it('never puts a password on a command line: secrets are read inside the container', () => {
    const all = JSON.stringify([demoSources(), openCrvsSources()]);
    expect(all).not.toMatch(/--password|PGPASSWORD|-u elastic:/);
  });
});

describe('the backup plan of a data node', () => {
  it('is the demo sources plus the borg commands, the lookup and no secret', () => {
    const parsed = validateSpecText(readFileSync('examples/lab/crvs.yaml', 'utf8'));
    if (!parsed.ok) throw new Error('the lab example does not validate');
    const plan = backupPlan(parsed.spec, 'production', 'ssh://borg@backup-1/srv/borg/repos/production');
    expect({
      create: shellLine(plan.create),
      init: shellLine(plan.init),
      check: shellLine(plan.check),
      lookup: shellLine(plan.containerLookup),
      runDir: plan.runDir,
      releaseFile: plan.releaseFile,
      sources: plan.sources.map((s) => s.name),
    }).toEqual({
      create:
        "borg create --lock-wait 600 --read-special --paths-from-stdin --compression auto,zstd,3 --json 'ssh://borg@backup-1/srv/borg/repos/production::{archive}'",
      init: 'borg init --encryption repokey-blake2 ssh://borg@backup-1/srv/borg/repos/production',
      check:
        "borg list --lock-wait 600 --json --glob-archives 'production-*' ssh://borg@backup-1/srv/borg/repos/production",
      lookup:
        "docker ps --quiet --filter 'label=com.docker.swarm.service.name={service}' --filter status=running",
      runDir: '/run/crvs-backup',
      releaseFile: '/var/lib/crvs/production/release.json',
      sources: ['postgres', 'documents'],
    });
  });
});
