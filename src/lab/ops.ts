// Day-two lab operations: status, simulated server failure (stop/start), link shaping, alerts received, teardown.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { CrvsError } from '../errors.js';
import type { Executor } from '../remote/executor.js';
import { parseJsonLines } from '../report/jsonl.js';
import {
  containerStart,
  containerStop,
  listByLabel,
  networkInspect,
  removeContainers,
  removeNetworks,
  removeVolumes,
} from './containers.js';
import { clearCommands, parseRate, shapeCommands } from './shape.js';
import { type LabPaths, type LabState, readLabState } from './state.js';
import { findServer, LAB_LABEL } from './topology.js';
import type { LabRun } from './up.js';
import { tcpOpen, waitForPort } from './wait.js';

export interface ServerStatus {
  name: string;
  environment: string;
  address: string;
  container: string;
  state: string;
  ssh: 'open' | 'closed';
}

interface PsLine {
  Names: string;
  State: string;
  Status: string;
}

export async function labStatus(
  exec: Executor,
  paths: LabPaths,
): Promise<{ state: LabState; servers: ServerStatus[] }> {
  const state = await readLabState(paths);
  const t = state.topology;
  const ps = await exec.run({
    argv: ['docker', 'ps', '--all', '--filter', `label=${LAB_LABEL}=${t.name}`, '--format', '{{json .}}'],
    description: 'list lab containers',
  });
  const byName = new Map<string, PsLine>();
  for (const line of ps.stdout.split('\n').filter(Boolean)) {
    const row = JSON.parse(line) as PsLine;
    byName.set(row.Names, row);
  }
  const rows = [
    {
      name: t.services.hostname,
      environment: 'lab',
      address: t.services.address,
      container: t.services.container,
    },
    ...t.servers,
  ];
  const servers = await Promise.all(
    rows.map(async (s) => {
      const row = byName.get(s.container);
      const running = row?.State === 'running';
      return {
        name: s.name,
        environment: s.environment,
        address: s.address,
        container: s.container,
        state: row ? row.State : 'missing',
        ssh: running && s.environment !== 'lab' && (await tcpOpen(s.address, 22)) ? 'open' : 'closed',
      } satisfies ServerStatus;
    }),
  );
  return { state, servers };
}

/** What the lab's alert receiver (lab/images/services/crvs-lab-alerts.py) logs for each POST. */
export interface LabAlert {
  received: string;
  from: string;
  path: string;
  body: unknown;
}

export const ALERTS_LOG = '/var/log/crvs-lab/alerts.jsonl';

/** The receiver's log, oldest first. */
export const parseAlerts = (log: string): LabAlert[] => parseJsonLines<LabAlert>(log);

/** One line of text per alert: the login alert's own text, else the body as JSON. */
export function alertText(a: LabAlert): string {
  const body = a.body as { text?: unknown } | string | null;
  if (typeof body === 'string') return body;
  return typeof body?.text === 'string' ? body.text : JSON.stringify(body);
}

export async function labAlerts(exec: Executor, paths: LabPaths): Promise<LabAlert[]> {
  const state = await readLabState(paths);
  const container = state.topology.services.container;
  const r = await exec.run({
    argv: ['docker', 'exec', container, 'sh', '-c', `test ! -e ${ALERTS_LOG} || cat ${ALERTS_LOG}`],
    allowFailure: true,
    description: 'read the alerts the lab received',
  });
  if (r.code !== 0)
    throw new CrvsError('E_LAB_SERVICES', `cannot read the alert log in ${container}: ${r.stderr.trim()}`, {
      hint: 'is the lab up? crvs lab up (it also replaces a services container older than the receiver)',
    });
  return parseAlerts(r.stdout);
}

/** One message of the lab's mailbox, as lab/images/services/crvs-lab-mail.py prints it. */
export interface LabMail {
  /** When the relay delivered it (UTC, ISO 8601). */
  received: string;
  from: string;
  to: string[];
  subject: string;
  body: string;
  /** The newest Received header on one line: the client, its TLS, its authenticated account. */
  relay: string;
}

