import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readComposeInputs } from '../../../src/config/compose-inputs.js';
import { readLock, sha256 } from '../../../src/config/compose-lock.js';
import type { Spec } from '../../../src/config/schema.js';
import type { CrvsError } from '../../../src/errors.js';
import { RecordingExecutor } from '../../../src/remote/executor.js';
import { forgetSecrets } from '../../../src/secrets/sensitive.js';
import { planDeploy } from '../../../src/usecases/deploy.js';
import { lockCore } from '../../../src/usecases/stack.js';
import { CORE, countryRepository } from '../../support/opencrvs-fixture.js';
import { fakeContext, fakeEffects } from '../helpers/context.js';
import { exampleSpec } from '../helpers/spec.js';

afterEach(() => forgetSecrets());

const failure = (f: () => unknown): CrvsError => {
  try {
    f();
  } catch (e) {
    return e as CrvsError;
  }
  throw new Error('expected a failure');
};

function deployStopsEarly(spec: Spec, specFile: string): Promise<{ error: CrvsError; commands: number }> {
  const exec = new RecordingExecutor();
  const fx = fakeEffects(exec);
  const c = fakeContext(spec, specFile, 'production');
  return planDeploy(fx, c, 'v1.9.0').then(
    () => {
      throw new Error('expected a failure');
    },
    (error: CrvsError) => ({ error, commands: exec.commands.length }),
  );
}

describe('broken or missing compose inputs stop before anything is contacted (exit 2)', () => {
  const spec = exampleSpec('pilot');

  it('reads core from the lock and the country files from infrastructure/', () => {
    const file = countryRepository();
    const inputs = readComposeInputs(spec, file, 'production', 'v1.9.0');
    expect(inputs.files.map((f) => f.file.slice(dirname(file).length + 1))).toEqual([
      'vendor/opencrvs-core/v1.9.0/docker-compose.deps.yml',
      'vendor/opencrvs-core/v1.9.0/docker-compose.yml',
      'infrastructure/docker-compose.deploy.yml',
      'infrastructure/docker-compose.production-deploy.yml',
    ]);
  });

  it('no country compose file: names the file and what to do; deploy runs no command', async () => {
    const file = countryRepository();
    rmSync(join(dirname(file), 'infrastructure/docker-compose.production-deploy.yml'));
    const e = failure(() => readComposeInputs(spec, file, 'production', 'v1.9.0'));
    expect([e.code, e.exitCode]).toEqual(['E_COMPOSE_INPUT', 2]);
    expect(e.message).toBe(
      `${dirname(file)}/infrastructure/docker-compose.production-deploy.yml is missing: the opencrvs preset renders the country's own compose files`,
    );
    expect(e.hint).toContain('put the infrastructure folder of your country configuration repository');
    const d = await deployStopsEarly(spec, file);
    expect([d.error.code, d.commands]).toEqual(['E_COMPOSE_INPUT', 0]);
  });

  it('an unknown core version: not in the lock, and no folder named', async () => {
    const file = countryRepository();
    const e = failure(() => readComposeInputs(spec, file, 'production', 'v9.9.9'));
    expect(e.code).toBe('E_COMPOSE_INPUT');
    expect(e.message).toMatch(
      /^opencrvs-core v9\.9\.9 is not locked: .*crvs\.lock\.json has no docker-compose\.deps\.yml for it$/,
    );
    expect(e.hint).toBe(
      "crvs stack lock --version v9.9.9 (fetches and pins it), or set stack.compose.core to a folder holding core's compose files",
    );
  });

  it('a checksum mismatch in the lock file: names the file, both digests and what to do', async () => {
    const file = countryRepository();
    const kept = join(dirname(file), 'vendor/opencrvs-core/v1.9.0/docker-compose.yml');
    const before = sha256(readFileSync(kept, 'utf8'));
    writeFileSync(kept, `${readFileSync(kept, 'utf8')}# edited\n`);
    const e = failure(() => readComposeInputs(spec, file, 'production', 'v1.9.0'));
    expect(e.code).toBe('E_COMPOSE_INPUT');
    expect(e.message).toBe(
      `${kept} does not match crvs.lock.json: sha256 ${sha256(readFileSync(kept, 'utf8'))}, locked ${before}`,
    );
    const d = await deployStopsEarly(spec, file);
    expect([d.error.code, d.commands]).toEqual(['E_COMPOSE_INPUT', 0]);
  });
});

describe('crvs stack lock', () => {
  /** A loopback server standing in for raw.githubusercontent.com: serves core's fixtures under /<tag>/. */
  async function server(files: Record<string, string>) {
    const requests: string[] = [];
    const s = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = files[req.url ?? ''];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' });
      res.end(body ?? 'not found');
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/{version}/`;
    return { url, requests, close: () => new Promise((r) => s.close(r)) };
  }
  const core = (name: string) => readFileSync(join(CORE, name), 'utf8');

  it('fetches core compose files over HTTP once, keeps them beside crvs.yaml and pins their sha256', async () => {
    const files = {
      '/v1.9.0/docker-compose.deps.yml': core('docker-compose.deps.yml'),
      '/v1.9.0/docker-compose.yml': core('docker-compose.yml'),
    };
    const srv = await server(files);
    try {
      const specFile = join(dirname(countryRepository({ version: 'v0.0.1' })), 'crvs.yaml');
      const spec = exampleSpec('pilot');
      spec.stack.compose.coreUrl = srv.url;
      const s = { spec, specFile, identity: '', knownHosts: '' };
      const r = await lockCore(s, 'v1.9.0');
      expect(srv.requests).toEqual(['/v1.9.0/docker-compose.deps.yml', '/v1.9.0/docker-compose.yml']);
      expect(readLock(specFile)['opencrvs-core']['v1.9.0']).toEqual({
        'docker-compose.deps.yml': {
          url: `${srv.url.replace('{version}', 'v1.9.0')}docker-compose.deps.yml`,
          sha256: sha256(core('docker-compose.deps.yml')),
          path: 'vendor/opencrvs-core/v1.9.0/docker-compose.deps.yml',
        },
        'docker-compose.yml': {
          url: `${srv.url.replace('{version}', 'v1.9.0')}docker-compose.yml`,
          sha256: sha256(core('docker-compose.yml')),
          path: 'vendor/opencrvs-core/v1.9.0/docker-compose.yml',
        },
      });
      expect(r.files.map((f) => f.changed)).toEqual([true, true]);
      expect(readComposeInputs(spec, specFile, 'production', 'v1.9.0').files).toHaveLength(4);

      // The tag moved upstream: refused without --update.
      files['/v1.9.0/docker-compose.yml'] += '# moved\n';
      await expect(lockCore(s, 'v1.9.0')).rejects.toThrow(/docker-compose\.yml changed since it was locked/);
      expect((await lockCore(s, 'v1.9.0', { update: true })).files.map((f) => f.changed)).toEqual([
        false,
        true,
      ]);

      // A tag the server does not have.
      await expect(lockCore(s, 'v9.9.9')).rejects.toMatchObject({ code: 'E_LOCK_FETCH' });
    } finally {
      await srv.close();
    }
  });
});
