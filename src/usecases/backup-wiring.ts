// The backup part of a provisioning run: which servers get the backup runner or the restore drill, what the
// backup server authorizes, and the secret values each end needs. Reads the stores of the environments taking
// part (generating a missing backup key in the store of an environment this run provisions) and the backup
// server's host key from the known_hosts file crvs itself trusts.

import {
  BACKUP_SSH_KEY,
  type BackupEnds,
  backupEnds,
  backupEnvironments,
  clientAddresses,
  JOURNAL_SSH_KEY,
  journalSenders,
  journalVars,
  keyHolders,
  keyRef,
  PASSPHRASE,
  type PublicKeys,
  RESTORE_SSH_KEY,
  restoreVars,
  retiredJournalServers,
  retiredRestoreServers,
  sourceVars,
  targetVars,
} from '../backup/wiring.js';
import { AUTOMATION_USER, specPaths } from '../config/environment.js';
import { jumpHop, knownHostsName, pinnedKnownHosts } from '../config/host-keys.js';
import { sshProbe } from '../provision/playbook.js';
import { generate } from '../secrets/generate.js';
import { sensitive } from '../secrets/sensitive.js';
import { sshPublicKey } from '../secrets/ssh-key.js';
import { recipients, SecretStore, type Secrets } from '../secrets/store.js';
import type { Effects, SpecContext } from './context.js';

export interface BackupWiring {
  /** Inventory groups the backup plays target: server name -> {} */
  groups: Record<string, Record<string, Record<string, never>>>;
  /** Per environment in the run: plain variables (inventory) and secret ones (0600 group_vars). */
  vars: Record<string, Record<string, unknown>>;
  secretVars: Record<string, Record<string, unknown>>;
  /** Addresses the backup server's firewall must let reach SSH. */
  sshSources: string[];
  notes: string[];
}

