// Rehearse a slow link with a token-bucket filter (tbf works on these kernels; netem, for latency, does not).
// Shaping applies on both sides of every server's link: its own eth0 (what it sends) and the host's bridge
// (what the host and the outside send to it). Pure builders.
import { UsageError } from '../errors.js';
import type { CommandSpec } from '../remote/executor.js';
import type { LabTopology } from './topology.js';

const RATE = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/;

export function parseRate(rate: string): string {
  const m = RATE.exec(rate.trim().toLowerCase());
  if (!m || Number(m[1]) <= 0)
    throw new UsageError(
      `rate "${rate}" is not a positive number of kbit, mbit or gbit`,
      'e.g. --rate 10mbit',
    );
  return `${m[1]}${m[2]}`;
}

/** The host-side interface Docker creates for a bridge network: br- and the first 12 characters of its id. */
export const bridgeInterface = (networkId: string) => `br-${networkId.slice(0, 12)}`;

/** Burst sized for the rate (at least 32 kbit) so that slow rates still pass full-size packets. */
function tbf(rate: string): string[] {
  return ['tbf', 'rate', rate, 'burst', '64kbit', 'latency', '400ms'];
}

export function shapeCommands(t: LabTopology, networkId: string, rate: string): CommandSpec[] {
  const host: CommandSpec = {
    argv: ['tc', 'qdisc', 'replace', 'dev', bridgeInterface(networkId), 'root', ...tbf(rate)],
    description: `shape the lab bridge to ${rate}`,
  };
  const servers = t.servers.map((s) => ({
    argv: ['docker', 'exec', s.container, 'tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', ...tbf(rate)],
    description: `shape ${s.name} to ${rate}`,
  }));
  return [host, ...servers];
}

export function clearCommands(t: LabTopology, networkId: string): CommandSpec[] {
  const host: CommandSpec = {
    argv: ['tc', 'qdisc', 'del', 'dev', bridgeInterface(networkId), 'root'],
    allowFailure: true,
    description: 'clear the lab bridge shaping',
  };
  const servers = t.servers.map((s) => ({
    argv: ['docker', 'exec', s.container, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root'],
    allowFailure: true,
    description: `clear ${s.name} shaping`,
  }));
  return [host, ...servers];
}
