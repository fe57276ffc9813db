// `crvs doctor [env...]`: the deployment guide's requirements checked on the servers as they are. Each server is
// read in one SSH session (src/doctor/probe.ts), the link is timed with random bytes, DNS is asked, the backups
// and drills are read where the spec keeps them; src/doctor/verdicts.ts turns each fact into a finding.
import { randomBytes } from 'node:crypto';
import { BORG_ROOT, backupCron, backupEnds, cronOf } from '../backup/wiring.js';
import { inferPhase } from '../config/cluster.js';
import { DATA_ROOT } from '../config/data-layout.js';
import {
  definedEnvironments,
  environmentKind,
  isApplicationEnvironment,
  managerServer,
  serversOf,
} from '../config/environment.js';
import { GRACE_MINUTES, staleAfterMinutes } from '../config/freshness.js';
import { longestGapMinutes } from '../config/schedule.js';
import type { Spec } from '../config/schema.js';
import { readSmtpCa } from '../config/smtp-ca.js';
import type { DnsLookup } from '../dns/resolver.js';
import { egressCommand, egressTargets, parseEgress } from '../doctor/egress.js';
import { linkCommand, parseLink, parseProbe, probeCommand } from '../doctor/probe.js';
import { parseSmtp, type SmtpSettings, smtpCommand, smtpFindings } from '../doctor/smtp.js';
import { type ServedCertificate, tlsFinding } from '../doctor/tls.js';
import {
  backupFinding,
  diskFindings,
  dnsFindings,
  drillFinding,
  egressFindings,
  type Finding,
  linkFinding,
  type Status,
  serverFindings,
  worst,
} from '../doctor/verdicts.js';
import { capacityPlan, type ServerSpecification } from '../plan/capacity.js';
import { DEFAULT_RATES, sizingInputs } from '../plan/sizing.js';
import { lastLine } from '../remote/executor.js';
import { openStore } from '../secrets/manage.js';
import { archives, drills } from './backup.js';
import { type Effects, type SpecContext, serverHost } from './context.js';
import { checkEnvironmentDns, stackHosts } from './dns.js';

export interface DoctorOptions {
  /** Bytes sent to time the link; 0 skips the link test. */
  linkBytes: number;
  /** --send-test-to: a test message through the relay from each environment checked. */
  sendTestTo?: string;
  dns: DnsLookup;
  /** One TLS handshake: the certificate `address:port` serves for `name` (src/doctor/tls.ts readCertificate). */
  certificate: (
    address: string,
    port: number,
    name: string,
  ) => Promise<ServedCertificate | { error: string }>;
}

export interface DoctorReport {
  environment: string;
  status: Status;
  findings: Finding[];
}

/** The guide's minimum for a server of this environment; none for a jump host. */
function requirement(spec: Spec, environment: string): ServerSpecification | undefined {
  const kind = environmentKind(environment);
  if (kind === 'jump') return undefined;
  // Without a sizing section the disks are held to the operating system's share alone (population 0).
  const inputs = sizingInputs(spec.sizing) ?? { population: 0, ...DEFAULT_RATES };
  const plan = capacityPlan(inputs, spec.phase ?? inferPhase(spec));
  return plan.specifications.find((s) => s.environment === environment);
}

/** Where the environment's data lives on its servers: the data root, or the backup server's repositories. */
const dataPathOf = (environment: string) =>
  environmentKind(environment) === 'backup'
    ? BORG_ROOT
    : environmentKind(environment) === 'application'
      ? DATA_ROOT
      : '/';

/** Values of the environment's store by secret name; none, with a note, when the store cannot be read. */
async function storeValues(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  names: string[],
): Promise<{ values: Map<string, string>; note?: string }> {
  const values = new Map<string, string>();
  if (!names.length) return { values };
  try {
    const store = await openStore({ ...sc, exec: fx.exec, environment }).load(sc.identity);
    for (const name of names) {
      const value = store.get(name)?.value.reveal();
      if (typeof value === 'string' && value) values.set(name, value);
    }
    return { values };
  } catch (e) {
    return { values, note: (e as Error).message.split('\n')[0] ?? '' };
  }
}

