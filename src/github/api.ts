// A small client for the parts of the GitHub REST API that `crvs github sync` needs: repository and environment,
// environment secrets (public key, list, put, delete) and environment variables. Plain `fetch`, no SDK.
// The token travels only in the Authorization header; error messages carry status, names and GitHub's own
// message, never the token or a value.
import { CrvsError, type ErrorCode } from '../errors.js';
import type { Sensitive } from '../secrets/sensitive.js';

export const GITHUB_API_VERSION = '2022-11-28';
export const DEFAULT_API_URL = 'https://api.github.com';
const PER_PAGE = 100;
const TIMEOUT_MS = 30_000;

export interface GithubRepository {
  owner: string;
  repository: string;
  /** REST API base URL: https://api.github.com, or https://<host>/api/v3 on GitHub Enterprise Server. */
  apiUrl: string;
}

export interface RemoteSecret {
  name: string;
  created_at: string;
  updated_at: string;
}

export interface RemoteVariable {
  name: string;
  value: string;
  created_at: string;
  updated_at: string;
}

export interface EnvironmentPublicKey {
  key_id: string;
  /** base64 of the environment's 32-byte Curve25519 public key. */
  key: string;
}

export const TOKEN_HINT =
  'set GITHUB_TOKEN (or GH_TOKEN) to a token that may administer the repository, or run `gh auth login`';

/** A refusal or failure from the GitHub API, mapped to a stable code and a message without secrets. */
export class GithubApiError extends CrvsError {
  readonly status: number;
  constructor(code: ErrorCode, status: number, message: string, hint?: string) {
    super(code, message, hint ? { hint } : {});
    this.status = status;
  }
}

/** GitHub's own explanation from an error body: `message` plus any `errors[].message`, kept short. */
function githubMessage(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const b = body as { message?: unknown; errors?: unknown };
  const parts: string[] = [];
  if (typeof b.message === 'string') parts.push(b.message);
  if (Array.isArray(b.errors))
    for (const e of b.errors) {
      if (typeof e === 'string') parts.push(e);
      else if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string')
        parts.push((e as { message: string }).message);
    }
  return parts.join('; ').slice(0, 300);
}

/** The URL of the next page, from an RFC 8288 Link header (`<url>; rel="next", <url>; rel="last"`). */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const [target, ...params] = part.split(';');
    const url = /^\s*<([^>]*)>\s*$/.exec(target ?? '')?.[1];
    const rel = params.map((p) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(p)?.[1]).find((r) => r !== undefined);
    if (url && rel?.split(/\s+/).includes('next')) return url;
  }
  return undefined;
}

export class GithubApi {
  readonly base: URL;
  readonly repo: string;

  constructor(
    readonly target: GithubRepository,
    private readonly token: Sensitive<string>,
    private readonly userAgent = 'crvs',
  ) {
    this.base = new URL(target.apiUrl.endsWith('/') ? target.apiUrl : `${target.apiUrl}/`);
    this.repo = `${target.owner}/${target.repository}`;
  }

  private repoPath(...rest: string[]): string {
    return ['repos', this.target.owner, this.target.repository, ...rest].map(encodeURIComponent).join('/');
  }

  private envPath(environment: string, ...rest: string[]): string {
    return this.repoPath('environments', environment, ...rest);
  }

  private url(path: string, query?: Record<string, string | number>): URL {
    const u = new URL(path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, String(v));
    return u;
  }

