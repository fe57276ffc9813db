// THE ONLY STAND-IN FOR A SERVICE in the integration tests: everything else there is real (age, ssh-keygen,
// OpenSSH, Ansible, Docker on the lab's servers); GitHub cannot be, so this stands in for the slice of its REST
// API that `crvs github sync` uses. (Unit tests also replace processes: `RecordingExecutor` records the commands
// that would run ssh, docker or ansible-playbook and answers from a script, so that builders and use cases are
// checked without any server; what those commands really do is proven by the integration tests.)
//
// It follows the documented contract (docs.github.com/en/rest, API version 2022-11-28) and is strict about it:
//   - every request needs `Authorization: Bearer <token>` (or `token <token>`) with the one valid token:
//     401 "Requires authentication" without one, 401 "Bad credentials" with another; an unknown
//     X-GitHub-Api-Version is a 400;
//   - GET /repos/{owner}/{repo}: 404 for any other repository;
//   - GET|PUT /repos/{owner}/{repo}/environments/{environment_name}: 404 for an unknown one; PUT creates it
//     (200) with its own Curve25519 key pair;
//   - GET .../environments/{env}/secrets/public-key → {key_id, key};
//   - GET .../environments/{env}/secrets and .../variables: paginated by per_page/page with a Link header
//     (rel="next", "last", "first", "prev") and total_count; the page size is capped at `maxPerPage` (GitHub: 100)
//     so that tests can prove a client follows the pages;
//   - PUT .../secrets/{secret_name} {encrypted_value, key_id}: 422 for an invalid name, a name starting with
//     GITHUB_, a key_id that is not the environment's or a sealed box that does not open with the environment's
//     private key; 201 created, 204 updated. The box is opened here and the plaintext kept in memory, so that
//     tests can check what GitHub would hold;
//   - DELETE .../secrets/{secret_name}: 204, or 404;
//   - POST .../variables {name, value}: 201, 409 when it exists, 422 for an invalid name;
//     GET|PATCH|DELETE .../variables/{name}: 200 / 204 / 204, or 404;
//   - names of secrets and variables are kept in capitals, as GitHub does;
//   - anything else is a 404, as on GitHub; a body that is not JSON is a 400.
// Every request is recorded (method, path with query, status, headers that matter) for assertions.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

type Sodium = typeof import('libsodium-wrappers');
// libsodium-wrappers 0.7.16's ESM build imports a file it does not ship; the CommonJS build works.
const sodium = createRequire(import.meta.url)('libsodium-wrappers') as Sodium;

const API_VERSIONS = ['2022-11-28', '2026-03-10'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. /repos/o/r/environments/qa/secrets?per_page=100&page=1 */
  path: string;
  status: number;
  authorized: boolean;
  accept: string | undefined;
  apiVersion: string | undefined;
  userAgent: string | undefined;
}

interface Entry {
  value: string;
  created_at: string;
  updated_at: string;
}

interface Environment {
  name: string;
  created_at: string;
  keyId: string;
  publicKey: Uint8Array;
  privateKey: Uint8Array;
  secrets: Map<string, Entry>;
  variables: Map<string, Entry>;
}

