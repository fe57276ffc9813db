import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CommandResult, type CommandSpec, RecordingExecutor } from '../../../src/remote/executor.js';
import { forgetSecrets } from '../../../src/secrets/sensitive.js';
import { resetOpenCrvs, seedOpenCrvs } from '../../../src/usecases/opencrvs-data.js';
import { fakeContext, fakeEffects } from '../helpers/context.js';
import { exampleSpec } from '../helpers/spec.js';

afterEach(() => forgetSecrets());

const store = {
  secrets: Object.fromEntries(
    [
      'MONGODB_ADMIN_PASSWORD',
      'ELASTICSEARCH_SUPERUSER_PASSWORD',
      'MINIO_ROOT_PASSWORD',
      'POSTGRES_PASSWORD',
      'SUPER_USER_PASSWORD',
    ].map((k) => [k, { value: `canary-${k}`, setAt: 'T' }]),
  ),
};
const kept = `services:
  mongo1: { image: mongo:4.4 }
  elasticsearch: { image: docker.elastic.co/elasticsearch/elasticsearch:8.16.4 }
  postgres: { image: postgres:17.6 }
`;

/** Answers a job's run counter with one more at each look, as Swarm does once it ran the job again. */
class CountingRuns extends RecordingExecutor {
  private runs = 0;
  override async run(c: CommandSpec): Promise<CommandResult> {
    const r = await super.run(c);
    return c.argv.join(' ').includes('JobIteration') ? { ...r, stdout: `${this.runs++}\n` } : r;
  }
}

function setup(environment: string, seeded: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'crvs-data-'));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, `secrets/${environment}.age`), 'sealed');
  writeFileSync(join(dir, 'id'), 'key');
  const exec = new CountingRuns([
    { match: /^age --decrypt/, result: { stdout: JSON.stringify(store) } },
    { match: /release\.json/, result: { stdout: '{"version":"v1.9.0","history":["v1.9.0"]}' } },
    { match: /stack-v1\.9\.0\.yml$/, result: { stdout: kept } },
    {
      match: /cat \S+\/seeded\.json$/,
      result: seeded ? { stdout: '{"at":"T","version":"v1.9.0"}' } : { code: 1 },
    },
    { match: /docker service ps/, result: { stdout: 'Complete 1 second ago|\n' } },
    { match: /docker service ls --filter/, result: { stdout: 'crvs_x 0/1 (1/1 completed)\n' } },

    { match: /docker service logs/, result: { stdout: 'done\n' } },
  ]);
  const fx = fakeEffects(exec);
  const c = fakeContext(exampleSpec('pilot'), join(dir, 'crvs.yaml'), environment);
  return { exec, fx, c };
}

describe('opencrvs seed and reset', () => {
  it('reset is refused on production before anything runs', async () => {
    const { exec, fx, c } = setup('production', true);
    await expect(resetOpenCrvs(fx, c)).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(exec.commands).toEqual([]);
  });

  it('seeds once: a recorded seed refuses the second run', async () => {
    const { exec, fx, c } = setup('qa', true);
    await expect(seedOpenCrvs(fx, c)).rejects.toMatchObject({ code: 'E_SEEDED' });
    expect(exec.commands.map((x) => x.description)).toEqual(['read the seed record']);
  });

  it('reset clears what clear-all-data.sh clears, recreates the roles, migrates, seeds and reindexes, in that order', async () => {
    const { exec, fx, c } = setup('qa', false);
    await resetOpenCrvs(fx, c);
    const steps = exec.commands
      .map((x) => x.description ?? '')
      .filter((d) => /^(start job|run |record the seed|forget)/.test(d));
    expect(steps).toEqual([
      'start job crvs_reset_mongo_0',
      'start job crvs_reset_search_0',
      'start job crvs_reset_bucket_0',
      'start job crvs_reset_postgres_0',
      'forget the seed record',
      'run crvs_postgres-on-update again',
      'run crvs_migration again',
      'start job crvs_seed_0',
      'record the seed',
      'start job crvs_reindex_0',
    ]);
    for (const x of exec.commands) expect(x.argv.join(' ')).not.toContain('canary-');
    const seed = exec.commands.find((x) => x.description === 'start job crvs_seed_0');
    expect(seed?.argv[2]).toContain('--env ACTIVATE_USERS=true ');
    expect(seed?.argv[2]).toContain(' ghcr.io/opencrvs/ocrvs-data-seeder:v1.9.0 ');
  });
});
