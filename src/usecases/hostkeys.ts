// `crvs hostkeys`: the host keys each server presents on a first contact, beside what the spec pins, and (once the
// operator compared the fingerprints with the servers' own) written into the spec's servers[].hostKeys.
import { parseDocument } from 'yaml';
import { ENVIRONMENTS, proxyJump } from '../config/environment.js';
import { fingerprint, parseHostKey, type ScanStatus, scannedKeys, scanStatus } from '../config/host-key.js';
import { UsageError } from '../errors.js';
import { keyscanArgv } from '../remote/host-keys.js';
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
  status: ScanStatus | 'unreachable';
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
    const behindJump = Boolean(proxyJump(sc.spec, environment));
    await Promise.all(
      servers.map(async (s, index) => {
        const base = { environment, server: s.name, index, address: s.address, port: s.sshPort };
        if (behindJump) {
          rows.push({
            ...base,
            key: '',
            fingerprint: '',
            status: 'unreachable',
            detail: `behind the jump host, which ssh-keyscan cannot go through: read ${s.name}'s /etc/ssh/ssh_host_ed25519_key.pub on its console`,
          });
          return;
        }
        const r = await fx.exec.run({
          argv: keyscanArgv(s.address, s.sshPort),
          allowFailure: true,
          description: `ask ${s.name} for its host keys`,
          timeoutMs: 30_000,
        });
        const found = scannedKeys(r.stdout);
        if (!found.length)
          rows.push({
            ...base,
            key: '',
            fingerprint: '',
            status: 'unreachable',
            detail:
              r.stderr
                .trim()
                .split('\n')
                .filter((l) => !l.startsWith('#'))
                .at(-1) ?? `no key (exit ${r.code})`,
          });
        for (const key of found) {
          const k = parseHostKey(key);
          rows.push({
            ...base,
            key,
            fingerprint: typeof k === 'string' ? '' : fingerprint(k),
            status: scanStatus(s.hostKeys, key),
          });
        }
      }),
    );
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
export const allPinned = (rows: ScannedKey[]): boolean => rows.every((r) => r.status === 'pinned');