/** The mailbox reader's output, oldest first. */
export const parseMail = (jsonl: string): LabMail[] => parseJsonLines<LabMail>(jsonl);

export async function labMail(exec: Executor, paths: LabPaths): Promise<LabMail[]> {
  const state = await readLabState(paths);
  const container = state.topology.services.container;
  const r = await exec.run({
    argv: ['docker', 'exec', container, 'python3', '/usr/local/lib/crvs-lab/mail.py'],
    allowFailure: true,
    description: "read the lab's mailbox",
  });
  if (r.code !== 0)
    throw new CrvsError('E_LAB_SERVICES', `cannot read the mailbox in ${container}: ${r.stderr.trim()}`, {
      hint: 'is the lab up? crvs lab up (it also replaces a services container older than the mail relay)',
    });
  return parseMail(r.stdout);
}

export async function labStop(run: LabRun, paths: LabPaths, server: string): Promise<void> {
  const s = findServer((await readLabState(paths)).topology, server);
  run.progress(`stopping ${s.name} (as if it lost power or network)`);
  await run.exec.run(containerStop(s.container));
}

export async function labStart(run: LabRun, paths: LabPaths, server: string): Promise<void> {
  const state = await readLabState(paths);
  const s = findServer(state.topology, server);
  run.progress(`starting ${s.name}`);
  await run.exec.run(containerStart(s.container));
  await waitForPort(s.address, 22, s.name);
  if (state.shaping) await labShape(run, paths, state.shaping.rate);
}

async function networkId(exec: Executor, state: LabState): Promise<string> {
  const r = await exec.run({ ...networkInspect(state.topology), allowFailure: false });
  return (JSON.parse(r.stdout) as { Id: string }).Id;
}

export async function labShape(run: LabRun, paths: LabPaths, rate: string | undefined): Promise<void> {
  const state = await readLabState(paths);
  const id = await networkId(run.exec, state);
  if (rate === undefined) {
    for (const c of clearCommands(state.topology, id)) await run.exec.run(c);
    delete state.shaping;
    run.progress('link shaping cleared');
  } else {
    const r = parseRate(rate);
    for (const c of shapeCommands(state.topology, id, r)) await run.exec.run(c);
    state.shaping = { rate: r };
    run.progress(`every lab server's link shaped to ${r} in each direction`);
  }
  await writeFile(paths.state, `${JSON.stringify(state, null, 2)}\n`);
}

/** The directory is this lab's when its state (or, after a failed first `up`, its SSH config) names it. */
async function dirBelongsTo(paths: LabPaths, name: string): Promise<boolean> {
  if (existsSync(paths.state))
    return (JSON.parse(await readFile(paths.state, 'utf8')) as LabState).topology.name === name;
  if (existsSync(paths.sshConfig))
    return (await readFile(paths.sshConfig, 'utf8')).startsWith(`# crvs lab ${name}.`);
  return false;
}

export interface DownResult {
  containers: number;
  volumes: number;
  networks: number;
}

/** Removes what carries this lab's label (and its directory): other labs and other containers stay. */
export async function labDown(run: LabRun, paths: LabPaths, name: string): Promise<DownResult> {
  const ids = async (kind: 'container' | 'volume' | 'network') =>
    (await run.exec.run(listByLabel(kind, name))).stdout.split('\n').filter(Boolean);
  const containers = await ids('container');
  if (containers.length) {
    run.progress(`removing ${containers.length} container(s)`);
    await run.exec.run(removeContainers(containers));
  }
  const volumes = await ids('volume');
  if (volumes.length) await run.exec.run(removeVolumes(volumes));
  const networks = await ids('network');
  if (networks.length) await run.exec.run(removeNetworks(networks));
  if (await dirBelongsTo(paths, name)) await rm(paths.dir, { recursive: true, force: true });
  return { containers: containers.length, volumes: volumes.length, networks: networks.length };
}
