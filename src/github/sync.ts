// `crvs github sync`: make a GitHub environment hold an environment's secrets (sealed to GitHub's public key) and
// a few variables derived from the spec. Planning is pure; the effects follow the plan and keep a fingerprint
// record (secrets/<env>.github-sync.json) so that the next run uploads only what changed. GitHub never gives a
// secret back, so the record is the only way to know; it holds slow salted hashes, never a value.
import { randomBytes, scrypt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { environmentDomain, specPaths } from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { Sensitive } from '../secrets/sensitive.js';
import type { GithubApi } from './api.js';
import { sealFor } from './seal.js';

/** add: absent on GitHub; update: changed since the last sync (or never recorded); delete: gone from the store,
 * removed with --prune; leave: gone from the store, left on GitHub without --prune. */
export type Action = 'add' | 'update' | 'unchanged' | 'delete' | 'leave';

export const SYMBOL: Record<Action, string> = {
  add: '+',
  update: '~',
  unchanged: '=',
  delete: '-',
  leave: '-?',
};

export interface Change {
  name: string;
  action: Action;
}

export { CI_KEY_SECRET } from './ci-key.js';

export interface SyncRecord {
  version: 1;
  repository: string;
  environment: string;
  syncedAt: string;
  /** How the fingerprints are made: scrypt over the value, salted with `salt`, the environment and the name. */
  hash: 'scrypt-n16384-r8-p1';
  salt: string;
  secrets: Record<string, string>;
}

export const recordPath = (specFile: string, environment: string) =>
  specPaths(specFile).githubRecord(environment);

/** What CI needs to know about the environment that is not secret: visible in the GitHub UI and in logs. */
export function variablesFor(spec: Spec, environment: string): Record<string, string> {
  return {
    CRVS_ENVIRONMENT: environment,
    CRVS_DOMAIN: environmentDomain(spec.domain, environment),
    CRVS_COUNTRY: spec.country,
  };
}

/** GitHub keeps secret and variable names in capitals; compare and upload them that way. */
export const githubName = (name: string) => name.toUpperCase();

function byName(a: Change, b: Change): number {
  return a.name.localeCompare(b.name);
}

/**
 * Pure. `local`: name → fingerprint of every secret to sync; `remote`: names on GitHub; `recorded`: name →
 * fingerprint at the last upload; `keep`: remote names never deleted nor reported as gone (CRVS_CI_KEY when no
 * --ci-key is given).
 */
export function planSecrets(input: {
  local: Map<string, string>;
  remote: Iterable<string>;
  recorded: Record<string, string>;
  prune: boolean;
  keep?: string[];
}): Change[] {
  const remote = new Set([...input.remote].map(githubName));
  const keep = new Set((input.keep ?? []).map(githubName));
  const changes: Change[] = [];
  const local = new Set<string>();
  for (const [given, fp] of input.local) {
    const name = githubName(given);
    local.add(name);
    const action: Action = !remote.has(name) ? 'add' : input.recorded[name] === fp ? 'unchanged' : 'update';
    changes.push({ name, action });
  }
  for (const name of remote)
    if (!local.has(name))
      changes.push({ name, action: keep.has(name) ? 'unchanged' : input.prune ? 'delete' : 'leave' });
  return changes.sort(byName);
}

/** Pure. Variables are not secret, so their values are compared directly. */
export function planVariables(
  local: Record<string, string>,
  remote: { name: string; value: string }[],
  prune: boolean,
): Change[] {
  const there = new Map(remote.map((v) => [githubName(v.name), v.value]));
  const changes: Change[] = [];
  const ours = new Set<string>();
  for (const [given, value] of Object.entries(local)) {
    const name = githubName(given);
    ours.add(name);
    const current = there.get(name);
    changes.push({
      name,
      action: current === undefined ? 'add' : current === value ? 'unchanged' : 'update',
    });
  }
  for (const name of there.keys())
    if (!ours.has(name)) changes.push({ name, action: prune ? 'delete' : 'leave' });
  return changes.sort(byName);
}

/** One-way and deliberately slow: a committed record must not help anyone guess a weak password. */
export function secretFingerprint(
  salt: string,
  environment: string,
  name: string,
  value: Sensitive<string>,
): Promise<string> {
  return new Promise((resolve, reject) =>
    scrypt(
      Buffer.from(value.reveal(), 'utf8'),
      `crvs-github-sync:${salt}:${environment}:${name}`,
      16,
      { N: 16384, r: 8, p: 1 },
      (err, key) => (err ? reject(err) : resolve(key.toString('hex'))),
    ),
  );
}

/** The record of the last sync to this repository and environment, or a fresh one. */
export async function readRecord(file: string, repository: string, environment: string): Promise<SyncRecord> {
  const fresh: SyncRecord = {
    version: 1,
    repository,
    environment,
    syncedAt: '',
    hash: 'scrypt-n16384-r8-p1',
    salt: randomBytes(16).toString('hex'),
    secrets: {},
  };
  if (!existsSync(file)) return fresh;
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as Partial<SyncRecord>;
    // Another repository, environment or hash: nothing is known about what GitHub holds, upload everything.
    if (
      r.version !== 1 ||
      r.repository !== repository ||
      r.environment !== environment ||
      r.hash !== fresh.hash ||
      typeof r.salt !== 'string' ||
      !r.secrets ||
      typeof r.secrets !== 'object'
    )
      return fresh;
    return { ...fresh, syncedAt: r.syncedAt ?? '', salt: r.salt, secrets: { ...r.secrets } };
  } catch {
    return fresh;
  }
}

