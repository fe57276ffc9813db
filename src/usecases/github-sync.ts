// `crvs github sync`: the GitHub environment of one application environment gets the store's secrets (sealed to
// the environment's public key) and the spec's variables; only what changed is uploaded.
import { isApplicationEnvironment, serversOf, specPaths } from '../config/environment.js';
import { PreconditionError, UsageError } from '../errors.js';
import { GithubApi } from '../github/api.js';
import { CI_KEY_SECRET, type SyncResult, syncEnvironment, variablesFor } from '../github/sync.js';
import { githubToken } from '../github/token.js';
import { openStore } from '../secrets/manage.js';
import type { Sensitive } from '../secrets/sensitive.js';
import type { Effects, SpecContext } from './context.js';

export interface GithubSyncOptions {
  /** The CI private key, uploaded as a secret of its own. */
  ciKey?: Sensitive<string>;
  dryRun: boolean;
  prune: boolean;
  userAgent: string;
}

export async function githubSync(
  fx: Effects,
  s: SpecContext,
  environment: string,
  o: GithubSyncOptions,
): Promise<SyncResult> {
  const { spec, specFile } = s;
  serversOf(spec, environment);
  if (!isApplicationEnvironment(environment))
    throw new UsageError(
      `${environment} is not an environment CI deploys to`,
      'sync one of production, staging, qa, development',
    );
  if (!spec.github)
    throw new UsageError(
      `${specFile} has no github section`,
      'add to crvs.yaml: github: { owner: <organisation>, repository: <configuration repository> }',
    );
  const store = openStore({ exec: fx.exec, spec, specFile, environment, identity: s.identity });
  if (!store.exists())
    throw new PreconditionError(
      `${environment} has no secrets store (${store.file})`,
      `create it first: crvs secrets init ${environment}`,
    );
  const secrets = new Map<string, Sensitive<string>>();
  for (const [name, v] of await store.load(s.identity)) secrets.set(name, v.value);
  if (o.ciKey) secrets.set(CI_KEY_SECRET, o.ciKey);
  const { token } = await githubToken(fx.env, fx.exec, spec.github.apiUrl);
  const api = new GithubApi(spec.github, token, o.userAgent);
  return syncEnvironment(
    api,
    {
      environment,
      secrets,
      variables: variablesFor(spec, environment),
      recordFile: specPaths(specFile).githubRecord(environment),
      keep: o.ciKey ? [] : [CI_KEY_SECRET],
    },
    { dryRun: o.dryRun, prune: o.prune },
  );
}
