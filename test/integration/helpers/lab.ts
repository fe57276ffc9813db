// Shared by integration tests: the default lab (built once, reused by every file) and ssh into it.
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { labPaths, labSmtpSecrets } from '../../../src/lab/state.js';
import { DEFAULT_LAB_NAME, LAB_LABEL } from '../../../src/lab/topology.js';
import { packagePath } from '../../../src/paths.js';

export const root = packagePath();
export const bin = packagePath('bin', 'crvs.js');
export const defaultLabDir = join(root, '.crvs', 'lab');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built crvs binary, as a user runs it. */
export function crvsBin(args: string[], options: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 25 * 60_000,
    ...options,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', CI: 'true', ...options.env },
  });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface LabInfo {
  dir: string;
  spec: string;
  sshConfig: string;
  servers: { name: string; environment: string; address: string; container: string }[];
}

/** Brings the default lab up (idempotent: fast when it already runs) and describes it. */
export function ensureDefaultLab(): LabInfo {
  // A ban left by an earlier file's failed logins (some tests fail logins on purpose) must not cascade.
  const running = spawnSync('docker', ['ps', '-q', '--filter', `label=${LAB_LABEL}=${DEFAULT_LAB_NAME}`], {
    encoding: 'utf8',
  });
  unbanAll(
    running.stdout
      .split('\n')
      .filter(Boolean)
      .map((container) => ({ container })),
  );
  const r = crvsBin(['lab', 'up', '--json']);
  if (r.status !== 0) throw new Error(`crvs lab up failed (${r.status}):\n${r.stderr}`);
  const state = JSON.parse(r.stdout) as {
    topology: { servers: LabInfo['servers'] };
    spec: string;
    sshConfig: string;
  };
  return {
    dir: defaultLabDir,
    spec: state.spec,
    sshConfig: state.sshConfig,
    servers: state.topology.servers,
  };
}

/**
 * How to log in to a lab server without a failed attempt (fail2ban counts those): the automation user once
 * provisioning created it, the delivered admin account before.
 */
export function loginArgs(server: Pick<LabInfo['servers'][number], 'container'>): string[] {
  return spawnSync('docker', ['exec', server.container, 'id', '-u', 'crvs']).status === 0
    ? ['-l', 'crvs']
    : [];
}

/** ssh with the lab's client config; never a shell on our side, the remote command is one argument. */
export function ssh(sshConfig: string, server: string, command: string, extra: string[] = []): Run {
  const r = spawnSync('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', ...extra, server, command], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/**
 * Tests that prove logins are refused trip fail2ban on purpose; lift the bans (from inside the containers, as
 * the lab's operator) so that the next test can log in.
 */
export function unbanAll(servers: Pick<LabInfo['servers'][number], 'container'>[]): void {
  for (const s of servers)
    spawnSync('docker', ['exec', s.container, 'sh', '-c', 'fail2ban-client unban --all 2>/dev/null || true']);
}

/**
 * The lab is provisioned once per test run and shared: what this run's provisioning covered is recorded beside
 * the lab's state, one key per environment: the ids of that environment's server containers, the spec without
 * its pinned host keys (a recreated server is pinned again, which changes nothing for the other environments),
 * and the Ansible roles. A recreated server, an edited spec or role, or an environment not covered yet means
 * provisioning that environment again, and only that one.
 */
const provisionedFile = join(defaultLabDir, 'provisioned.json');

function provisioningKeys(lab: LabInfo): Record<string, string> {
  const common = createHash('sha256');
  const spec = parse(readFileSync(lab.spec, 'utf8')) as {
    environments?: Record<string, { servers?: { hostKeys?: unknown }[] }>;
  };
  for (const e of Object.values(spec.environments ?? {})) for (const s of e.servers ?? []) delete s.hostKeys;
  common.update(JSON.stringify(spec));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (!e.name.endsWith('.pyc')) common.update(`${path}\n`).update(readFileSync(path));
    }
  };
  walk(packagePath('ansible'));
  const base = common.digest('hex');
  const keys: Record<string, string> = {};
  for (const environment of new Set(lab.servers.map((s) => s.environment))) {
    const h = createHash('sha256').update(`${base}\n`);
    for (const s of lab.servers
      .filter((x) => x.environment === environment)
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const id = spawnSync('docker', ['inspect', '--format', '{{.Id}}', s.container], { encoding: 'utf8' });
      h.update(`${s.name}=${id.stdout.trim()}\n`);
    }
    keys[environment] = h.digest('hex');
  }
  return keys;
}

function provisionedEnvironments(lab: LabInfo): string[] {
  if (!existsSync(provisionedFile)) return [];
  const recorded = readJson<{ keys?: Record<string, string> }>(provisionedFile).keys ?? {};
  const current = provisioningKeys(lab);
  return Object.keys(recorded).filter((e) => recorded[e] === current[e]);
}

function writeProvisioned(lab: LabInfo, environments: string[]): void {
  const current = provisioningKeys(lab);
  const keys = Object.fromEntries(environments.map((e) => [e, current[e]]));
  writeFileSync(provisionedFile, `${JSON.stringify({ keys })}\n`);
}

/** Records that these environments of the lab were provisioned by this run (after a successful provision). */
export function recordProvisioned(lab: LabInfo, environments: string[]): void {
  writeProvisioned(lab, [...new Set([...provisionedEnvironments(lab), ...environments])]);
}

/** Forgets environments provisioned from another spec than the lab's (the next file provisions them again). */
export function forgetProvisioned(lab: LabInfo, environments: string[]): void {
  writeProvisioned(
    lab,
    provisionedEnvironments(lab).filter((e) => !environments.includes(e)),
  );
}

/** Provisions the environments that this lab, as it is, has not been provisioned for yet. */
export function ensureProvisioned(lab: LabInfo, environments: string[], env: NodeJS.ProcessEnv): void {
  const done = provisionedEnvironments(lab);
  const missing = environments.filter((e) => !done.includes(e));
  if (!missing.length) return;
  const r = crvsBin(['provision', ...missing, '--spec', lab.spec], { env });
  if (r.status !== 0)
    throw new Error(`crvs provision ${missing.join(' ')} failed:\n${r.stderr.slice(-4000)}`);
  recordProvisioned(lab, missing);
}

/**
 * crvs against the lab's spec, as its operator: the lab key (which also opens the stores), and an alert webhook
 * and the lab relay's account for `secrets init` to take: the lab's receiver and relay, as `crvs demo` gives, so that whichever file initialises an
 * environment first, its alerts reach `crvs lab alerts` (backup.test reads production's from there).
 * `must` fails the test with crvs's own error output.
 */
export function labCommands(lab: () => LabInfo) {
  const env = () => ({
    CRVS_IDENTITY: join(lab().dir, 'id_ed25519'),
    CRVS_SECRET_ALERT_WEBHOOK_URL: 'http://10.77.0.2:9000/alerts',
    ...labSmtpSecrets(labPaths(lab().dir)),
  });
  const crvs = (...args: string[]) => crvsBin([...args, '--spec', lab().spec], { env: env() });
  const must = (...args: string[]) => {
    const r = crvs(...args);
    if (r.status !== 0)
      throw new Error(`crvs ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
    return r;
  };
  return { env, crvs, must };
}
