import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/paths.js';

// Black-box: the built, installed-style entry point (bin/crvs.js -> dist/), as a user runs it, with a scrubbed env.
const bin = packagePath('bin', 'crvs.js');
/** Running, and not a zombie waiting for a parent to collect it (in a container, PID 1 may never). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const run = (args: string[], cwd = packagePath()) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', CI: 'true' },
  });

describe('the crvs binary', () => {
  it('validates and sizes the embedded national example', () => {
    const spec = packagePath('examples', 'national', 'crvs.yaml');
    const valid = run(['validate', spec]);
    expect(valid.status).toBe(0);
    expect(valid.stdout).toContain('valid: ');
    expect(valid.stdout).toContain('production x3, staging x1, qa x1, backup x1, jump x1');
    const plan = run(['plan', '--spec', spec]);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('production         3         3  16 GB     8  1,470.57 GB');
    // 45M people: 1,124,955 records; 100 + 1,349.946 + 20.620 GB
    expect(plan.stdout).toContain('Application disk      1,470.57 GB');
  });

  it('explains the main job before running it', () => {
    const help = run(['demo', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(
      'The whole rehearsal on the local lab: lab up, provision every environment,',
    );
    expect(help.stdout).toContain('crvs demo');
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

  it('ends quietly when the reader of its output closes the pipe at once', async () => {
    // The read end is closed before crvs (still starting node) writes its help: every write meets EPIPE.
    const child = spawn(process.execPath, [bin, '--help'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', CI: 'true' },
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('stopped by SIGTERM (a CI job that times out), it first ends the commands it runs, then exits 143', async () => {
    // A stand-in ssh-keyscan that never answers: the command crvs hostkeys runs, found first on PATH.
    const dir = mkdtempSync(join(tmpdir(), 'crvs-signal-'));
    const pidFile = join(dir, 'keyscan.pid');
    writeFileSync(join(dir, 'ssh-keyscan'), `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 300\n`, {
      mode: 0o755,
    });
    const child = spawn(
      process.execPath,
      [bin, 'hostkeys', 'qa', '--spec', packagePath('examples', 'lab', 'crvs.yaml')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: `${dir}:${process.env.PATH ?? ''}`, CI: 'true' },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    child.kill('SIGTERM');
    expect(await closed).toBe(143);
    expect(stderr).toContain('crvs: stopped by SIGTERM; ended 1 running command(s)');
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it('answers --version with the package version', () => {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8'));
    expect(run(['--version']).stdout.trim()).toBe(pkg.version);
  });
});
