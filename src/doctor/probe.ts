// What `crvs doctor` reads from each server, in one SSH session: the facts the deployment guide sets a minimum
// for (architecture, OS, CPUs, memory, disks), the clock, and a disk-usage sample it keeps on the server, so that
// growth is measured across runs from anywhere (a CI runner keeps nothing between jobs). Pure.
import { onHost, type RemoteHost } from '../remote/host.js';
import { cmd, sudo } from '../remote/shell.js';

/** Where each server keeps its disk samples, one line per filesystem and run: `<ISO time> <mount> <used> <size>`. */
export const DISK_HISTORY = '/var/lib/crvs/doctor/disk.log';
/** Samples kept per server: a year of daily runs for three paths, and then some. */
export const DISK_HISTORY_LINES = 1200;

/**
 * The probe, run by bash from stdin as root (the history is root's). Its first line is the server's clock, so
 * that the time it arrives here measures the offset within a one-way trip. Each argument is a path whose
 * filesystem is measured (absent ones are skipped).
 */
export const PROBE_SCRIPT = `set -u
echo "clock $(date +%s.%N)"
echo "arch $(uname -m)"
echo "cpus $(nproc)"
echo "memory_kb $(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
( . /etc/os-release && echo "os_id $ID" && echo "os_version \${VERSION_ID:-}" && echo "os_name $PRETTY_NAME" )
echo "ntp $(timedatectl show -p NTPSynchronized --value 2>/dev/null || echo unknown)"
echo "virt $(systemd-detect-virt 2>/dev/null || echo none)"
mkdir -p "$(dirname ${DISK_HISTORY})"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
declare -A seen
for p in "$@"; do
  [ -d "$p" ] || continue
  read -r target size used avail < <(df -B1 --output=target,size,used,avail "$p" | tail -1)
  echo "disk $p $target $size $used $avail"
  [ -n "\${seen[$target]:-}" ] && continue
  seen[$target]=1
  echo "$now $target $used $size" >> ${DISK_HISTORY}
done
tail -n ${DISK_HISTORY_LINES} ${DISK_HISTORY} > ${DISK_HISTORY}.new && mv ${DISK_HISTORY}.new ${DISK_HISTORY}
sed 's/^/history /' ${DISK_HISTORY}
`;

export const probeCommand = (host: RemoteHost, paths: string[]) =>
  onHost(host, sudo('bash', '-s', '--', ...paths), {
    stdin: PROBE_SCRIPT,
    description: `read the facts of a server of ${host.environment}`,
    allowFailure: true,
    timeoutMs: 60_000,
  });

export interface DiskSample {
  at: string;
  /** The filesystem's mount point. */
  path: string;
  usedBytes: number;
  sizeBytes: number;
}

export interface ServerFacts {
  /** The server's clock, seconds since the epoch, as it printed it. */
  clock: number;
  arch: string;
  cpus: number;
  memoryKB: number;
  os: { id: string; version: string; name: string };
  /** timedatectl's NTPSynchronized: yes, no, or unknown (no timedatectl). */
  ntp: string;
  /** systemd-detect-virt: none, kvm, docker... */
  virt: string;
  /** One per filesystem: its mount point, and the probed paths it holds. */
  disks: { target: string; paths: string[]; sizeBytes: number; usedBytes: number; availBytes: number }[];
  history: DiskSample[];
}

/** The probe's answer; undefined when a line every answer has is missing (not a Linux server crvs knows). */
export function parseProbe(stdout: string): ServerFacts | undefined {
  const one: Record<string, string> = {};
  const disks: ServerFacts['disks'] = [];
  const history: DiskSample[] = [];
  for (const line of stdout.split('\n')) {
    const [key, ...rest] = line.split(' ');
    if (!key || !rest.length) continue;
    if (key === 'disk') {
      const [path, target, size, used, avail] = rest;
      if (!path || !target || !size || !used || !avail) continue;
      const known = disks.find((d) => d.target === target);
      if (known) known.paths.push(path);
      else
        disks.push({
          target,
          paths: [path],
          sizeBytes: Number(size),
          usedBytes: Number(used),
          availBytes: Number(avail),
        });
    } else if (key === 'history') {
      const [at, path, used, size] = rest;
      if (at && path && used && size && !Number.isNaN(Date.parse(at)))
        history.push({ at, path, usedBytes: Number(used), sizeBytes: Number(size) });
    } else one[key] = rest.join(' ');
  }
  const need = ['clock', 'arch', 'cpus', 'memory_kb', 'os_id'];
  if (need.some((k) => !one[k])) return undefined;
  return {
    clock: Number(one.clock),
    arch: one.arch ?? '',
    cpus: Number(one.cpus),
    memoryKB: Number(one.memory_kb),
    os: { id: one.os_id ?? '', version: one.os_version ?? '', name: one.os_name ?? '' },
    ntp: one.ntp ?? 'unknown',
    virt: one.virt ?? 'none',
    disks,
    history,
  };
}

/**
 * The link test: `bytes` of random data to the server, which times them from the first chunk it reads to the
 * last, so that neither the SSH handshake nor what sshd buffered before the reader started counts.
 */
export const LINK_READER = [
  'import sys, time',
  'r = sys.stdin.buffer',
  'first = r.read(65536)',
  't0 = time.monotonic()',
  'n = 0',
  'while True:',
  '    b = r.read(65536)',
  '    if not b: break',
  '    n += len(b)',
  'print(n, time.monotonic() - t0)',
].join('\n');

export const linkCommand = (host: RemoteHost, data: Buffer) =>
  onHost(host, cmd('python3', '-c', LINK_READER), {
    stdin: data,
    description: `measure the link to ${host.environment}`,
    allowFailure: true,
    timeoutMs: 180_000,
  });

/** Mbit/s from the reader's answer (`<bytes> <seconds>`); undefined if it is not that. */
export function parseLink(stdout: string): number | undefined {
  const [bytes, seconds] = stdout.trim().split(' ').map(Number);
  if (!bytes || !seconds || Number.isNaN(bytes) || Number.isNaN(seconds)) return undefined;
  return (bytes * 8) / seconds / 1e6;
}