/** The alert webhooks of the environment's store, as the servers use them; none when the store cannot be read. */
async function webhooks(
  fx: Effects,
  sc: SpecContext,
  environment: string,
): Promise<{ urls: { name: string; url: string }[]; note?: string }> {
  const names = [
    ['webhook', sc.spec.alerts.webhookSecret],
    ['slack', sc.spec.alerts.slackWebhookSecret],
  ].filter((n): n is [string, string] => Boolean(n[1]));
  const { values, note } = await storeValues(
    fx,
    sc,
    environment,
    names.map(([, secret]) => secret),
  );
  return {
    urls: names.flatMap(([name, secret]) => {
      const url = values.get(secret);
      return url ? [{ name, url }] : [];
    }),
    ...(note ? { note: `the alert webhooks were not tried: ${note}` } : {}),
  };
}

/** The relay, talked to from the environment's first server with the store's credentials (src/doctor/smtp.ts). */
async function smtpChecks(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  sendTo: string | undefined,
): Promise<Finding[]> {
  const smtp = sc.spec.smtp;
  if (!smtp) return [];
  const server = serversOf(sc.spec, environment)[0];
  if (!server) return [];
  const { values, note } = await storeValues(fx, sc, environment, [smtp.usernameSecret, smtp.passwordSecret]);
  const settings: SmtpSettings = {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    sender: smtp.sender,
    username: values.get(smtp.usernameSecret) ?? '',
    password: values.get(smtp.passwordSecret) ?? '',
    ca: (await readSmtpCa(sc.spec, sc.specFile)) ?? '',
    probeTo: sc.spec.alerts.email[0] ?? '',
    sendTo: sendTo ?? '',
    origin: `Sent by crvs doctor from ${server.name} (${environment}) through ${smtp.host}:${smtp.port}.`,
  };
  fx.progress(`doctor: talking to the SMTP relay ${smtp.host}:${smtp.port} from ${server.name}`);
  const r = await fx.exec.run(smtpCommand(serverHost(sc.spec, environment, server, sc), settings));
  const findings = smtpFindings(environment, server.name, settings, parseSmtp(r.stdout), r.stderr);
  if (note)
    findings.unshift({
      environment,
      check: 'smtp',
      subject: `${smtp.host}:${smtp.port}`,
      status: 'info',
      detail: `tried without credentials: the store could not be read (${note})`,
    });
  return findings;
}

async function serverChecks(fx: Effects, sc: SpecContext, environment: string): Promise<Finding[]> {
  const need = requirement(sc.spec, environment);
  const dataPath = dataPathOf(environment);
  const findings: Finding[] = [];
  const hooks = await webhooks(fx, sc, environment);
  if (hooks.note)
    findings.push({ environment, check: 'egress', subject: environment, status: 'info', detail: hooks.note });
  const targets = egressTargets(sc.spec, environmentKind(environment), hooks.urls);
  for (const server of serversOf(sc.spec, environment)) {
    fx.progress(`doctor: reading ${server.name} (${environment})`);
    let arrived: number | undefined;
    const command = probeCommand(serverHost(sc.spec, environment, server, sc), [...new Set(['/', dataPath])]);
    const r = await fx.exec.run({
      ...command,
      onStdoutLine: (line) => {
        if (line.startsWith('clock ') && arrived === undefined) arrived = fx.now().getTime();
      },
    });
    const facts = r.code === 0 ? parseProbe(r.stdout) : undefined;
    if (!facts) {
      findings.push({
        environment,
        check: 'reachable',
        subject: server.name,
        status: 'fail',
        detail: `could not read the server: ${lastLine(r.stderr) || `exit ${r.code}`}`,
        action: `check the address, the jump host and the key crvs uses; crvs provision ${environment} if it never was`,
      });
      continue;
    }
    const now = fx.now().getTime();
    findings.push(
      ...serverFindings(environment, server.name, facts, need, dataPath, arrived ?? now),
      ...diskFindings(environment, server.name, facts, now),
    );
    const out = await fx.exec.run(egressCommand(serverHost(sc.spec, environment, server, sc), targets));
    findings.push(...egressFindings(environment, server.name, parseEgress(out.stdout)));
  }
  return findings;
}

