import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backupPlan } from '../../../src/backup/plan.js';
import { restorePlan } from '../../../src/backup/restore-plan.js';
import { validateSpecText } from '../../../src/config/load.js';
import { packagePath } from '../../../src/paths.js';

// The runners on the servers are Python and read the plans crvs renders: every top-level key they read must be
// one the plan has, so that renaming a field in TypeScript fails here rather than on a server at night.
const keysRead = (file: string) =>
  [
    ...readFileSync(packagePath('ansible', 'roles', ...file.split('/')), 'utf8').matchAll(
      /plan(?:\["|\.get\(")(\w+)"/g,
    ),
  ]
    .map((m) => m[1] as string)
    .filter((k, i, all) => all.indexOf(k) === i)
    .sort();

const parsed = validateSpecText(readFileSync('examples/lab/crvs.yaml', 'utf8'));
if (!parsed.ok) throw new Error('the lab example does not validate');

describe('runner contracts', () => {
  it('crvs-backup reads only keys of the backup plan', () => {
    const plan = backupPlan(parsed.spec, 'production', 'ssh://borg@backup-1/srv/borg/repos/production');
    const read = keysRead('crvs_backup_client/files/crvs-backup');
    expect(read.filter((k) => !(k in plan))).toEqual([]);
    expect(read.length).toBeGreaterThan(8);
  });

  it('crvs-restore reads only keys of the restore plan', () => {
    const plan = restorePlan({
      environment: 'staging',
      source: 'production',
      repository: 'ssh://borg@backup-1/srv/borg/repos/production',
      staleAfterMinutes: 1560,
      preset: 'demo',
      encrypted: true,
    });
    expect(plan.dataVolume).toBe('/data');
    const read = keysRead('crvs_backup_restore/files/crvs-restore');
    expect(read.filter((k) => !(k in plan))).toEqual([]);
    expect(read.length).toBeGreaterThan(8);
  });
});