async function writeRecord(file: string, record: SyncRecord): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(record.secrets).sort(([a], [b]) => a.localeCompare(b)));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify({ ...record, secrets: sorted }, null, 2)}\n`, {
    mode: 0o644,
  });
  await rename(`${file}.tmp`, file);
}

export interface SyncInput {
  environment: string;
  /** Every secret to hold on GitHub, by name (the store, plus CRVS_CI_KEY when given). */
  secrets: Map<string, Sensitive<string>>;
  variables: Record<string, string>;
  recordFile: string;
  /** Remote secret names that are someone else's business here: never pruned (see planSecrets). */
  keep?: string[];
}

export interface SyncOptions {
  dryRun: boolean;
  prune: boolean;
}

export interface SyncResult {
  environment: string;
  repository: string;
  dryRun: boolean;
  /** The GitHub environment did not exist and was (or, on a dry run, would be) created. */
  environmentCreated: boolean;
  secrets: Change[];
  variables: Change[];
}

export async function syncEnvironment(api: GithubApi, input: SyncInput, o: SyncOptions): Promise<SyncResult> {
  const { environment } = input;
  const local = new Map<string, Sensitive<string>>();
  for (const [name, value] of input.secrets) {
    const n = githubName(name);
    if (local.has(n)) throw new UsageError(`two secrets are both ${n} on GitHub, which ignores case`);
    local.set(n, value);
  }
  const record = await readRecord(input.recordFile, api.repo, environment);
  const fingerprints = new Map(
    await Promise.all(
      [...local].map(
        async ([name, value]) =>
          [name, await secretFingerprint(record.salt, environment, name, value)] as const,
      ),
    ),
  );

  await api.getRepository();
  const exists = await api.environmentExists(environment);
  const remoteSecrets = exists ? await api.listSecrets(environment) : [];
  const remoteVariables = exists ? await api.listVariables(environment) : [];
  const keep = input.keep ?? [];
  const secrets = planSecrets({
    local: fingerprints,
    remote: remoteSecrets.map((s) => s.name),
    recorded: record.secrets,
    prune: o.prune,
    keep,
  });
  const wanted = Object.fromEntries(Object.entries(input.variables).map(([k, v]) => [githubName(k), v]));
  const variables = planVariables(wanted, remoteVariables, o.prune);
  const result: SyncResult = {
    environment,
    repository: api.repo,
    dryRun: o.dryRun,
    environmentCreated: !exists,
    secrets,
    variables,
  };
  if (o.dryRun) return result;

  if (!exists) await api.createEnvironment(environment);
  const upload = secrets.filter((c) => c.action === 'add' || c.action === 'update');
  if (upload.length) {
    const key = await api.publicKey(environment);
    for (const { name } of upload) {
      const value = local.get(name);
      const fp = fingerprints.get(name);
      if (!value || !fp) continue;
      await api.putSecret(environment, name, {
        encrypted_value: await sealFor(key.key, value),
        key_id: key.key_id,
      });
      // Recorded one at a time: after a failure half-way, the next run uploads only the rest.
      record.secrets[name] = fp;
      record.syncedAt = new Date().toISOString();
      await writeRecord(input.recordFile, record);
    }
  }
  for (const { name } of secrets.filter((c) => c.action === 'delete')) {
    await api.deleteSecret(environment, name);
    delete record.secrets[name];
    await writeRecord(input.recordFile, record);
  }
  for (const { name, action } of variables) {
    const value = wanted[name];
    if (action === 'add' && value !== undefined) await api.createVariable(environment, name, value);
    else if (action === 'update' && value !== undefined) await api.updateVariable(environment, name, value);
    else if (action === 'delete') await api.deleteVariable(environment, name);
  }
  // Forget fingerprints of secrets that are no longer ours, so that one coming back is uploaded again.
  const ours = new Set([...local.keys(), ...keep.map(githubName)]);
  const stale = Object.keys(record.secrets).filter((n) => !ours.has(n));
  for (const n of stale) delete record.secrets[n];
  if (stale.length || !existsSync(input.recordFile)) {
    record.syncedAt = new Date().toISOString();
    await writeRecord(input.recordFile, record);
  }
  return result;
}

const count = (changes: Change[], ...actions: Action[]) =>
  changes.filter((c) => actions.includes(c.action)).length;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Pure. The plan, one name a line, and a closing summary line. */
export function renderSync(r: SyncResult): string {
  const lines: string[] = [];
  const target = `${r.repository}, environment ${r.environment}`;
  if (r.environmentCreated)
    lines.push(`${target}: ${r.dryRun ? 'does not exist yet; would be created' : 'created'}`);
  const list = (title: string, changes: Change[]) => {
    if (!changes.length) return;
    lines.push(`${title}:`);
    for (const c of changes)
      lines.push(
        `  ${SYMBOL[c.action].padEnd(2)} ${c.name}${c.action === 'leave' ? '  (not from crvs; left alone, --prune deletes it)' : ''}`,
      );
  };
  list(`secrets (${target})`, r.secrets);
  list('variables', r.variables);
  lines.push(summary(r));
  return lines.join('\n');
}

export function summary(r: SyncResult): string {
  const s = r.secrets;
  const v = r.variables;
  const [uploaded, set, deleted] = r.dryRun
    ? ['to upload', 'to set', 'to delete']
    : ['uploaded', 'set', 'deleted'];
  const part = (changes: Change[], noun: string, verb: string) => {
    const bits = [
      `${plural(count(changes, 'add', 'update'), noun)} ${verb}`,
      `${count(changes, 'unchanged')} unchanged`,
    ];
    if (count(changes, 'delete')) bits.push(`${count(changes, 'delete')} ${deleted}`);
    if (count(changes, 'leave')) bits.push(`${count(changes, 'leave')} left alone`);
    return bits.join(', ');
  };
  return `${r.environment}${r.dryRun ? ' (dry run, nothing changed)' : ''}: ${part(s, 'secret', uploaded)}; ${part(v, 'variable', set)}`;
}
