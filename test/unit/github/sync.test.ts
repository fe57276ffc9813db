import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CrvsError } from '../../../src/errors.js';
import { GithubApi, nextLink } from '../../../src/github/api.js';
import {
  type Change,
  planSecrets,
  planVariables,
  readRecord,
  renderSync,
  secretFingerprint,
  syncEnvironment,
} from '../../../src/github/sync.js';
import { Sensitive } from '../../../src/secrets/sensitive.js';
import { GithubApiServer } from '../../support/github-api-server.js';

const s = (v: string, name = 'test') => new Sensitive(v, name);
const actions = (changes: Change[]) => Object.fromEntries(changes.map((c) => [c.name, c.action]));

describe('planning (pure)', () => {
  it('marks secrets absent (+), changed or never recorded (~), unchanged (=) and gone (-? / -)', () => {
    const input = {
      local: new Map([
        ['ALPHA', 'fa'],
        ['BRAVO', 'fb-new'],
        ['CHARLIE', 'fc'],
        ['DELTA', 'fd'],
      ]),
      remote: ['ALPHA', 'BRAVO', 'CHARLIE', 'ECHO'],
      recorded: { ALPHA: 'fa', BRAVO: 'fb-old', ECHO: 'fe' },
    };
    expect(planSecrets({ ...input, prune: false })).toEqual([
      { name: 'ALPHA', action: 'unchanged' },
      { name: 'BRAVO', action: 'update' },
      { name: 'CHARLIE', action: 'update' }, // on GitHub but not in the record: cannot know, upload
      { name: 'DELTA', action: 'add' },
      { name: 'ECHO', action: 'leave' },
    ]);
    expect(actions(planSecrets({ ...input, prune: true }))).toMatchObject({ ECHO: 'delete' });
    // A kept name (CRVS_CI_KEY without --ci-key) is never pruned.
    expect(
      actions(planSecrets({ ...input, remote: ['CRVS_CI_KEY'], prune: true, keep: ['CRVS_CI_KEY'] })),
    ).toEqual({ ALPHA: 'add', BRAVO: 'add', CHARLIE: 'add', DELTA: 'add', CRVS_CI_KEY: 'unchanged' });
  });

  it('compares names the way GitHub stores them, in capitals', () => {
    expect(
      planSecrets({
        local: new Map([['token', 'f']]),
        remote: ['TOKEN'],
        recorded: { TOKEN: 'f' },
        prune: false,
      }),
    ).toEqual([{ name: 'TOKEN', action: 'unchanged' }]);
  });

  it('compares variable values directly', () => {
    expect(
      planVariables(
        { CRVS_ENVIRONMENT: 'qa', CRVS_DOMAIN: 'qa.example', CRVS_COUNTRY: 'FAR' },
        [
          { name: 'CRVS_ENVIRONMENT', value: 'qa' },
          { name: 'CRVS_DOMAIN', value: 'old.example' },
          { name: 'OTHER', value: 'x' },
        ],
        false,
      ),
    ).toEqual([
      { name: 'CRVS_COUNTRY', action: 'add' },
      { name: 'CRVS_DOMAIN', action: 'update' },
      { name: 'CRVS_ENVIRONMENT', action: 'unchanged' },
      { name: 'OTHER', action: 'leave' },
    ]);
    expect(planVariables({}, [{ name: 'OTHER', value: 'x' }], true)).toEqual([
      { name: 'OTHER', action: 'delete' },
    ]);
  });

  it('reads the next page from a Link header', () => {
    expect(
      nextLink(
        '<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last"',
      ),
    ).toBe('https://api.github.com/x?page=3');
    expect(nextLink('<https://api.github.com/x?page=1>; rel="first"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });

  it('renders the plan by name and a summary line', () => {
    const text = renderSync({
      environment: 'production',
      repository: 'o/r',
      dryRun: true,
      environmentCreated: false,
      secrets: [
        { name: 'APP_DB_PASSWORD', action: 'add' },
        { name: 'OLD', action: 'leave' },
        { name: 'POSTGRES_PASSWORD', action: 'unchanged' },
        { name: 'SESSION_SECRET', action: 'update' },
      ],
      variables: [{ name: 'CRVS_DOMAIN', action: 'update' }],
    });
    expect(text).toBe(
      [
        'secrets (o/r, environment production):',
        '  +  APP_DB_PASSWORD',
        '  -? OLD  (not from crvs; left alone, --prune deletes it)',
        '  =  POSTGRES_PASSWORD',
        '  ~  SESSION_SECRET',
        'variables:',
        '  ~  CRVS_DOMAIN',
        'production (dry run, nothing changed): 2 secrets to upload, 1 unchanged, 1 left alone; 1 variable to set, 0 unchanged',
      ].join('\n'),
    );
  });

  it('fingerprints one way: salted by record, environment and name, and without the value in it', async () => {
    const v = s('correct horse battery staple');
    const a = await secretFingerprint('salt1', 'qa', 'X', v);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await secretFingerprint('salt1', 'qa', 'X', v)).toBe(a);
    expect(await secretFingerprint('salt2', 'qa', 'X', v)).not.toBe(a);
    expect(await secretFingerprint('salt1', 'production', 'X', v)).not.toBe(a);
    expect(await secretFingerprint('salt1', 'qa', 'Y', v)).not.toBe(a);
  });
});

describe('syncing against the GitHub API test server', () => {
  let server: GithubApiServer;
  let dir: string;
  let record: string;
  const repo = '/repos/opencrvs-farajaland/farajaland-config';
  const values = {
    ALERT_WEBHOOK_URL: 'https://hooks.example/T000/B000/aVeryPrivateHookValue',
    APP_DB_PASSWORD: 'app-db-Secret-value-1',
    POSTGRES_PASSWORD: 'postgres-Secret-value-2',
    SESSION_SECRET: 'session-Secret-value-3',
    SUPER_USER_PASSWORD: 'super-user-Secret-value-4',
  };
  const variables = { CRVS_ENVIRONMENT: 'qa', CRVS_DOMAIN: 'qa.farajaland.example', CRVS_COUNTRY: 'FAR' };
  const secretsMap = (v: Record<string, string> = values) =>
    new Map(Object.entries(v).map(([k, x]) => [k, s(x, k)]));
  const api = (o: { token?: string; owner?: string; apiUrl?: string } = {}) =>
    new GithubApi(
      {
        owner: o.owner ?? server.owner,
        repository: server.repo,
        apiUrl: o.apiUrl ?? server.url,
      },
      s(o.token ?? server.token, 'github token'),
      'crvs/test',
    );
  const sync = (o: { dryRun?: boolean; prune?: boolean; secrets?: Record<string, string> } = {}, a = api()) =>
    syncEnvironment(
      a,
      { environment: 'qa', secrets: secretsMap(o.secrets), variables, recordFile: record },
      { dryRun: o.dryRun ?? false, prune: o.prune ?? false },
    );
  const listing = (what: string, pages: number) =>
    Array.from(
      { length: pages },
      (_, i) => `GET ${repo}/environments/qa/${what}?per_page=100&page=${i + 1} 200`,
    );

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'crvs-github-unit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await server.close();
    rmSync(join(dir, 'secrets'), { recursive: true, force: true });
  });

  const start = async (maxPerPage = 2) => {
    server = await GithubApiServer.start({ maxPerPage });
    record = join(dir, 'secrets', 'qa.github-sync.json');
  };

  it('creates the environment, seals every secret so that GitHub opens it, and sets the variables', async () => {
    await start();
    const r = await sync();
    expect(r.environmentCreated).toBe(true);
    expect(r.secrets.every((c) => c.action === 'add')).toBe(true);
    expect(r.variables.every((c) => c.action === 'add')).toBe(true);
    for (const [name, value] of Object.entries(values)) expect(server.secretValue('qa', name)).toBe(value);
    expect(server.variables('qa')).toEqual(variables);
    expect(server.log()).toEqual([
      `GET ${repo} 200`,
      `GET ${repo}/environments/qa 404`,
      `PUT ${repo}/environments/qa 200`,
      `GET ${repo}/environments/qa/secrets/public-key 200`,
      ...Object.keys(values).map((n) => `PUT ${repo}/environments/qa/secrets/${n} 201`),
      ...['CRVS_COUNTRY', 'CRVS_DOMAIN', 'CRVS_ENVIRONMENT'].map(
        () => `POST ${repo}/environments/qa/variables 201`,
      ),
    ]);
    for (const req of server.requests) {
      expect(req.authorized).toBe(true);
      expect(req.accept).toBe('application/vnd.github+json');
      expect(req.apiVersion).toBe('2022-11-28');
      expect(req.userAgent).toBe('crvs/test');
    }
    // The record: fingerprints only, no value, no reversible form of one.
    const text = readFileSync(record, 'utf8');
    for (const value of Object.values(values)) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
      expect(text).not.toContain(Buffer.from(value).toString('hex'));
    }
    const doc = JSON.parse(text) as {
      repository: string;
      environment: string;
      secrets: Record<string, string>;
    };
    expect(doc.repository).toBe('opencrvs-farajaland/farajaland-config');
    expect(doc.environment).toBe('qa');
    expect(Object.keys(doc.secrets)).toEqual(Object.keys(values));
    for (const fp of Object.values(doc.secrets)) expect(fp).toMatch(/^[0-9a-f]{32}$/);
  });

  it('follows the pages of secrets and variables (page size forced to 2)', async () => {
    await start(2);
    await sync();
    server.requests.length = 0;
    const r = await sync();
    // 5 secrets: 3 pages; 3 variables: 2 pages.
    expect(server.log()).toEqual([
      `GET ${repo} 200`,
      `GET ${repo}/environments/qa 200`,
      ...listing('secrets', 3),
      ...listing('variables', 2),
    ]);
    expect(r.secrets).toEqual(Object.keys(values).map((name) => ({ name, action: 'unchanged' })));
    expect(r.variables.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  it('uploads nothing the second time, and only the rotated secret after a rotation', async () => {
    await start(100);
    await sync();
    const before = readFileSync(record, 'utf8');
    server.requests.length = 0;
    await sync();
    expect(server.writes()).toEqual([]);
    expect(readFileSync(record, 'utf8')).toBe(before);

    const rotated = { ...values, SESSION_SECRET: 'session-Secret-value-ROTATED' };
    server.requests.length = 0;
    const r = await sync({ secrets: rotated });
    expect(server.writes()).toEqual([`PUT ${repo}/environments/qa/secrets/SESSION_SECRET`]);
    expect(actions(r.secrets)).toMatchObject({ SESSION_SECRET: 'update', APP_DB_PASSWORD: 'unchanged' });
    expect(server.secretValue('qa', 'SESSION_SECRET')).toBe('session-Secret-value-ROTATED');
  });

  it('changes nothing on a dry run: only GET requests, no record', async () => {
    await start();
    const r = await sync({ dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.environmentCreated).toBe(true);
    expect(server.log()).toEqual([`GET ${repo} 200`, `GET ${repo}/environments/qa 404`]);
    expect(existsSync(record)).toBe(false);
    expect(server.environments.size).toBe(0);

    await sync();
    server.seedSecret('qa', 'LEFTOVER', 'x');
    server.requests.length = 0;
    const again = await sync({
      dryRun: true,
      secrets: { ...values, SESSION_SECRET: 'changed-value' },
      prune: true,
    });
    expect(server.writes()).toEqual([]);
    expect(actions(again.secrets)).toMatchObject({ SESSION_SECRET: 'update', LEFTOVER: 'delete' });
    expect(server.secretValue('qa', 'SESSION_SECRET')).toBe(values.SESSION_SECRET);
  });

  it('leaves what the store no longer has, unless --prune', async () => {
    await start();
    await sync();
    server.seedSecret('qa', 'LEFTOVER', 'x');
    server.seedVariable('qa', 'SOMETHING_ELSE', 'y');
    server.requests.length = 0;
    const left = await sync();
    expect(server.writes()).toEqual([]);
    expect(actions(left.secrets).LEFTOVER).toBe('leave');
    expect(actions(left.variables).SOMETHING_ELSE).toBe('leave');
    server.requests.length = 0;
    await sync({ prune: true });
    expect(server.writes()).toEqual([
      `DELETE ${repo}/environments/qa/secrets/LEFTOVER`,
      `DELETE ${repo}/environments/qa/variables/SOMETHING_ELSE`,
    ]);
    expect(server.secretNames('qa')).toEqual(Object.keys(values));
  });

  it('updates a variable whose value changed', async () => {
    await start();
    server.seedVariable('qa', 'CRVS_DOMAIN', 'old.example');
    server.requests.length = 0;
    await sync();
    expect(server.writes().filter((w) => w.includes('/variables'))).toEqual([
      `POST ${repo}/environments/qa/variables`,
      `PATCH ${repo}/environments/qa/variables/CRVS_DOMAIN`,
      `POST ${repo}/environments/qa/variables`,
    ]);
    expect(server.variables('qa')).toEqual(variables);
  });

  it('maps a wrong token to E_GITHUB_AUTH (exit 1) without the token in the message', async () => {
    await start();
    const wrong = 'ghp_wrongTokenValue1234567890';
    const e = (await sync({}, api({ token: wrong })).catch((x: unknown) => x)) as CrvsError;
    expect(e).toBeInstanceOf(CrvsError);
    expect(e.code).toBe('E_GITHUB_AUTH');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe('GitHub rejected the token (401: Bad credentials)');
    expect(e.hint).toContain('gh auth login');
    expect(`${e.message} ${e.hint} ${e.stack}`).not.toContain(wrong);
    expect(server.log()).toEqual([`GET ${repo} 401`]);
    expect(existsSync(record)).toBe(false);
  });

  it('maps an unknown repository to E_GITHUB_NOT_FOUND', async () => {
    await start();
    const e = (await sync({}, api({ owner: 'someone-else' })).catch((x: unknown) => x)) as CrvsError;
    expect(e.code).toBe('E_GITHUB_NOT_FOUND');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(
      'repository someone-else/farajaland-config not found on GitHub (404), or the token cannot see it',
    );
    expect(server.log()).toEqual(['GET /repos/someone-else/farajaland-config 404']);
  });

  it("reports GitHub's 422 for a refused name, and the next run uploads only what was not recorded", async () => {
    await start();
    const bad = { ...values, GITHUB_SOMETHING: 'refused-value' };
    const e = (await sync({ secrets: bad }).catch((x: unknown) => x)) as CrvsError;
    expect(e.code).toBe('E_GITHUB_REJECTED');
    expect(e.message).toBe(
      'GitHub refused secret GITHUB_SOMETHING of environment qa (422: Secret names must not start with GITHUB_.)',
    );
    expect(e.message).not.toContain('refused-value');
    // Uploaded before the failure (alphabetical order): recorded; after it: not.
    expect(Object.keys(JSON.parse(readFileSync(record, 'utf8')).secrets)).toEqual([
      'ALERT_WEBHOOK_URL',
      'APP_DB_PASSWORD',
    ]);
    server.requests.length = 0;
    await sync();
    expect(server.writes()).toEqual([
      `PUT ${repo}/environments/qa/secrets/POSTGRES_PASSWORD`,
      `PUT ${repo}/environments/qa/secrets/SESSION_SECRET`,
      `PUT ${repo}/environments/qa/secrets/SUPER_USER_PASSWORD`,
      ...['CRVS_COUNTRY', 'CRVS_DOMAIN', 'CRVS_ENVIRONMENT'].map(
        () => `POST ${repo}/environments/qa/variables`,
      ),
    ]);
  });

  it('maps an API that does not answer to E_GITHUB_UNREACHABLE', async () => {
    await start();
    const url = server.url;
    await server.close();
    const e = (await sync({}, api({ apiUrl: url })).catch((x: unknown) => x)) as CrvsError;
    expect(e.code).toBe('E_GITHUB_UNREACHABLE');
    expect(e.message).toBe(`cannot reach the GitHub API at ${url}/: ECONNREFUSED`);
  });

  it('ignores a record made for another repository (uploads everything again)', async () => {
    await start();
    await sync();
    const doc = JSON.parse(readFileSync(record, 'utf8'));
    writeFileSync(record, JSON.stringify({ ...doc, repository: 'other/repo' }));
    expect((await readRecord(record, 'opencrvs-farajaland/farajaland-config', 'qa')).secrets).toEqual({});
    server.requests.length = 0;
    const r = await sync();
    expect(r.secrets.every((c) => c.action === 'update')).toBe(true);
    expect(server.writes()).toHaveLength(Object.keys(values).length);
  });
});

describe('the GitHub API test server is strict', () => {
  let server: GithubApiServer;
  beforeAll(async () => {
    server = await GithubApiServer.start();
    server.addEnvironment('qa');
  });
  afterAll(() => server.close());
  const call = (method: string, path: string, body?: unknown, token: string | null = server.token) =>
    fetch(`${server.url}/repos/${server.owner}/${server.repo}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
        'Content-Type': 'application/json',
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  it('requires the token', async () => {
    const none = await call('GET', '', undefined, null);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toBe('Requires authentication');
    const wrong = await call('GET', '', undefined, 'nope');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { message: string }).message).toBe('Bad credentials');
  });

  it('opens sealed boxes and refuses what does not open or names the wrong key', async () => {
    const { key_id } = (await (await call('GET', '/environments/qa/secrets/public-key')).json()) as {
      key_id: string;
    };
    const garbage = Buffer.alloc(80, 7).toString('base64');
    expect(
      (await call('PUT', '/environments/qa/secrets/X', { encrypted_value: garbage, key_id })).status,
    ).toBe(422);
    expect(
      (await call('PUT', '/environments/qa/secrets/X', { encrypted_value: garbage, key_id: '1' })).status,
    ).toBe(422);
    expect((await call('PUT', '/environments/qa/secrets/X', '{not json')).status).toBe(400);
    expect(
      (await call('PUT', '/environments/nope/secrets/X', { encrypted_value: garbage, key_id })).status,
    ).toBe(404);
    expect(server.secretNames('qa')).toEqual([]);
  });

  it('answers 409 for a variable that exists and 422 for a bad name', async () => {
    expect((await call('POST', '/environments/qa/variables', { name: 'a_var', value: '1' })).status).toBe(
      201,
    );
    expect((await call('POST', '/environments/qa/variables', { name: 'A_VAR', value: '2' })).status).toBe(
      409,
    );
    expect((await call('POST', '/environments/qa/variables', { name: '1BAD', value: '2' })).status).toBe(422);
    expect(server.variables('qa')).toEqual({ A_VAR: '1' });
    expect((await call('PATCH', '/environments/qa/variables/MISSING', { value: '2' })).status).toBe(404);
  });
});
