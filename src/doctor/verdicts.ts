// `crvs doctor`'s verdicts: each measured fact against the deployment guide's requirement, with what to do when it
// falls short. Pure: the facts come in (probe answers, link timings, DNS answers, backup reports, the time), the
// findings go out, so that every verdict is tested with recorded inputs.
import type { DrillReport } from '../backup/drill-report.js';
import type { ArchiveInfo } from '../backup/remote.js';
import type { DnsFinding } from '../dns/plan.js';
import type { ServerSpecification } from '../plan/capacity.js';
import type { EgressResult } from './egress.js';
import type { DiskSample, ServerFacts } from './probe.js';

export type Status = 'ok' | 'warn' | 'fail' | 'info';

export interface Finding {
  environment: string;
  check: string;
  /** The server, the record name, or the environment itself. */
  subject: string;
  status: Status;
  detail: string;
  /** What to do, when the status is not ok. */
  action?: string;
}

const GB = 1e9;
const GIB = 1024 ** 3;
const DAY_MS = 86_400_000;

/** The guide's absolute minimum link to the servers, Mbit/s. */
export const MINIMUM_MBITS = 10;
/** The guide's alert on a data disk; past FULL_PERCENT doctor fails. */
export const DISK_WARN_PERCENT = 70;
export const DISK_FAIL_PERCENT = 90;
/** A disk that fills sooner than this at the measured growth gets a warning. */
export const FULL_WARN_DAYS = 60;
/** Growth is measured over at least a day of samples, and over at most this many days back. */
export const GROWTH_WINDOW_DAYS = 90;
/** Clock offsets from where crvs runs: TOTP codes last 30 s, so past that logins fail. */
export const CLOCK_WARN_SECONDS = 2;
export const CLOCK_FAIL_SECONDS = 30;

const gb = (bytes: number) => `${(bytes / GB).toFixed(1)} GB`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A filesystem by its mount point, with the probed paths it holds besides. */
const where = (d: ServerFacts['disks'][number]) => {
  const others = d.paths.filter((p) => p !== d.target);
  return others.length ? `${d.target} (holds ${others.join(', ')})` : d.target;
};

/** A server's architecture, OS, CPUs, memory, disk size and clock. `need` is undefined for a jump host. */
export function serverFindings(
  environment: string,
  server: string,
  facts: ServerFacts,
  need: ServerSpecification | undefined,
  dataPath: string,
  /** This machine's clock when the server's clock line arrived, ms since the epoch. */
  arrivedAtMs: number,
): Finding[] {
  const f = (check: string, status: Status, detail: string, action?: string): Finding => ({
    environment,
    check,
    subject: server,
    status,
    detail,
    ...(action && status !== 'ok' ? { action } : {}),
  });
  const out: Finding[] = [];
  out.push(
    facts.arch === 'x86_64'
      ? f('architecture', 'ok', 'x86_64')
      : f(
          'architecture',
          'fail',
          `${facts.arch}: OpenCRVS's images are built for x86_64 only`,
          'use x86_64 (amd64) servers',
        ),
  );
  const os = `${facts.os.name || `${facts.os.id} ${facts.os.version}`}`;
  out.push(
    facts.os.id === 'ubuntu' && facts.os.version === '24.04'
      ? f('os', 'ok', os)
      : facts.os.id === 'ubuntu' || (facts.os.id === 'debian' && facts.os.version === '12')
        ? f(
            'os',
            'warn',
            facts.os.id === 'debian'
              ? `${os}: the guide expects Ubuntu 24.04; crvs's roles are tested on Debian 12 (the lab's servers)`
              : `${os}: the guide expects Ubuntu 24.04`,
            'install Ubuntu 24.04 LTS when the server is next rebuilt',
          )
        : f('os', 'fail', `${os}: the guide expects Ubuntu 24.04`, 'install Ubuntu 24.04 LTS'),
  );
  if (need) {
    const role = need.environment;
    out.push(
      facts.cpus >= need.cpus
        ? f('cpu', 'ok', `${facts.cpus} CPUs (${role} needs ${need.cpus})`)
        : f(
            'cpu',
            'fail',
            `${facts.cpus} CPUs: ${role} needs ${need.cpus}`,
            `give ${server} ${need.cpus} CPUs or more`,
          ),
    );
    // MemTotal leaves out what the kernel keeps for itself: a 16 GB server shows about 15.6 GiB.
    const memory = (facts.memoryKB * 1024) / GIB;
    out.push(
      memory >= need.ramGB * 0.9
        ? f('memory', 'ok', `${memory.toFixed(1)} GiB (${role} needs ${need.ramGB} GB)`)
        : f(
            'memory',
            'fail',
            `${memory.toFixed(1)} GiB: ${role} needs ${need.ramGB} GB`,
            `give ${server} ${need.ramGB} GB of memory or more`,
          ),
    );
    const disk =
      facts.disks.find((d) => d.paths.includes(dataPath)) ?? facts.disks.find((d) => d.target === '/');
    if (disk)
      out.push(
        disk.sizeBytes >= need.diskGB * GB * 0.95
          ? f('disk-size', 'ok', `${gb(disk.sizeBytes)} at ${where(disk)} (${role} needs ${need.diskGB} GB)`)
          : f(
              'disk-size',
              'fail',
              `${gb(disk.sizeBytes)} at ${where(disk)}: ${role} needs ${need.diskGB} GB (crvs plan)`,
              `grow the disk of ${server} to ${need.diskGB} GB or more`,
            ),
      );
  }
  const offset = facts.clock - arrivedAtMs / 1000;
  const abs = Math.abs(offset);
  const behind = `${abs.toFixed(1)} s ${offset < 0 ? 'behind' : 'ahead of'} this machine`;
  const keptBy =
    facts.ntp === 'yes'
      ? 'kept by NTP'
      : facts.virt === 'docker' || facts.virt === 'podman' || facts.virt === 'lxc'
        ? `kept by the host (a ${facts.virt} container)`
        : undefined;
  out.push(
    abs > CLOCK_FAIL_SECONDS
      ? f(
          'clock',
          'fail',
          `${behind}: TOTP codes and certificates fail`,
          'set the clock, and keep it with NTP (systemd-timesyncd)',
        )
      : abs > CLOCK_WARN_SECONDS || !keptBy
        ? f(
            'clock',
            'warn',
            `${behind}, ${keptBy ?? 'not synchronised by NTP'}`,
            "keep the clock with NTP (systemd-timesyncd, or the data centre's time server)",
          )
        : f('clock', 'ok', `within ${abs.toFixed(1)} s, ${keptBy}`),
  );
  return out;
}

