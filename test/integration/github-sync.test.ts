import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { specPaths } from '../../src/config/environment.js';
import { packagePath } from '../../src/paths.js';
import { ProcessExecutor } from '../../src/remote/executor.js';
import { SecretStore } from '../../src/secrets/store.js';
import { GithubApiServer } from '../support/github-api-server.js';
import { crvs } from '../unit/helpers/cli.js';
import { keygen as keygenIn, labSpecWithAdmins } from './helpers/spec-file.js';

// `crvs github sync` end to end: a real age store with throw-away SSH keys made here, the CLI in-process and as
// the built binary (run `npm run build` first), against the GitHub API test server (the project's only test
// double). No lab, no docker. A canary value goes through sync and through the error paths; it must never
// show in output, in any file in clear, or on the command line of any child process.
const CANARY = `canary-gh-${Date.now().toString(36)}-Qw8rT3yZpL`;
const WRONG_TOKEN = `ghp_wrong${Date.now().toString(36)}Xy7Kq2`;
const dir = mkdtempSync(join(tmpdir(), 'crvs-github-sync-test-'));
const specFile = join(dir, 'crvs.yaml');
const shims = join(dir, 'bin');
const argvLog = join(dir, 'argv.log');
const key = (name: string) => join(dir, name);
const repo = '/repos/opencrvs-farajaland/farajaland-config';
const bin = packagePath('bin', 'crvs.js');

let server: GithubApiServer;
const outputs: string[] = [];
const record = <R extends { stdout: string; stderr: string }>(r: R): R => {
  outputs.push(r.stdout, r.stderr);
  return r;
};

const keygen = (name: string) => keygenIn(dir, name);

/** The lab example with alice as the only admin and, unless `github` is null, a github section. */
function writeSpec(file: string, github: { apiUrl: string } | null): void {
  const section = github
    ? `\ngithub:\n  owner: ${server.owner}\n  repository: ${server.repo}\n  apiUrl: ${github.apiUrl}\n`
    : '';
  writeFileSync(
    file,
    `${labSpecWithAdmins([{ name: 'alice', publicKey: `${key('alice')}.pub` }])}${section}`,
  );
}

const childEnv = (extra: Record<string, string> = {}) => ({
  PATH: `${shims}:${process.env.PATH ?? ''}`,
  HOME: dir,
  ARGV_LOG: argvLog,
  ...extra,
});

/** The CLI in-process, with captured output. */
const sync = async (
  args: string[],
  env: Record<string, string> = { GITHUB_TOKEN: server.token },
  spec = specFile,
) =>
  record(
    await crvs(['github', 'sync', 'qa', ...args, '--spec', spec, '--identity', key('alice')], {
      env: childEnv(env),
      cwd: dir,
    }),
  );

/** The built binary as a child process. Asynchronous: the test server answers from this very process. */
function binary(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...childEnv(env), CI: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(record({ code, stdout, stderr })));
  });
}

async function storeValues(): Promise<Record<string, string>> {
  const secrets = await new SecretStore(new ProcessExecutor(), specPaths(specFile).store('qa'), 'qa').load(
    key('alice'),
  );
  return Object.fromEntries([...secrets].map(([name, s]) => [name, s.value.reveal()]));
}

const recordFile = join(dir, 'secrets', 'qa.github-sync.json');
const lastLine = (s: string) => s.trimEnd().split('\n').at(-1);

beforeAll(async () => {
  mkdirSync(shims);
  // age through a shim that logs its argv first (the real program does the work).
  const real = spawnSync('sh', ['-c', 'command -v age'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(shims, 'age'), `#!/bin/sh\nprintf '%s\\n' "age $*" >> "$ARGV_LOG"\nexec ${real} "$@"\n`);
  chmodSync(join(shims, 'age'), 0o755);
  vi.stubEnv('PATH', `${shims}:${process.env.PATH ?? ''}`);
  vi.stubEnv('ARGV_LOG', argvLog);
  server = await GithubApiServer.start({ maxPerPage: 2 });
  keygen('alice');
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'ci.pub'), `${keygen('ci')}\n`);
  writeSpec(specFile, { apiUrl: server.url });
  const init = record(
    await crvs(['secrets', 'init', 'qa', '--spec', specFile, '--identity', key('alice')], {
      env: childEnv({ CRVS_SECRET_ALERT_WEBHOOK_URL: CANARY }),
      cwd: dir,
    }),
  );
  expect(init.code, init.stderr).toBe(0);
});

