import { describe, expect, it } from 'vitest';
import { restorePlan, tasksConverged } from '../../../src/backup/restore-plan.js';
import { cmd } from '../../../src/remote/shell.js';

const shellLine = (argv: string[]) => cmd(...argv);

const plan = restorePlan({
  environment: 'staging',
  source: 'production',
  repository: 'ssh://borg@backup-1/srv/borg/repos/production',
  staleAfterMinutes: 1560,
});
const R = 'ssh://borg@backup-1/srv/borg/repos/production';
const PSQL =
  "docker exec --user postgres '{container:crvs_db}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet";

describe('the restore drill of staging', () => {
  it('verifies the newest archive of production before anything else', () => {
    expect([plan.list, plan.check, plan.manifest].map(shellLine)).toEqual([
      `borg list --lock-wait 600 --json --glob-archives 'production-*' ${R}`,
      `borg check --lock-wait 600 --archives-only '${R}::{archive}'`,
      `borg extract --lock-wait 600 --stdout '${R}::{archive}' run/crvs-backup/crvs-manifest.json`,
    ]);
    expect(plan.staleAfterMinutes).toBe(1560);
  });

  it('restores the dump into a scratch database as the app role, from a stream, and counts its rows', () => {
    expect(
      Object.values(plan.dump)
        .slice(1)
        .map((a) => shellLine(a as string[])),
    ).toEqual([
      `borg extract --lock-wait 600 --stdout '${R}::{archive}' run/crvs-backup/postgres-crvs.sql`,
      `${PSQL} --dbname=postgres '--command=DROP DATABASE IF EXISTS crvs_restore_check WITH (FORCE)'`,
      `${PSQL} --dbname=postgres '--command=CREATE DATABASE crvs_restore_check OWNER app'`,
      "docker exec --interactive --user postgres '{container:crvs_db}' psql --no-psqlrc --set=ON_ERROR_STOP=1 --quiet --single-transaction --dbname=crvs_restore_check '--command=SET ROLE app' --file=-",
      `${PSQL} --tuples-only --no-align --dbname=crvs_restore_check '--command=SELECT table_schema || '\\''.'\\'' || table_name, (xpath('\\''/row/c/text()'\\'', query_to_xml(format('\\''SELECT count(*) AS c FROM %I.%I'\\'', table_schema, table_name), false, true, '\\'''\\'')))[1]::text FROM information_schema.tables WHERE table_type = '\\''BASE TABLE'\\'' AND table_schema NOT IN ('\\''pg_catalog'\\'', '\\''information_schema'\\'') ORDER BY 1'`,
    ]);
  });

  it('extracts the attachments beside the live ones, file names only', () => {
    expect(shellLine(plan.attachments.extract)).toBe(
      `borg extract --lock-wait 600 --strip-components 6 '${R}::{archive}' var/lib/docker/volumes/crvs_documents/_data`,
    );
    expect([plan.attachments.into, plan.attachments.live]).toEqual([
      '/var/lib/docker/volumes/crvs_documents/_data.restore',
      '/var/lib/docker/volumes/crvs_documents/_data',
    ]);
  });

  it('swaps only with the app stopped, keeping the previous database', () => {
    const s = plan.swap;
    expect(s.services).toEqual(['crvs_app', 'crvs_documents']);
    expect(
      [s.replicas, s.scale, s.tasks, s.terminate, s.dropPrevious, s.renameLive, s.renameScratch].map(
        shellLine,
      ),
    ).toEqual([
      "docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' '{service}'",
      // Detached: crvs-restore polls the tasks (next line) instead of sitting out Swarm's update monitor.
      "docker service scale --detach '{service}={replicas}'",
      "docker service ps --format '{{.CurrentState}}' '{service}'",
      `${PSQL} --dbname=postgres '--command=SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\\''crvs'\\'' AND pid <> pg_backend_pid()'`,
      `${PSQL} --dbname=postgres '--command=DROP DATABASE IF EXISTS crvs_before_restore WITH (FORCE)'`,
      `${PSQL} --dbname=postgres '--command=ALTER DATABASE crvs RENAME TO crvs_before_restore'`,
      `${PSQL} --dbname=postgres '--command=ALTER DATABASE crvs_restore_check RENAME TO crvs'`,
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
