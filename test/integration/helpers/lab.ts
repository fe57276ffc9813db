// Shared by integration tests: the default lab (built once, reused by every file) and ssh into it.
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