afterAll(async () => {
  await server?.close();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('crvs github sync', () => {
  const names = [
    'ALERT_WEBHOOK_URL',
    'APP_DB_PASSWORD',
    'BACKUP_ENCRYPTION_PASSPHRASE',
    'POSTGRES_PASSWORD',
    'SESSION_SECRET',
    'SUPER_USER_PASSWORD',
  ];
  const variables = { CRVS_COUNTRY: 'FAR', CRVS_DOMAIN: 'qa.lab.crvs.test', CRVS_ENVIRONMENT: 'qa' };

  it('shows the plan by name on a dry run and changes nothing', async () => {
    expect(Object.keys(await storeValues()).sort()).toEqual(names);
    const r = await sync(['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'opencrvs-farajaland/farajaland-config, environment qa: does not exist yet; would be created',
        'secrets (opencrvs-farajaland/farajaland-config, environment qa):',
        ...names.map((n) => `  +  ${n}`),
        'variables:',
        ...Object.keys(variables).map((n) => `  +  ${n}`),
        'qa (dry run, nothing changed): 6 secrets to upload, 0 unchanged; 3 variables to set, 0 unchanged',
        '',
      ].join('\n'),
    );
    expect(server.log()).toEqual([`GET ${repo} 200`, `GET ${repo}/environments/qa 404`]);
    expect(existsSync(recordFile)).toBe(false);
  });

  it("creates the environment and uploads every secret and the CI key, sealed; GitHub opens them to the store's values", async () => {
    server.requests.length = 0;
    const r = await sync(['--ci-key', key('ci'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      environment: 'qa',
      repository: 'opencrvs-farajaland/farajaland-config',
      dryRun: false,
      environmentCreated: true,
      secrets: ['CRVS_CI_KEY', ...names].sort().map((name) => ({ name, action: 'add' })),
      variables: Object.keys(variables).map((name) => ({ name, action: 'add' })),
    });
    const values = await storeValues();
    expect(values.ALERT_WEBHOOK_URL).toBe(CANARY);
    for (const [name, value] of Object.entries(values)) expect(server.secretValue('qa', name)).toBe(value);
    expect(server.secretValue('qa', 'CRVS_CI_KEY')).toBe(readFileSync(key('ci'), 'utf8'));
    expect(server.variables('qa')).toEqual(variables);
    expect(server.writes()).toEqual([
      `PUT ${repo}/environments/qa`,
      ...['CRVS_CI_KEY', ...names].sort().map((n) => `PUT ${repo}/environments/qa/secrets/${n}`),
      ...Object.keys(variables).map(() => `POST ${repo}/environments/qa/variables`),
    ]);
    const doc = JSON.parse(readFileSync(recordFile, 'utf8')) as { secrets: Record<string, string> };
    expect(Object.keys(doc.secrets)).toEqual(['CRVS_CI_KEY', ...names].sort());
  });

  it('uploads nothing the second time (the CI key is kept without --ci-key), following every page', async () => {
    server.requests.length = 0;
    const before = readFileSync(recordFile, 'utf8');
    const r = await sync([]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastLine(r.stdout)).toBe('qa: 0 secrets uploaded, 7 unchanged; 0 variables set, 3 unchanged');
    expect(server.writes()).toEqual([]);
    // 7 secrets at 2 a page: 4 pages; 3 variables: 2.
    expect(server.log()).toEqual([
      `GET ${repo} 200`,
      `GET ${repo}/environments/qa 200`,
      ...[1, 2, 3, 4].map((p) => `GET ${repo}/environments/qa/secrets?per_page=100&page=${p} 200`),
      ...[1, 2].map((p) => `GET ${repo}/environments/qa/variables?per_page=100&page=${p} 200`),
    ]);
    expect(readFileSync(recordFile, 'utf8')).toBe(before);
  });

  it('uploads only the secret that was rotated', async () => {
    const rotate = record(
      await crvs(
        ['secrets', 'rotate', 'qa', 'SESSION_SECRET', '--spec', specFile, '--identity', key('alice')],
        {
          env: childEnv(),
          cwd: dir,
        },
      ),
    );
    expect(rotate.code, rotate.stderr).toBe(0);
    server.requests.length = 0;
    const r = await sync([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  ~  SESSION_SECRET\n');
    expect(lastLine(r.stdout)).toBe('qa: 1 secret uploaded, 6 unchanged; 0 variables set, 3 unchanged');
    expect(server.writes()).toEqual([`PUT ${repo}/environments/qa/secrets/SESSION_SECRET`]);
    expect(server.secretValue('qa', 'SESSION_SECRET')).toBe((await storeValues()).SESSION_SECRET);
  });

  it('fails clearly on a wrong token, an unreachable API, no token at all, no github section or a bad flag', async () => {
    const hint =
      'hint: set GITHUB_TOKEN (or GH_TOKEN) to a token that may administer the repository, or run `gh auth login`';
    const wrong = await sync([], { GITHUB_TOKEN: WRONG_TOKEN });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toBe(
      `error [E_GITHUB_AUTH]: GitHub rejected the token (401: Bad credentials)\n${hint}\n`,
    );
    const verbose = await sync(['--verbose'], { GH_TOKEN: WRONG_TOKEN });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toContain('GitHub rejected the token (401: Bad credentials)');

    const closed = await GithubApiServer.start();
    const deadUrl = closed.url;
    await closed.close();
    const unreachableSpec = join(dir, 'crvs-unreachable.yaml');
    writeSpec(unreachableSpec, { apiUrl: deadUrl });
    const unreachable = await sync(['--verbose'], { GITHUB_TOKEN: server.token }, unreachableSpec);
    expect(unreachable.code).toBe(1);
    // --verbose shows every command crvs runs (opening the store), never a value; then the error.
    expect(unreachable.stderr.split('\n')[0]).toMatch(/^\$ age --decrypt --identity /);
    expect(unreachable.stderr.split('\n').find((l) => l.startsWith('error'))).toBe(
      `error [E_GITHUB_UNREACHABLE]: cannot reach the GitHub API at ${deadUrl}/: ECONNREFUSED`,
    );

    // No GITHUB_TOKEN, no GH_TOKEN, and no gh on this PATH (only the age shim).
    const none = record(
      await crvs(['github', 'sync', 'qa', '--spec', specFile, '--identity', key('alice')], {
        env: { PATH: shims, HOME: dir, ARGV_LOG: argvLog },
        cwd: dir,
      }),
    );
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `error [E_PRECONDITION]: no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset and gh is not installed\n${hint}\n`,
    );

    const noGithubSpec = join(dir, 'crvs-no-github.yaml');
    writeSpec(noGithubSpec, null);
    const noGithub = await sync([], { GITHUB_TOKEN: server.token }, noGithubSpec);
    expect(noGithub.code).toBe(2);
    expect(noGithub.stderr.split('\n')[0]).toBe(`error [E_USAGE]: ${noGithubSpec} has no github section`);

    const publicKey = await sync(['--ci-key', join(dir, 'secrets', 'ci.pub')]);
    expect(publicKey.code).toBe(2);
    expect(publicKey.stderr.split('\n')[0]).toBe(
      `error [E_USAGE]: ${join(dir, 'secrets', 'ci.pub')} is not a private key`,
    );

    const backup = record(
      await crvs(['github', 'sync', 'backup', '--spec', specFile], {
        env: childEnv({ GITHUB_TOKEN: server.token }),
      }),
    );
    expect(backup.code).toBe(2);
    expect(backup.stderr.split('\n')[0]).toBe('error [E_USAGE]: backup is not an environment CI deploys to');
  });

  it('works the same from the built binary, success and failure', async () => {
    if (!existsSync(packagePath('dist', 'cli', 'github.js')))
      throw new Error('dist/ is not built or is stale: run npm run build first');
    server.requests.length = 0;
    const args = ['github', 'sync', 'qa', '--spec', specFile, '--identity', key('alice')];
    const ok = await binary([...args, '--json'], { GITHUB_TOKEN: server.token });
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout) as { secrets: { action: string }[]; variables: { action: string }[] };
    expect(doc.secrets.map((s) => s.action)).toEqual(Array(7).fill('unchanged'));
    expect(doc.variables.map((s) => s.action)).toEqual(Array(3).fill('unchanged'));
    expect(server.writes()).toEqual([]);

    const wrong = await binary([...args, '--verbose'], { GITHUB_TOKEN: WRONG_TOKEN });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('error [E_GITHUB_AUTH]: GitHub rejected the token (401: Bad credentials)');
    const unreachable = await binary(
      ['github', 'sync', 'qa', '--spec', join(dir, 'crvs-unreachable.yaml'), '--identity', key('alice')],
      { GITHUB_TOKEN: server.token },
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('error [E_GITHUB_UNREACHABLE]');
  });

  it('never printed the canary or a token, never passed them on a command line, never left them on disk', async () => {
    const values = await storeValues();
    const ciKey = readFileSync(key('ci'), 'utf8');
    expect(outputs.length).toBeGreaterThan(20);
    for (const o of outputs) {
      expect(o).not.toContain(CANARY);
      expect(o).not.toContain(server.token);
      expect(o).not.toContain(WRONG_TOKEN);
    }
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv).toContain('age --decrypt --identity');
    for (const secret of [CANARY, server.token, WRONG_TOKEN]) expect(argv).not.toContain(secret);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.map((f) => f.name)).toContain('qa.github-sync.json');
    for (const f of files) {
      const text = readFileSync(join(f.parentPath, f.name), 'utf8');
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(server.token);
    }
    const recordText = readFileSync(recordFile, 'utf8');
    for (const v of [...Object.values(values), ciKey]) expect(recordText).not.toContain(v);
    // What GitHub holds is the canary itself, in the server's memory only.
    expect(server.secretValue('qa', 'ALERT_WEBHOOK_URL')).toBe(CANARY);
  });
});
