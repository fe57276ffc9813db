// `crvs hostkeys`: the host keys each server presents on a first contact, beside what the spec pins, and (once the
// operator compared the fingerprints with the servers' own) written into the spec's servers[].hostKeys.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ENVIRONMENTS } from '../config/environment.js';
import { fingerprint, parseHostKey, type ScanStatus, scannedKeys, scanStatus } from '../config/host-key.js';
import { jumpHop } from '../config/host-keys.js';
import { UsageError } from '../errors.js';
import { lastLine } from '../remote/executor.js';
import { keyscanArgv, refuseHostKey } from '../remote/host-keys.js';
import { freeLocalPorts } from '../remote/local-ports.js';
import { tunnelArgv, tunnelExitArgv } from '../remote/ssh.js';
import type { Effects, SpecContext } from './context.js';

export interface ScannedKey {
  environment: string;
  server: string;
  /** Index of the server in its environment's list (where --write puts its keys). */
  index: number;
  address: string;
  port: number;
  /** `<type> <base64>`, as the spec holds it; empty when the server could not be reached. */
  key: string;
  fingerprint: string;
  /** `extra`: the server also presents this key type, beside a pinned key of another type that ssh uses. */
  status: ScanStatus | 'extra' | 'unreachable';
  detail?: string;
}

/** Every key each server of these environments (all of the spec's when none is named) presents on a first contact. */
export async function scanHostKeys(fx: Effects, sc: SpecContext, names: string[]): Promise<ScannedKey[]> {
  const envs = names.length ? names : ENVIRONMENTS.filter((e) => sc.spec.environments[e]);
  for (const e of envs)
    if (!sc.spec.environments[e as keyof typeof sc.spec.environments])
      throw new UsageError(
        `the spec has no environment ${e}`,
        `environments: ${Object.keys(sc.spec.environments).join(', ')}`,
      );
  const rows: ScannedKey[] = [];
  for (const environment of envs) {
    const servers = sc.spec.environments[environment as keyof typeof sc.spec.environments]?.servers ?? [];
    const hop = jumpHop(sc.spec, environment, sc.knownHosts);
    const scan = (s: (typeof servers)[number], index: number, address: string, port: number) =>
      scanOne(
        fx,
        { environment, server: s.name, index, address: s.address, port: s.sshPort },
        s.hostKeys,
        address,
        port,
      );
    if (!hop) {
      rows.push(...(await Promise.all(servers.map((s, i) => scan(s, i, s.address, s.sshPort)))).flat());
      continue;
    }
    // Behind the jump host: ssh-keyscan cannot hop, so a tunnel forwards a local port to each server's SSH port
    // (the jump host's relay account allows that and nothing else) and the scan goes through it.
    const ports = await freeLocalPorts(servers.length);
    const dir = await mkdtemp(join(tmpdir(), 'crvs-keyscan-'));
    const socket = join(dir, 'tunnel');
    const trust = { knownHosts: sc.knownHosts, ...(hop.pinned ? { pinned: hop.pinned } : {}) };
    try {
      const tunnel = await fx.exec.run({
        argv: tunnelArgv({
          jump: hop.via,
          identity: sc.identity,
          trust,
          socket,
          forwards: servers.map((s, i) => ({
            local: ports[i] as number,
            address: s.address,
            port: s.sshPort,
          })),
        }),
        allowFailure: true,
        description: `open a tunnel through the jump host to the servers of ${environment}`,
        timeoutMs: 30_000,
      });
      if (tunnel.code !== 0) {
        refuseHostKey('the jump host', trust, tunnel.stderr);
        const why = lastLine(tunnel.stderr) || `exit ${tunnel.code}`;
        for (const [index, s] of servers.entries())
          rows.push({
            environment,
            server: s.name,
            index,
            address: s.address,
            port: s.sshPort,
            key: '',
            fingerprint: '',
            status: 'unreachable',
            detail: `no tunnel through the jump host (${hop.via}): ${why}`,
          });
        continue;
      }
      try {
        rows.push(
          ...(await Promise.all(servers.map((s, i) => scan(s, i, '127.0.0.1', ports[i] as number)))).flat(),
        );
      } finally {
        await fx.exec.run({
          argv: tunnelExitArgv(hop.via, socket),
          allowFailure: true,
          description: 'close the tunnel through the jump host',
          timeoutMs: 15_000,
        });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const order = (r: ScannedKey) =>
    `${envs.indexOf(r.environment)}`.padStart(2, '0') + `${r.index}`.padStart(3, '0');
  return rows.sort((a, b) => order(a).localeCompare(order(b)));
}

/**
 * The spec's text with servers[].hostKeys set for every server that pins nothing yet, from the scan (comments and
 * layout kept). A server whose pinned keys differ from what it presents is never rewritten here: that is for a
 * person who knows the server was rebuilt to edit. Pure.
 */
export function withHostKeys(specText: string, rows: ScannedKey[]): { text: string; written: string[] } {
  const doc = parseDocument(specText);
  const written: string[] = [];
  const byServer = new Map<string, ScannedKey[]>();
  for (const r of rows) {
    if (r.status !== 'unpinned') continue;
    const k = `${r.environment}\u0000${r.index}`;
    byServer.set(k, [...(byServer.get(k) ?? []), r]);
  }
  for (const found of byServer.values()) {
    const first = found[0] as ScannedKey;
    doc.setIn(
      ['environments', first.environment, 'servers', first.index, 'hostKeys'],
      found.map((r) => r.key),
    );
    written.push(first.server);
  }
  return { text: doc.toString({ lineWidth: 0 }), written };
}

/** Whether every scanned server answered and presented only keys the spec pins. */
export const allPinned = (rows: ScannedKey[]): boolean =>
  rows.every((r) => r.status === 'pinned' || r.status === 'extra');

/** One server's keys, asked at `address:port` (the server itself, or the local end of a tunnel to it). */
async function scanOne(
  fx: Effects,
  base: Pick<ScannedKey, 'environment' | 'server' | 'index' | 'address' | 'port'>,
  pinned: string[] | undefined,
  address: string,
  port: number,
): Promise<ScannedKey[]> {
  const r = await fx.exec.run({
    argv: keyscanArgv(address, port),
    allowFailure: true,
    description: `ask ${base.server} for its host keys`,
    timeoutMs: 30_000,
  });
  const found = scannedKeys(r.stdout);
  if (!found.length)
    return [
      {
        ...base,
        key: '',
        fingerprint: '',
        status: 'unreachable',
        detail: lastLine(r.stderr) || `no key (exit ${r.code})`,
      },
    ];
  const rows = found.map((key) => {
    const k = parseHostKey(key);
    return {
      ...base,
      key,
      fingerprint: typeof k === 'string' ? '' : fingerprint(k),
      status: scanStatus(pinned, key) as ScannedKey['status'],
    };
  });
  // A server that proves a pinned key is the one pinned: ssh settles on that key's type, so its other key types
  // are extra, not a mismatch.
  return rows.some((r) => r.status === 'pinned')
    ? rows.map((r) => (r.status === 'differs' ? { ...r, status: 'extra' } : r))
    : rows;
}