/** known_hosts lines of a server from crvs's own known_hosts (hashed or not), as `ssh-keygen -F` finds them. */
async function hostKeyLines(
  fx: Effects,
  knownHosts: string,
  address: string,
  port: number,
): Promise<string[]> {
  const host = knownHostsName(address, port);
  const r = await fx.exec.run({
    argv: ['ssh-keygen', '-F', host, '-f', knownHosts],
    allowFailure: true,
    description: `find the pinned host key of ${host}`,
  });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

export async function backupWiring(
  fx: Effects,
  sc: SpecContext,
  run: string[],
  check = false,
): Promise<BackupWiring | undefined> {
  const { spec } = sc;
  const ends = backupEnds(spec);
  const group = (servers: string[]) => Object.fromEntries(servers.map((s) => [s, {}]));
  const retired = retiredRestoreServers(spec, ends, run);
  const retiredJournal = retiredJournalServers(spec, ends, run);
  const retiredGroup =
    retired.length || retiredJournal.length
      ? {
          ...(retired.length ? { restore_retired: group(retired) } : {}),
          ...(retiredJournal.length ? { journal_retired: group(retiredJournal) } : {}),
        }
      : undefined;
  if (!ends || !run.some((e) => backupEnvironments(ends).includes(e)))
    return retiredGroup
      ? { groups: retiredGroup, vars: {}, secretVars: {}, sshSources: [], notes: [] }
      : undefined;
  const stores = new Map<string, { store: SecretStore; secrets: Secrets }>();
  const open = async (environment: string) => {
    let s = stores.get(environment);
    if (!s) {
      const store = new SecretStore(fx.exec, specPaths(sc.specFile).store(environment), environment);
      s = { store, secrets: await store.load(sc.identity) };
      stores.set(environment, s);
    }
    return s;
  };
  const notes: string[] = [];
  // Keys: generated into the store of an environment this run provisions; read from the others.
  const keys: PublicKeys = {};
  const privateKeys: Record<string, string> = {};
  const changed = new Set<string>();
  const senders = journalSenders(spec, ends);
  for (const k of keyHolders(ends, senders)) {
    const { secrets } = await open(k.environment);
    // A check run changes nothing, the stores included.
    if (!secrets.has(k.secret) && run.includes(k.environment) && !check) {
      secrets.set(k.secret, {
        value: sensitive(generate({ kind: 'ssh-ed25519', comment: k.comment }), k.secret),
        setAt: fx.now().toISOString(),
      });
      changed.add(k.environment);
    }
    const value = secrets.get(k.secret)?.value.reveal();
    if (typeof value !== 'string') {
      notes.push(
        `${k.secret} is not in the ${k.environment} store yet: provision ${k.environment} to wire it`,
      );
      continue;
    }
    keys[keyRef(k.environment, k.secret)] = sshPublicKey(value);
    privateKeys[keyRef(k.environment, k.secret)] = value;
  }
  for (const environment of changed) {
    const s = await open(environment);
    await s.store.save(s.secrets, await recipients(spec, sc.specFile));
  }

  const vars: Record<string, Record<string, unknown>> = {};
  const secretVars: Record<string, Record<string, unknown>> = {};
  const groups: BackupWiring['groups'] = { ...retiredGroup };
  const needsHostKey = [ends.source, ...ends.restores].some((e) => run.includes(e.environment));
  const hostKeys = needsHostKey ? await backupServerHostKeys(fx, sc, ends) : [];
  const passphrase = (await open(ends.source.environment)).secrets.get(PASSPHRASE)?.value.reveal();
  // Without these an end cannot back up or restore: the run goes on (hardening must not wait for the backup
  // server) and says loudly what is not wired.
  const missing = [
    ...(typeof passphrase === 'string' && passphrase
      ? []
      : [
          `${PASSPHRASE} is not in the ${ends.source.environment} secrets store (crvs secrets init ${ends.source.environment})`,
        ]),
    ...(needsHostKey && !hostKeys.length
      ? [
          `no host key of the backup server ${ends.target.server} (${ends.target.address}): it did not answer SSH`,
        ]
      : []),
  ];
  const wire = (environment: string) => {
    if (!missing.length) return true;
    notes.push(`${environment}'s part is NOT wired, no backup or restore runs there: ${missing.join('; ')}`);
    return false;
  };

  if (run.includes(ends.target.environment))
    vars[ends.target.environment] = targetVars(spec, ends, keys, senders);
  const source = ends.source.environment;
  const backupKey = privateKeys[keyRef(source, BACKUP_SSH_KEY)];
  if (run.includes(source) && backupKey && wire(source)) {
    groups.backup_source = { [ends.source.server]: {} };
    vars[source] = sourceVars(spec, ends, hostKeys);
    secretVars[source] = {
      crvs_backup_client_passphrase: passphrase,
      crvs_backup_client_private_key: backupKey,
    };
  }
  for (const restore of ends.restores) {
    const key = privateKeys[keyRef(restore.environment, RESTORE_SSH_KEY)];
    if (!run.includes(restore.environment) || !key || !wire(restore.environment)) continue;
    groups.restore_target = { ...groups.restore_target, [restore.server]: {} };
    vars[restore.environment] = restoreVars(spec, ends, restore, hostKeys);
    secretVars[restore.environment] = {
      crvs_backup_restore_passphrase: passphrase,
      crvs_backup_restore_private_key: key,
    };
  }
  // The journal: every server of a forwarding environment in the run, with that environment's key.
  for (const sender of senders) {
    const { environment } = sender;
    const key = privateKeys[keyRef(environment, JOURNAL_SSH_KEY)];
    if (!run.includes(environment) || !key || !hostKeys.length) continue;
    groups.journal_sender = { ...groups.journal_sender, [sender.server]: {} };
    vars[environment] = { ...vars[environment], ...journalVars(ends, hostKeys) };
    secretVars[environment] = { ...secretVars[environment], crvs_journal_private_key: key };
  }
  return { groups, vars, secretVars, sshSources: clientAddresses(ends, senders), notes };
}

/** The backup server's host key as crvs pinned it; reached once first when crvs has never been there. */
async function backupServerHostKeys(fx: Effects, sc: SpecContext, ends: BackupEnds): Promise<string[]> {
  const { address, port } = ends.target;
  // Pinned by the spec: its keys, whatever was seen before.
  const host = `${knownHostsName(address, port)} `;
  const pinned = pinnedKnownHosts(sc.spec).filter((l) => l.startsWith(host));
  if (pinned.length) return pinned;
  let lines = await hostKeyLines(fx, sc.knownHosts, address, port);
  if (!lines.length) {
    // sshProbe accepts a new host key into crvs's known_hosts (never a changed one), as provisioning does.
    const jump = jumpHop(sc.spec, ends.target.environment, sc.knownHosts);
    await fx.exec.run(
      sshProbe(sc.identity, { knownHosts: sc.knownHosts }, AUTOMATION_USER, address, port, jump),
    );
    lines = await hostKeyLines(fx, sc.knownHosts, address, port);
  }
  return lines;
}
