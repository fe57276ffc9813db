// The DNS records an environment needs, and what a resolver's answers say about them. Every name the stack
// routes points at every server of the environment: the ingress answers on any node (Swarm's routing mesh, or
// the proxy on each node), so DNS may pick any of them. Pure.
import { parse } from 'yaml';
import { environmentDomain, serversOf } from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { caaIdentity } from '../deploy/tls.js';

export interface DnsRecord {
  name: string;
  type: 'A';
  /** Addresses, sorted; one A record each. */
  values: string[];
}

export interface DnsPlan {
  environment: string;
  domain: string;
  /** The certificate authority the ingress asks, when it asks one (ACME modes): CAA must allow it. */
  certificateAuthority?: string;
  records: DnsRecord[];
}

const byAddress = (a: string, b: string) => {
  const n = (x: string) =>
    x
      .split('.')
      .map((p) => p.padStart(3, '0'))
      .join('.');
  return n(a) < n(b) ? -1 : n(a) > n(b) ? 1 : 0;
};

/** Host names in a rendered stack's Traefik router rules (`Host(\`a\`)`, `Host(\`a\`, \`b\`)`), sorted. */
export function routedHosts(compose: string): string[] {
  const doc = parse(compose) as {
    services?: Record<string, { deploy?: { labels?: Record<string, string> | string[] } }>;
  };
  const names = new Set<string>();
  for (const service of Object.values(doc.services ?? {})) {
    const labels = service.deploy?.labels ?? {};
    const entries = Array.isArray(labels)
      ? labels.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)
      : Object.entries(labels);
    for (const [key, value] of entries) {
      if (!/^traefik\.http\.routers\.[^.]+\.rule$/.test(key)) continue;
      for (const host of value.matchAll(/Host\(([^)]*)\)/g))
        for (const name of (host[1] ?? '').matchAll(/`([^`]+)`/g))
          names.add((name[1] as string).toLowerCase());
    }
  }
  return [...names].sort();
}

/**
 * The records of one environment: `hosts` are the names its stack answers (the demo preset: the environment's
 * domain; opencrvs: what its routers match), each an A record per server.
 */
export function dnsPlan(spec: Spec, environment: string, hosts: string[]): DnsPlan {
  const domain = environmentDomain(spec.domain, environment);
  const addresses = serversOf(spec, environment)
    .map((s) => s.address)
    .sort(byAddress);
  const ca = caaIdentity(spec);
  return {
    environment,
    domain,
    ...(ca ? { certificateAuthority: ca } : {}),
    records: [...new Set(hosts)].sort().map((name) => ({ name, type: 'A', values: addresses })),
  };
}

/** The plan as a zone-file fragment (absolute names, the zone's default TTL). */
export function renderZone(plan: DnsPlan): string {
  const width = Math.max(...plan.records.map((r) => r.name.length + 1), 0);
  const lines = [
    `; ${plan.environment}: every name its ingress answers, one A record per server (crvs dns plan)`,
  ];
  for (const r of plan.records)
    for (const v of r.values) lines.push(`${`${r.name}.`.padEnd(width)}  IN  ${r.type}  ${v}`);
  if (plan.certificateAuthority)
    lines.push(
      `; CAA: where ${plan.domain} or a parent has CAA records, one must be: 0 issue "${plan.certificateAuthority}"`,
    );
  return `${lines.join('\n')}\n`;
}

/** A CAA record as a resolver gives it. */
export interface Caa {
  critical: number;
  tag: string;
  value: string;
}

/** What the resolver answered for one name: its A records (or the error), and the CAA set that applies to it. */
export interface DnsAnswer {
  addresses?: string[];
  error?: string;
  /** The closest CAA record set at or above the name (RFC 8659), and where it was found. */
  caa?: { at: string; records: Caa[] };
}

export interface DnsFinding {
  name: string;
  status: 'ok' | 'missing' | 'wrong' | 'caa-forbids';
  detail: string;
}

/** Each planned name against the answers: missing, pointing elsewhere, or closed to the CA by CAA. */
export function checkDns(plan: DnsPlan, answers: Record<string, DnsAnswer>): DnsFinding[] {
  return plan.records.map((r) => {
    const a = answers[r.name] ?? {};
    const got = [...new Set(a.addresses ?? [])].sort(byAddress);
    if (!got.length)
      return {
        name: r.name,
        status: 'missing',
        detail: `no A record (${a.error ?? 'no answer'}); want ${r.values.join(', ')}`,
      };
    const foreign = got.filter((x) => !r.values.includes(x));
    if (foreign.length)
      return {
        name: r.name,
        status: 'wrong',
        detail: `answers ${got.join(', ')}; ${foreign.join(', ')} is no server of ${plan.environment} (want ${r.values.join(', ')})`,
      };
    const ca = plan.certificateAuthority;
    const issuers = (a.caa?.records ?? [])
      .filter((c) => c.tag.toLowerCase() === 'issue')
      .map((c) => (c.value.split(';')[0] ?? '').trim().toLowerCase());
    if (ca && issuers.length && !issuers.includes(ca))
      return {
        name: r.name,
        status: 'caa-forbids',
        detail: `CAA at ${a.caa?.at} allows ${issuers.map((i) => i || '(no CA)').join(', ')}, not ${ca}: the certificate cannot be issued`,
      };
    const partial = got.length < r.values.length ? ` (${got.length} of ${r.values.length} servers)` : '';
    return { name: r.name, status: 'ok', detail: `${got.join(', ')}${partial}` };
  });
}
