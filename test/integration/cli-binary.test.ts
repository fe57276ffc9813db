import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/paths.js';

// Black-box: the built, installed-style entry point (bin/crvs.js -> dist/), as a user runs it, with a scrubbed env.
const bin = packagePath('bin', 'crvs.js');
const run = (args: string[], cwd = packagePath()) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', CI: 'true' },
  });

describe('the crvs binary', () => {
  it('runs the main job on the embedded example', () => {
    const r = run(['demo']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('valid: ');
    expect(r.stdout).toContain('production x3, staging x1, qa x1, backup x1, jump x1');
    // 45M people: 1,124,955 records; 100 + 1,349.946 + 20.620 GB
    expect(r.stdout).toContain('Application disk      1,470.57 GB');
  });

  it('writes, validates and plans a spec end to end, exit codes included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crvs-bin-'));
    const init = run(
      [
        'init',
        '--yes',
        '--country',
        'FAR',
        '--domain',
        'far.example',
        '--phase',
        'national',
        '-p',
        '61000000',
      ],
      dir,
    );
    expect(init.status).toBe(0);
    expect(readFileSync(join(dir, 'crvs.yaml'), 'utf8')).toContain('name: prod-5');
    expect(run(['validate'], dir).status).toBe(0);
    const plan = JSON.parse(run(['plan', '--json'], dir).stdout);
    expect(plan.servers.production).toBe(5);
    const bad = run(['validate', '/nonexistent/crvs.yaml'], dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('spec file not found: /nonexistent/crvs.yaml');
  });

  it('answers --version with the package version', () => {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8'));
    expect(run(['--version']).stdout.trim()).toBe(pkg.version);
  });
});