export interface GithubApiServerOptions {
  owner?: string;
  repo?: string;
  token?: string;
  /** Largest page the server hands out (GitHub: 100). */
  maxPerPage?: number;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class GithubApiServer {
  readonly owner: string;
  readonly repo: string;
  readonly token: string;
  readonly maxPerPage: number;
  readonly requests: RecordedRequest[] = [];
  readonly environments = new Map<string, Environment>();
  #server: Server | undefined;
  #url = '';

  private constructor(o: GithubApiServerOptions) {
    this.owner = o.owner ?? 'opencrvs-farajaland';
    this.repo = o.repo ?? 'farajaland-config';
    this.token = o.token ?? `ghp_test${randomBytes(16).toString('hex')}`;
    this.maxPerPage = o.maxPerPage ?? 100;
  }

  static async start(o: GithubApiServerOptions = {}): Promise<GithubApiServer> {
    await sodium.ready;
    const s = new GithubApiServer(o);
    const server = createServer((req, res) => {
      s.#handle(req, res).catch((e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: String(e) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    s.#server = server;
    s.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return s;
  }

  /** Base URL, to put in the spec as github.apiUrl. */
  get url(): string {
    return this.#url;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The requests that change something (not GET), as "METHOD path". */
  writes(): string[] {
    return this.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);
  }

  /** Every request as "METHOD path status". */
  log(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
  }

  /** Create an environment as someone else would have (in the GitHub UI, say). */
  addEnvironment(name: string): Environment {
    const existing = this.environments.get(name);
    if (existing) return existing;
    const kp = sodium.crypto_box_keypair();
    const env: Environment = {
      name,
      created_at: now(),
      keyId: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
      publicKey: kp.publicKey,
      privateKey: kp.privateKey,
      secrets: new Map(),
      variables: new Map(),
    };
    this.environments.set(name, env);
    return env;
  }

  /** What GitHub holds for a secret once its sealed box is opened: for assertions only. */
  secretValue(environment: string, name: string): string | undefined {
    return this.environments.get(environment)?.secrets.get(name)?.value;
  }

  secretNames(environment: string): string[] {
    return [...(this.environments.get(environment)?.secrets.keys() ?? [])].sort();
  }

  variables(environment: string): Record<string, string> {
    return Object.fromEntries(
      [...(this.environments.get(environment)?.variables ?? [])].map(([k, v]) => [k, v.value]),
    );
  }

  /** Put a secret or variable there directly, as someone else would have. */
  seedSecret(environment: string, name: string, value: string): void {
    const t = now();
    this.addEnvironment(environment).secrets.set(name.toUpperCase(), { value, created_at: t, updated_at: t });
  }

  seedVariable(environment: string, name: string, value: string): void {
    const t = now();
    this.addEnvironment(environment).variables.set(name.toUpperCase(), {
      value,
      created_at: t,
      updated_at: t,
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#url);
    const method = req.method ?? 'GET';
    const auth = req.headers.authorization;
    const given = /^(?:Bearer|token) (.+)$/i.exec(auth ?? '')?.[1];
    const rec: RecordedRequest = {
      method,
      path: `${url.pathname}${url.search}`,
      status: 0,
      authorized: given === this.token,
      accept: req.headers.accept,
      apiVersion: header(req, 'x-github-api-version'),
      userAgent: req.headers['user-agent'],
    };
    this.requests.push(rec);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      rec.status = status;
      if (body === undefined) {
        res.writeHead(status, headers);
        res.end();
      } else {
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(body));
      }
    };
    try {
      if (!auth) throw new HttpError(401, 'Requires authentication');
      if (given !== this.token) throw new HttpError(401, 'Bad credentials');
      if (rec.apiVersion !== undefined && !API_VERSIONS.includes(rec.apiVersion))
        throw new HttpError(400, `Unsupported 'X-GitHub-Api-Version' header: ${rec.apiVersion}`);
      let body: Record<string, unknown> = {};
      if (raw) {
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          throw new HttpError(400, 'Problems parsing JSON');
        }
      }
      const r = this.#route(method, url, body);
      send(r.status, r.body, r.headers);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      send(e.status, {
        message: e.message,
        documentation_url: 'https://docs.github.com/rest',
        status: String(e.status),
      });
    }
  }

  #route(
    method: string,
    url: URL,
    body: Record<string, unknown>,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [repos, owner, repo, environments, envName, kind, item, ...rest] = parts;
    const notFound = new HttpError(404, 'Not Found');
    if (repos !== 'repos' || owner !== this.owner || repo !== this.repo) throw notFound;
    if (environments === undefined) {
      if (method !== 'GET') throw notFound;
      return { status: 200, body: { full_name: `${this.owner}/${this.repo}`, name: this.repo } };
    }
    if (environments !== 'environments' || envName === undefined || rest.length) throw notFound;
    if (kind === undefined) {
      if (method === 'PUT') {
        const env = this.addEnvironment(envName);
        return { status: 200, body: this.#environmentBody(env) };
      }
      const env = this.environments.get(envName);
      if (method !== 'GET' || !env) throw notFound;
      return { status: 200, body: this.#environmentBody(env) };
    }
    const env = this.environments.get(envName);
    if (!env) throw notFound;
    if (kind === 'secrets') return this.#secrets(method, url, env, item, body);
    if (kind === 'variables') return this.#variables(method, url, env, item, body);
    throw notFound;
  }

  #environmentBody(env: Environment) {
    return {
      id: Number(env.keyId.slice(0, 9)),
      name: env.name,
      url: `${this.#url}/repos/${this.owner}/${this.repo}/environments/${encodeURIComponent(env.name)}`,
      created_at: env.created_at,
      updated_at: env.created_at,
      protection_rules: [],
      deployment_branch_policy: null,
    };
  }

  #secrets(
    method: string,
    url: URL,
    env: Environment,
    item: string | undefined,
    body: Record<string, unknown>,
  ) {
    const notFound = new HttpError(404, 'Not Found');
    if (item === undefined) {
      if (method !== 'GET') throw notFound;
      return this.#page(url, 'secrets', env.secrets, (name, e) => ({
        name,
        created_at: e.created_at,
        updated_at: e.updated_at,
      }));
    }
    if (item === 'public-key') {
      if (method !== 'GET') throw notFound;
      return { status: 200, body: { key_id: env.keyId, key: Buffer.from(env.publicKey).toString('base64') } };
    }
    const name = item.toUpperCase();
    if (method === 'GET') {
      const e = env.secrets.get(name);
      if (!e) throw notFound;
      return { status: 200, body: { name, created_at: e.created_at, updated_at: e.updated_at } };
    }
    if (method === 'DELETE') {
      if (!env.secrets.delete(name)) throw notFound;
      return { status: 204 };
    }
    if (method !== 'PUT') throw notFound;
    checkName(name, 'Secret');
    const { encrypted_value, key_id } = body;
    if (typeof encrypted_value !== 'string' || typeof key_id !== 'string')
      throw new HttpError(422, 'Invalid request.\n\n"encrypted_value" and "key_id" are required.');
    if (key_id !== env.keyId) throw new HttpError(422, 'Bad request: key_id does not match the public key');
    let plain: string;
    try {
      plain = sodium.to_string(
        sodium.crypto_box_seal_open(Buffer.from(encrypted_value, 'base64'), env.publicKey, env.privateKey),
      );
    } catch {
      throw new HttpError(422, 'Bad request: encrypted_value could not be decrypted');
    }
    const existing = env.secrets.get(name);
    const t = now();
    env.secrets.set(name, { value: plain, created_at: existing?.created_at ?? t, updated_at: t });
    return existing ? { status: 204 } : { status: 201, body: {} };
  }

  #variables(
    method: string,
    url: URL,
    env: Environment,
    item: string | undefined,
    body: Record<string, unknown>,
  ) {
    const notFound = new HttpError(404, 'Not Found');
    if (item === undefined) {
      if (method === 'GET')
        return this.#page(url, 'variables', env.variables, (name, e) => ({
          name,
          value: e.value,
          created_at: e.created_at,
          updated_at: e.updated_at,
        }));
      if (method !== 'POST') throw notFound;
      const { name, value } = body;
      if (typeof name !== 'string' || typeof value !== 'string')
        throw new HttpError(422, 'Invalid request.\n\n"name" and "value" are required strings.');
      const upper = name.toUpperCase();
      checkName(upper, 'Variable');
      if (env.variables.has(upper)) throw new HttpError(409, 'Already exists - Variable already exists');
      const t = now();
      env.variables.set(upper, { value, created_at: t, updated_at: t });
      return { status: 201, body: {} };
    }
    const name = item.toUpperCase();
    const e = env.variables.get(name);
    if (!e) throw notFound;
    if (method === 'GET')
      return {
        status: 200,
        body: { name, value: e.value, created_at: e.created_at, updated_at: e.updated_at },
      };
    if (method === 'DELETE') {
      env.variables.delete(name);
      return { status: 204 };
    }
    if (method !== 'PATCH') throw notFound;
    const { name: newName, value } = body;
    if (
      (newName !== undefined && typeof newName !== 'string') ||
      (value !== undefined && typeof value !== 'string')
    )
      throw new HttpError(422, 'Invalid request.\n\n"name" and "value" must be strings.');
    const target = (newName ?? name).toUpperCase();
    checkName(target, 'Variable');
    if (target !== name && env.variables.has(target))
      throw new HttpError(409, 'Already exists - Variable already exists');
    env.variables.delete(name);
    env.variables.set(target, { ...e, value: value ?? e.value, updated_at: now() });
    return { status: 204 };
  }

  /** One page of a list, GitHub-style: per_page (default 30, capped), page (from 1), Link, total_count. */
  #page<T>(
    url: URL,
    key: string,
    items: Map<string, Entry>,
    show: (name: string, e: Entry) => T,
  ): { status: number; body: unknown; headers: Record<string, string> } {
    const perPageAsked = positiveInt(url.searchParams.get('per_page')) ?? 30;
    const perPage = Math.min(perPageAsked, 100, this.maxPerPage);
    const page = positiveInt(url.searchParams.get('page')) ?? 1;
    const all = [...items].sort(([a], [b]) => a.localeCompare(b));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number, rel: string) => {
      const u = new URL(url.pathname, this.#url);
      u.searchParams.set('per_page', String(perPageAsked));
      u.searchParams.set('page', String(p));
      return `<${u.href}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    return {
      status: 200,
      body: {
        total_count: all.length,
        [key]: all.slice((page - 1) * perPage, page * perPage).map(([name, e]) => show(name, e)),
      },
      headers: links.length ? { Link: links.join(', ') } : {},
    };
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function positiveInt(s: string | null): number | undefined {
  if (s === null || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 ? n : undefined;
}

function checkName(name: string, what: 'Secret' | 'Variable'): void {
  if (!NAME.test(name))
    throw new HttpError(
      422,
      `${what} names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or underscores (_).`,
    );
  if (name.startsWith('GITHUB_')) throw new HttpError(422, `${what} names must not start with GITHUB_.`);
}
