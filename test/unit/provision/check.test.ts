import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { provision } from '../../../src/provision/run.js';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import { validateSpecText } from '../../../src/config/load.js';

// `crvs provision --check` on servers crvs has or has not provisioned, with a scripted executor (no servers).
const dir = mkdtempSync(join(tmpdir(), 'crvs-check-'));
const specFile = join(dir, 'crvs.yaml');
writeFileSync(specFile, readFileSync('examples/lab/crvs.yaml', 'utf8'));
const parsed = validateSpecText(readFileSync(specFile, 'utf8'));
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const spec = parsed.spec;
const options = {
  specFile,
  environment: 'production',
  identity: join(dir, 'id_ed25519'),
  knownHosts: join(dir, 'known_hosts'),
  check: true,
};
const stats = JSON.stringify({
  event: 'stats',
  hosts: {
    'prod-1': { ok: 80, changed: 1, failures: 0, unreachable: 0, skipped: 9 },
    'prod-2': { ok: 78, changed: 0, failures: 0, unreachable: 0, skipped: 9 },
  },
});

describe('provision --check', () => {
  it('refuses servers that do not answer as the automation user, before Ansible runs', async () => {
    const exec = new RecordingExecutor([{ match: /crvs@10\.77\.0\.22 true$/, result: { code: 255 } }]);
    await expect(provision({ exec, progress: () => {} }, spec, options)).rejects.toMatchObject({
      code: 'E_CHECK_UNPROVISIONED',
      message:
        '--check compares provisioned servers with the spec, and prod-2 does not answer as crvs yet: ' +
        'never provisioned (everything would change), or unreachable',
    });
    expect(exec.lines().some((l) => l.startsWith('ansible-playbook'))).toBe(false);
  });

  it('runs the playbook in check mode once every server answers as the automation user', async () => {
    const exec = new RecordingExecutor([{ match: 'ansible-playbook', result: { stdout: `${stats}\n` } }]);
    const progress: string[] = [];
    const r = await provision({ exec, progress: (l) => progress.push(l) }, spec, options);
    // No store next to this spec: the alert webhook the spec names is missing, and the run says so.
    expect(progress).toContain(
      'warning: ALERT_WEBHOOK_URL not in the production secrets store: SSH logins on production are not posted ' +
        'there (crvs secrets init production)',
    );
    const playbook = exec.lines().filter((l) => l.startsWith('ansible-playbook'));
    expect(playbook).toHaveLength(1);
    expect(playbook[0]).toContain(' --check ');
    expect(r.connectedAs).toEqual({ 'prod-1': 'crvs', 'prod-2': 'crvs' });
    expect(r.stats['prod-1']?.changed).toBe(1);
  });
});
