// The lab's files on the operator's machine: its ready-to-use spec, key, SSH config and a record of what
// it created. Everything lives in one directory (default .crvs/lab) that `crvs lab down` removes.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PreconditionError } from '../errors.js';
import { labSmtpUser } from './delivery.js';
import { LAB_TSIG_KEY } from './dns.js';
import type { LabTopology } from './topology.js';

export const DEFAULT_LAB_DIR = join('.crvs', 'lab');

export interface LabPaths {
  dir: string;
  spec: string;
  identity: string;
  publicKey: string;
  password: string;
  /** The password of the lab relay's account (LAB_SMTP_USER), 0600 like the admin password. */
  smtpPassword: string;
  /** The TSIG secret that signs dynamic updates of the lab zone (dns-01 challenges), 0600. */
  dnsUpdateKey: string;
  /** The lab CA's certificate, which signs the relay's and the ACME CA's certificates; the lab spec's smtp.ca. */
  ca: string;
  sshConfig: string;
  knownHosts: string;
  state: string;
}

export function labPaths(dir: string): LabPaths {
  const d = resolve(dir);
  return {
    dir: d,
    spec: join(d, 'crvs.yaml'),
    identity: join(d, 'id_ed25519'),
    publicKey: join(d, 'id_ed25519.pub'),
    password: join(d, 'admin-password'),
    smtpPassword: join(d, 'smtp-password'),
    dnsUpdateKey: join(d, 'dns-update-key'),
    ca: join(d, 'lab-ca.pem'),
    sshConfig: join(d, 'ssh_config'),
    knownHosts: join(d, 'known_hosts'),
    state: join(d, 'state.json'),
  };
}

export interface LabState {
  version: 1;
  topology: LabTopology;
  /** The spec the lab was made from. */
  source: string;
  images: { debian: string; server: string; services: string };
  shaping?: { rate: string };
}

export async function readLabState(paths: LabPaths): Promise<LabState> {
  if (!existsSync(paths.state))
    throw new PreconditionError(`no lab in ${paths.dir}`, 'start one with: crvs lab up');
  return JSON.parse(await readFile(paths.state, 'utf8')) as LabState;
}

/**
 * The lab relay's account as `secrets init` takes it ($CRVS_SECRET_SMTP_USERNAME and _PASSWORD, the lab spec's
 * secret names), once `crvs lab up` has made it; empty before. Read when asked, since the demo makes the lab first.
 */
export function labSmtpSecrets(paths: LabPaths): Record<string, string> {
  if (!existsSync(paths.smtpPassword) || !existsSync(paths.state)) return {};
  const state = JSON.parse(readFileSync(paths.state, 'utf8')) as LabState;
  return {
    CRVS_SECRET_SMTP_USERNAME: labSmtpUser(state.topology.domain),
    CRVS_SECRET_SMTP_PASSWORD: readFileSync(paths.smtpPassword, 'utf8').trim(),
  };
}

/**
 * Credentials for lego's rfc2136 provider (KEY=value lines, as a spec's dns-01 credentialsSecret holds them)
 * that update the lab zone through the lab DNS; undefined before `crvs lab up` made the key.
 */
export function labDnsCredentials(paths: LabPaths): string | undefined {
  if (!existsSync(paths.dnsUpdateKey) || !existsSync(paths.state)) return undefined;
  const state = JSON.parse(readFileSync(paths.state, 'utf8')) as LabState;
  return [
    `RFC2136_NAMESERVER=${state.topology.services.address}:53`,
    `RFC2136_TSIG_KEY=${LAB_TSIG_KEY}.`,
    'RFC2136_TSIG_ALGORITHM=hmac-sha256.',
    `RFC2136_TSIG_SECRET=${readFileSync(paths.dnsUpdateKey, 'utf8').trim()}`,
    '',
  ].join('\n');
}
