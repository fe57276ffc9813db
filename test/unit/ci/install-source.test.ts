// Installs crvs the way a generated workflow does: from a tarball made by `npm pack`, downloaded over HTTP (a
// loopback server here), checked against its sha512 before npm sees it. Dependencies come from the npm cache
// that `npm ci` filled, so the test needs no network.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCommand } from '../../../src/ci/workflows.js';
import { VERSION } from '../../../src/cli/version.js';

const tmp = mkdtempSync(join(tmpdir(), 'crvs-pack-'));
// npm reads its global settings from <prefix>/etc/npmrc, and the install below moves the prefix: it keeps the
// machine's own file (which may name the CA of a TLS-intercepting proxy; without it every registry request fails
// its certificate check and is retried until the test times out, as on a fresh development machine).
const globalConfig = execFileSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' }).trim();
let tarball = '';
let url = '';
let close: () => void = () => {};

beforeAll(async () => {
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string;
  tarball = join(tmp, name);
  const body = readFileSync(tarball);
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`;
  close = () => server.close();
}, 180_000);
afterAll(() => close());

/** The workflow's install step without its apt-get lines (the runner's system packages). */
async function install(sha512: string) {
  const script = installCommand({ tarball: url, sha512 })
    .split('\n')
    .filter((l) => !l.startsWith('sudo apt-get'))
    .join('\n');
  const runnerTemp = mkdtempSync(join(tmp, 'runner-'));
  const prefix = join(runnerTemp, 'global');
  // Asynchronously: the loopback server answers from this process's event loop.
  const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RUNNER_TEMP: runnerTemp,
      npm_config_prefix: prefix,
      npm_config_globalconfig: globalConfig,
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const status = await new Promise<number | null>((r) => child.on('close', r));
  const r = { status, stdout, stderr };
  return { ...r, bin: join(prefix, 'bin', 'crvs') };
}

describe('installing crvs as the generated workflows do', () => {
  it('installs from the tarball when its sha512 matches', { timeout: 180_000 }, async () => {
    const hex = createHash('sha512').update(readFileSync(tarball)).digest('hex');
    const r = await install(hex);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('crvs.tgz: OK');
    expect(execFileSync(r.bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(VERSION);
  });

  it('refuses a tarball whose sha512 differs, before npm installs anything', {
    timeout: 60_000,
  }, async () => {
    const r = await install('ab'.repeat(64));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('crvs.tgz: FAILED');
    expect(existsSync(r.bin)).toBe(false);
  });
});