/** The link from where crvs runs, against the guide's absolute minimum. */
export function linkFinding(environment: string, server: string, mbits: number): Finding {
  const detail = `${mbits.toFixed(1)} Mbit/s from this machine`;
  return mbits >= MINIMUM_MBITS
    ? { environment, check: 'link', subject: server, status: 'ok', detail }
    : {
        environment,
        check: 'link',
        subject: server,
        status: 'fail',
        detail: `${detail}: under the guide's minimum of ${MINIMUM_MBITS} Mbit/s, deploys will be unworkable`,
        action:
          'ask the data centre for a faster link, or run crvs closer to the servers (a CI runner inside)',
      };
}

export interface GrowthEstimate {
  /** Bytes a day, from the oldest usable sample to now. */
  bytesPerDay: number;
  since: string;
  /** When the disk is full at that rate; undefined when it does not grow. */
  fullOn?: string;
  daysLeft?: number;
}

/** Growth of the filesystem at `path` from its history: the oldest sample at least a day old, within the window. */
export function estimateGrowth(
  path: string,
  usedBytes: number,
  availBytes: number,
  history: DiskSample[],
  nowMs: number,
): GrowthEstimate | undefined {
  const usable = history
    .filter((h) => h.path === path)
    .map((h) => ({ ...h, ms: Date.parse(h.at) }))
    .filter((h) => nowMs - h.ms >= DAY_MS && nowMs - h.ms <= GROWTH_WINDOW_DAYS * DAY_MS)
    .sort((a, b) => a.ms - b.ms);
  const oldest = usable[0];
  if (!oldest) return undefined;
  const days = (nowMs - oldest.ms) / DAY_MS;
  const bytesPerDay = (usedBytes - oldest.usedBytes) / days;
  if (bytesPerDay <= 0) return { bytesPerDay, since: oldest.at };
  const daysLeft = availBytes / bytesPerDay;
  return { bytesPerDay, since: oldest.at, daysLeft, fullOn: day(nowMs + daysLeft * DAY_MS) };
}

/** Used and free on each measured filesystem, and when it fills at the growth doctor has measured. */
export function diskFindings(
  environment: string,
  server: string,
  facts: ServerFacts,
  nowMs: number,
): Finding[] {
  return facts.disks.flatMap((d): Finding[] => {
    const base = { environment, subject: `${server}:${d.target}` };
    const percent = Math.round((d.usedBytes / (d.usedBytes + d.availBytes)) * 100);
    const usage = `${percent}% used, ${gb(d.availBytes)} free of ${gb(d.sizeBytes)}${
      d.paths.some((p) => p !== d.target)
        ? ` (holds ${d.paths.filter((p) => p !== d.target).join(', ')})`
        : ''
    }`;
    const grow = `grow the disk of ${server}, or free space at ${d.target}`;
    const used: Finding =
      percent >= DISK_FAIL_PERCENT
        ? { ...base, check: 'disk-usage', status: 'fail', detail: usage, action: grow }
        : percent >= DISK_WARN_PERCENT
          ? {
              ...base,
              check: 'disk-usage',
              status: 'warn',
              detail: `${usage} (the guide alerts at ${DISK_WARN_PERCENT}%)`,
              action: grow,
            }
          : { ...base, check: 'disk-usage', status: 'ok', detail: usage };
    const g = estimateGrowth(d.target, d.usedBytes, d.availBytes, facts.history, nowMs);
    const growth: Finding = !g
      ? {
          ...base,
          check: 'disk-growth',
          status: 'info',
          detail: 'no sample a day old yet: growth is measured from the next run a day or more from now',
        }
      : g.fullOn === undefined
        ? { ...base, check: 'disk-growth', status: 'ok', detail: `not growing since ${g.since.slice(0, 10)}` }
        : {
            ...base,
            check: 'disk-growth',
            status: (g.daysLeft ?? 0) < FULL_WARN_DAYS ? 'warn' : 'ok',
            detail: `${gb(g.bytesPerDay)} a day since ${g.since.slice(0, 10)}: full on ${g.fullOn}, in ${Math.floor(g.daysLeft ?? 0)} days`,
            ...((g.daysLeft ?? 0) < FULL_WARN_DAYS ? { action: grow } : {}),
          };
    return [used, growth];
  });
}