  /** One request. `what` names the thing for messages (e.g. "secret SESSION_SECRET of environment qa"). */
  private async request(
    method: string,
    url: URL,
    what: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    // Follow-up URLs (pagination) must stay on the API's origin: the token goes nowhere else.
    if (url.origin !== this.base.origin)
      throw new CrvsError('E_GITHUB_API', `refusing to follow a link off ${this.base.origin}`);
    const headers: Record<string, string> = {
      Accept: 'application/vnd.github+json',
      Authorization: `Bearer ${this.token.reveal()}`,
      'X-GitHub-Api-Version': GITHUB_API_VERSION,
      'User-Agent': this.userAgent,
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (e as Error).name === 'TimeoutError'
          ? `no answer within ${TIMEOUT_MS / 1000}s`
          : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new CrvsError(
        'E_GITHUB_UNREACHABLE',
        `cannot reach the GitHub API at ${this.base.href}: ${why}`,
        {
          hint: 'check github.apiUrl in crvs.yaml and the network (a proxy, a VPN)',
        },
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return { status: res.status, body: parsed, headers: res.headers };
    const says = githubMessage(parsed);
    const suffix = says ? `: ${says}` : '';
    switch (res.status) {
      case 401:
        throw new GithubApiError(
          'E_GITHUB_AUTH',
          401,
          `GitHub rejected the token (401${suffix})`,
          TOKEN_HINT,
        );
      case 403:
        throw new GithubApiError(
          'E_GITHUB_FORBIDDEN',
          403,
          `GitHub refused ${method} on ${what} (403${suffix})`,
          'the token needs admin rights on the repository (classic token: repo scope; fine-grained: Administration, Environments, Secrets and Variables, read and write), or the rate limit was hit',
        );
      case 404:
        throw new GithubApiError(
          'E_GITHUB_NOT_FOUND',
          404,
          `${what} not found on GitHub (404), or the token cannot see it`,
          `check github.owner and github.repository in crvs.yaml (${this.repo}) and that the token has access to it`,
        );
      case 409:
        throw new GithubApiError('E_GITHUB_CONFLICT', 409, `GitHub: ${what} conflicts (409${suffix})`);
      case 422:
        throw new GithubApiError('E_GITHUB_REJECTED', 422, `GitHub refused ${what} (422${suffix})`);
      default:
        throw new GithubApiError(
          'E_GITHUB_API',
          res.status,
          `GitHub answered ${res.status} to ${method} on ${what}${suffix}`,
        );
    }
  }

  /** Every item of a paginated list: asks for 100 a page and follows Link rel="next" to the end. */
  private async all<T>(path: string, key: string, what: string): Promise<T[]> {
    const items: T[] = [];
    let next: URL | undefined = this.url(path, { per_page: PER_PAGE, page: 1 });
    const seen = new Set<string>();
    while (next) {
      if (seen.has(next.href)) throw new CrvsError('E_GITHUB_API', `GitHub's pages of ${what} loop`);
      seen.add(next.href);
      const r = await this.request('GET', next, what);
      const page = (r.body as Record<string, unknown> | undefined)?.[key];
      if (!Array.isArray(page))
        throw new CrvsError('E_GITHUB_API', `GitHub's answer for ${what} has no ${key} list`);
      items.push(...(page as T[]));
      const link = nextLink(r.headers.get('link'));
      next = link ? new URL(link, this.base) : undefined;
    }
    return items;
  }

  async getRepository(): Promise<void> {
    await this.request('GET', this.url(this.repoPath()), `repository ${this.repo}`);
  }

  /** Whether the environment exists (404 means it does not; check the repository first). */
  async environmentExists(environment: string): Promise<boolean> {
    try {
      await this.request('GET', this.url(this.envPath(environment)), `environment ${environment}`);
      return true;
    } catch (e) {
      if (e instanceof GithubApiError && e.status === 404) return false;
      throw e;
    }
  }

  /** Creates the environment. Only for one that does not exist, so that its protection rules are left alone. */
  async createEnvironment(environment: string): Promise<void> {
    await this.request('PUT', this.url(this.envPath(environment)), `environment ${environment}`, {});
  }

  async publicKey(environment: string): Promise<EnvironmentPublicKey> {
    const r = await this.request(
      'GET',
      this.url(this.envPath(environment, 'secrets', 'public-key')),
      `the public key of environment ${environment}`,
    );
    const b = r.body as Partial<EnvironmentPublicKey> | undefined;
    if (typeof b?.key_id !== 'string' || typeof b.key !== 'string')
      throw new CrvsError('E_GITHUB_API', `GitHub's public key for ${environment} has no key_id or key`);
    return { key_id: b.key_id, key: b.key };
  }

  listSecrets(environment: string): Promise<RemoteSecret[]> {
    return this.all(
      this.envPath(environment, 'secrets'),
      'secrets',
      `the secrets of environment ${environment}`,
    );
  }

  /** Uploads one sealed value. Returns whether GitHub created it (201) or updated it (204). */
  async putSecret(
    environment: string,
    name: string,
    sealed: { encrypted_value: string; key_id: string },
  ): Promise<'created' | 'updated'> {
    const r = await this.request(
      'PUT',
      this.url(this.envPath(environment, 'secrets', name)),
      `secret ${name} of environment ${environment}`,
      sealed,
    );
    return r.status === 201 ? 'created' : 'updated';
  }

  async deleteSecret(environment: string, name: string): Promise<void> {
    await this.request(
      'DELETE',
      this.url(this.envPath(environment, 'secrets', name)),
      `secret ${name} of environment ${environment}`,
    );
  }

  listVariables(environment: string): Promise<RemoteVariable[]> {
    return this.all(
      this.envPath(environment, 'variables'),
      'variables',
      `the variables of environment ${environment}`,
    );
  }

  async createVariable(environment: string, name: string, value: string): Promise<void> {
    await this.request(
      'POST',
      this.url(this.envPath(environment, 'variables')),
      `variable ${name} of environment ${environment}`,
      { name, value },
    );
  }

  async updateVariable(environment: string, name: string, value: string): Promise<void> {
    await this.request(
      'PATCH',
      this.url(this.envPath(environment, 'variables', name)),
      `variable ${name} of environment ${environment}`,
      { name, value },
    );
  }

  async deleteVariable(environment: string, name: string): Promise<void> {
    await this.request(
      'DELETE',
      this.url(this.envPath(environment, 'variables', name)),
      `variable ${name} of environment ${environment}`,
    );
  }
}
