// `crvs stack render` and `crvs stack lock`. Render prints the stack file deploy would deploy, made by the same
// renderRelease and bound to the store's values exactly as deploy binds them (secret names, never values); it
// reads local files only and contacts no server. Lock fetches opencrvs-core's compose files for a version over
// HTTPS once, keeps a copy beside crvs.yaml and pins its sha256 in crvs.lock.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  CORE_FILES,
  type LockedFile,
  lockPath,
  readLock,
  renderLock,
  sha256,
  vendorPath,
} from '../config/compose-lock.js';
import { STACK, specPaths } from '../config/environment.js';
import { bindSecrets } from '../deploy/bind.js';
import { CrvsError } from '../errors.js';
import { SecretStore } from '../secrets/store.js';
import type { Effects, EnvironmentContext, SpecContext } from './context.js';
import { renderRelease, type SecretValues, storeValues } from './release.js';

export interface StackRender {
  environment: string;
  version: string;
  compose: string;
  /** Files uploaded beside the stack file (paths relative to the release folder). */
  files: string[];
  /** False when the environment has no secrets store yet: secrets are then named by key only. */
  bound: boolean;
}

export async function renderStack(
  fx: Effects,
  c: EnvironmentContext,
  version?: string,
): Promise<StackRender> {
  const v = version ?? c.spec.stack.version;
  const store = new SecretStore(fx.exec, specPaths(c.specFile).store(c.environment), c.environment);
  const values: SecretValues = store.exists() ? await storeValues(fx, c) : {};
  const r = renderRelease(c.spec, c.specFile, c.environment, v, values);
  const bound = store.exists();
  return {
    environment: c.environment,
    version: v,
    compose: bound ? bindSecrets(r.compose, STACK, r.secrets).compose : r.compose,
    files: r.files.map((f) => f.path),
    bound,
  };
}

export interface LockResult {
  version: string;
  files: (LockedFile & { name: string; changed: boolean })[];
}

/** Fetches core's compose files for a version and pins them; an existing pin is only replaced with `update`. */
export async function lockCore(
  s: SpecContext,
  version: string,
  o: { update?: boolean; fetchText?: (url: string) => Promise<string> } = {},
): Promise<LockResult> {
  const lock = readLock(s.specFile);
  const dir = specPaths(s.specFile).dir;
  const current = lock['opencrvs-core'][version] ?? {};
  const get = o.fetchText ?? fetchText;
  const files: LockResult['files'] = [];
  for (const name of CORE_FILES) {
    const url = `${s.spec.stack.compose.coreUrl.replace('{version}', encodeURIComponent(version))}${name}`;
    const text = await get(url);
    const entry: LockedFile = { url, sha256: sha256(text), path: vendorPath(version, name) };
    const pinned = current[name];
    if (pinned && pinned.sha256 !== entry.sha256 && !o.update)
      throw new CrvsError(
        'E_COMPOSE_INPUT',
        `${url} changed since it was locked: sha256 ${entry.sha256}, locked ${pinned.sha256}`,
        {
          hint: `a tag should not move; review the difference, then: crvs stack lock --version ${version} --update`,
        },
      );
    const file = resolve(dir, entry.path);
    mkdirSync(dirname(file), { recursive: true });
    const changed = !existsSync(file) || readFileSync(file, 'utf8') !== text;
    writeFileSync(file, text);
    current[name] = entry;
    files.push({ ...entry, name, changed });
  }
  lock['opencrvs-core'][version] = current;
  writeFileSync(lockPath(s.specFile), renderLock(lock));
  return { version, files };
}

async function fetchText(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new CrvsError('E_LOCK_FETCH', `cannot fetch ${url}: ${(e as Error).message}`, {
      hint: 'without Internet access, copy the files yourself and set stack.compose.core',
    });
  }
  if (!res.ok)
    throw new CrvsError('E_LOCK_FETCH', `${url} answered ${res.status}`, {
      hint: 'is the version a tag of opencrvs-core? (stack.version, or --version)',
    });
  return res.text();
}