/** The newest archive of the backed-up environment against the age its schedule allows. */
export function backupFinding(
  environment: string,
  newest: ArchiveInfo | undefined,
  staleAfterMinutes: number,
  nowMs: number,
): Finding {
  const base = { environment, check: 'backup', subject: environment };
  if (!newest)
    return {
      ...base,
      status: 'fail',
      detail: 'no archive on the backup server',
      action: `crvs backup run ${environment}, then see why the timer did not`,
    };
  const age = Math.round((nowMs - Date.parse(newest.time)) / 60_000);
  return age > staleAfterMinutes
    ? {
        ...base,
        status: 'fail',
        detail: `the newest archive (${newest.name}) is ${age} minutes old; the schedule allows ${staleAfterMinutes}`,
        action: `journalctl -u crvs-backup on the data node, then crvs backup run ${environment}`,
      }
    : { ...base, status: 'ok', detail: `the newest archive (${newest.name}) is ${age} minutes old` };
}

/** The newest passed restore drill of a restoring environment against the age its schedule allows. */
export function drillFinding(
  environment: string,
  reports: DrillReport[],
  staleAfterMinutes: number,
  nowMs: number,
): Finding {
  const base = { environment, check: 'restore-drill', subject: environment };
  const passed = reports.find((r) => r.result === 'ok');
  const last = reports[0];
  const lastWord =
    last && last.result !== 'ok' ? `; the last one (${last.startedAt}) ended ${last.result}` : '';
  if (!passed)
    return {
      ...base,
      status: 'fail',
      detail: `no restore drill has passed${lastWord}`,
      action: `crvs restore ${environment}, and crvs backup drills ${environment} for why`,
    };
  const age = Math.round((nowMs - Date.parse(passed.startedAt)) / 60_000);
  return age > staleAfterMinutes || lastWord
    ? {
        ...base,
        status: 'fail',
        detail: `the last passed drill started ${age} minutes ago${lastWord}`,
        action: `crvs backup drills ${environment}`,
      }
    : {
        ...base,
        status: 'ok',
        detail: `the last drill passed, ${age} minutes ago (${passed.archive ?? ''})`,
      };
}

/** Each way out a server was asked to try: it answered, or why not. */
export function egressFindings(environment: string, server: string, results: EgressResult[]): Finding[] {
  return results.map((r) => {
    const where = `${r.name} ${r.host}:${r.port}`;
    return r.ok
      ? { environment, check: 'egress', subject: server, status: 'ok', detail: `${where} answers` }
      : {
          environment,
          check: 'egress',
          subject: server,
          status: 'fail',
          detail: `${where}: ${r.detail || 'no answer'}`,
          action: `let ${server} reach ${r.host} on TCP ${r.port} (the data centre's firewall, or the address in the spec)`,
        };
  });
}

export function dnsFindings(environment: string, dns: DnsFinding[]): Finding[] {
  return dns.map((d) => ({
    environment,
    check: 'dns',
    subject: d.name,
    status: d.status === 'ok' ? 'ok' : 'fail',
    detail: d.detail,
    ...(d.status === 'ok' ? {} : { action: `crvs dns plan ${environment}: the records to create` }),
  }));
}

/** The guide's data-centre requirements no command can see: items a person confirms. */
export const DATA_CENTRE_CHECKLIST = [
  'The servers are in a data centre certified Tier 2 or Tier 3 (Uptime Institute), or equivalent',
  'Uninterruptible power, with independent backup power generation',
  'Air conditioning',
  'Physical access around the clock, for authorised technical staff only',
  'Off-site backups (crvs doctor checks the archives; the off-site location is yours to confirm)',
  'Failsafe internet connectivity, at least 10 Mbit/s to the servers (crvs doctor measures the link)',
  'Security policies and procedures in place',
  "Network administrators who can run and grow the government VPN every user's device connects through",
  'OpenCRVS cannot be reached from the public internet without the VPN',
];

export function worst(findings: Finding[]): Status {
  for (const s of ['fail', 'warn', 'info'] as const) if (findings.some((f) => f.status === s)) return s;
  return 'ok';
}
