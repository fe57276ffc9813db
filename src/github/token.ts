// Where the GitHub token comes from: $GITHUB_TOKEN, then $GH_TOKEN, then the GitHub CLI's login (`gh auth token`).
// It is wrapped in Sensitive at once, so that the output redactor scrubs it wherever it might slip.
import { CommandFailedError, PreconditionError } from '../errors.js';
import type { Executor } from '../remote/executor.js';
import { Sensitive } from '../secrets/sensitive.js';
import { TOKEN_HINT } from './api.js';

export type TokenSource = 'GITHUB_TOKEN' | 'GH_TOKEN' | 'gh auth token';

export async function githubToken(
  env: NodeJS.ProcessEnv,
  exec: Executor,
  apiUrl: string,
): Promise<{ token: Sensitive<string>; source: TokenSource }> {
  for (const name of ['GITHUB_TOKEN', 'GH_TOKEN'] as const) {
    const v = env[name]?.trim();
    if (v) return { token: new Sensitive(v, 'github token'), source: name };
  }
  const host = new URL(apiUrl).hostname;
  const argv = ['gh', 'auth', 'token', ...(host === 'api.github.com' ? [] : ['--hostname', host])];
  let r: { code: number | null; stdout: string };
  try {
    r = await exec.run({
      argv,
      // The CLI's own environment (PATH to find gh, GH_CONFIG_DIR, HOME) decides, as for any other variable.
      env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
      secretOutput: true,
      allowFailure: true,
      timeoutMs: 20_000,
      description: 'ask the GitHub CLI for its token',
    });
  } catch (e) {
    if (e instanceof CommandFailedError && e.exit === null)
      throw new PreconditionError(
        'no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset and gh is not installed',
        TOKEN_HINT,
      );
    throw e;
  }
  const token = r.stdout.trim();
  if (r.code !== 0 || !token)
    throw new PreconditionError(
      `no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset and gh is not logged in to ${host}`,
      TOKEN_HINT,
    );
  return { token: new Sensitive(token, 'github token'), source: 'gh auth token' };
}