async function linkCheck(fx: Effects, sc: SpecContext, environment: string, bytes: number): Promise<Finding> {
  const server = managerServer(sc.spec, environment);
  fx.progress(`doctor: timing the link to ${server.name} with ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  const r = await fx.exec.run(linkCommand(serverHost(sc.spec, environment, server, sc), randomBytes(bytes)));
  const mbits = r.code === 0 ? parseLink(r.stdout) : undefined;
  if (mbits === undefined)
    return {
      environment,
      check: 'link',
      subject: server.name,
      status: 'fail',
      detail: `the link could not be timed: ${lastLine(r.stderr) || `exit ${r.code}`}`,
      action: 'the server needs python3 (every provisioned server has it); see the message',
    };
  return linkFinding(environment, server.name, mbits);
}

async function backupChecks(fx: Effects, sc: SpecContext, environment: string): Promise<Finding[]> {
  const ends = backupEnds(sc.spec);
  if (!ends) return [];
  const now = fx.now().getTime();
  const failed = (check: string, e: unknown): Finding => ({
    environment,
    check,
    subject: environment,
    status: 'fail',
    detail: (e as Error).message,
    action: `crvs provision ${ends.source.environment} ${ends.target.environment}: the backup wiring`,
  });
  if (environment === ends.source.environment) {
    fx.progress(`doctor: reading the archives of ${environment}`);
    try {
      const list = await archives(fx, sc, environment);
      const newest = [...list].sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0];
      return [backupFinding(environment, newest, staleAfterMinutes(backupCron(sc.spec)), now)];
    } catch (e) {
      return [failed('backup', e)];
    }
  }
  const restore = ends.restores.find((r) => r.environment === environment);
  if (!restore?.schedule) return [];
  fx.progress(`doctor: reading the restore drills of ${environment}`);
  try {
    const reports = await drills(fx, sc, environment);
    const limit = longestGapMinutes(cronOf(restore.schedule)) + GRACE_MINUTES;
    return [drillFinding(environment, reports, limit, now)];
  } catch (e) {
    return [failed('restore-drill', e)];
  }
}

/** The certificate each routed name serves on 443, at the address DNS gives (else the manager's). */
async function tlsChecks(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  o: DoctorOptions,
): Promise<Finding[]> {
  const fallback = managerServer(sc.spec, environment).address;
  const findings: Finding[] = [];
  for (const name of stackHosts(sc, environment)) {
    fx.progress(`doctor: reading the certificate of ${name}`);
    const address = (await o.dns.resolve4(name).catch(() => []))[0] ?? fallback;
    findings.push(
      tlsFinding(
        environment,
        name,
        await o.certificate(address, 443, name),
        sc.spec.tls.mode,
        fx.now().getTime(),
      ),
    );
  }
  return findings;
}

export async function doctor(
  fx: Effects,
  sc: SpecContext,
  environments: string[],
  o: DoctorOptions,
): Promise<DoctorReport[]> {
  const names = environments.length ? environments : definedEnvironments(sc.spec);
  for (const e of names) serversOf(sc.spec, e);
  const reports: DoctorReport[] = [];
  for (const environment of names) {
    const findings = await serverChecks(fx, sc, environment);
    if (o.linkBytes > 0 && environmentKind(environment) !== 'jump')
      findings.push(await linkCheck(fx, sc, environment, o.linkBytes));
    if (isApplicationEnvironment(environment)) {
      fx.progress(`doctor: asking DNS for the names of ${environment}`);
      findings.push(
        ...dnsFindings(environment, (await checkEnvironmentDns(sc, environment, o.dns)).findings),
      );
    }
    if (isApplicationEnvironment(environment)) findings.push(...(await tlsChecks(fx, sc, environment, o)));
    // The relay is tried from the first server; when that server could not be read, it says enough.
    const first = serversOf(sc.spec, environment)[0]?.name;
    if (!findings.some((f) => f.check === 'reachable' && f.subject === first))
      findings.push(...(await smtpChecks(fx, sc, environment, o.sendTestTo)));
    findings.push(...(await backupChecks(fx, sc, environment)));
    reports.push({ environment, status: worst(findings), findings });
  }
  return reports;
}
