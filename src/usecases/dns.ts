// `crvs dns plan` and `crvs dns check`: the records an environment needs, from the names its stack routes, and
// whether a resolver gives them. Reads local files only (the opencrvs preset's compose files, as deploy would
// render them); check asks DNS and nothing else.
import { applicationEnvironment, environmentDomain } from '../config/environment.js';
import { checkDns, type DnsFinding, type DnsPlan, dnsPlan, routedHosts } from '../dns/plan.js';
import { type DnsLookup, lookupName } from '../dns/resolver.js';
import type { SpecContext } from './context.js';
import { renderRelease } from './release.js';

/** The names the environment's stack answers: the demo's proxy takes its domain; opencrvs routes by host. */
export function stackHosts(sc: SpecContext, environment: string): string[] {
  applicationEnvironment(sc.spec, environment);
  if (sc.spec.stack.preset === 'demo') return [environmentDomain(sc.spec.domain, environment)];
  return routedHosts(renderRelease(sc.spec, sc.specFile, environment, sc.spec.stack.version, {}).compose);
}

export const planDns = (sc: SpecContext, environment: string): DnsPlan =>
  dnsPlan(sc.spec, environment, stackHosts(sc, environment));

export interface DnsCheck {
  plan: DnsPlan;
  findings: DnsFinding[];
  ok: boolean;
}

export async function checkEnvironmentDns(
  sc: SpecContext,
  environment: string,
  dns: DnsLookup,
): Promise<DnsCheck> {
  const plan = planDns(sc, environment);
  const answers = Object.fromEntries(
    await Promise.all(plan.records.map(async (r) => [r.name, await lookupName(dns, r.name)] as const)),
  );
  const findings = checkDns(plan, answers);
  return { plan, findings, ok: findings.every((f) => f.status === 'ok') };
}
