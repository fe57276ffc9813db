// Asking DNS: node's own resolver (c-ares), pointed at the system's servers or at one given address. The only
// effect of `crvs dns check`; src/dns/plan.ts judges the answers.
import { Resolver } from 'node:dns/promises';
import type { Caa, DnsAnswer } from './plan.js';

export interface DnsLookup {
  resolve4(name: string): Promise<string[]>;
  resolveCaa(name: string): Promise<Caa[]>;
}

/** `server` is an address, optionally with `:port` (a resolver on a lab or a test's loopback port). */
export function nodeLookup(server?: string): DnsLookup {
  const r = new Resolver({ timeout: 3000, tries: 2 });
  if (server) r.setServers([server]);
  return {
    resolve4: (name) => r.resolve4(name),
    resolveCaa: async (name) =>
      (await r.resolveCaa(name)).map((c) => {
        const { critical, ...rest } = c as unknown as { critical: number } & Record<string, string>;
        const [tag, value] = Object.entries(rest)[0] ?? ['', ''];
        return { critical, tag, value };
      }),
  };
}

const NO_DATA = new Set(['ENODATA', 'ENOTFOUND']);

/** A records of the name, and the closest CAA set at or above it (RFC 8659 climbs to the root). */
export async function lookupName(dns: DnsLookup, name: string): Promise<DnsAnswer> {
  const answer: DnsAnswer = {};
  try {
    answer.addresses = await dns.resolve4(name);
  } catch (e) {
    answer.error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const at = labels.slice(i).join('.');
    try {
      const records = await dns.resolveCaa(at);
      if (records.length) {
        answer.caa = { at, records };
        break;
      }
    } catch (e) {
      if (!NO_DATA.has((e as NodeJS.ErrnoException).code ?? '')) break;
    }
  }
  return answer;
}
