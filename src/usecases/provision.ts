// `crvs provision`: probe how to connect, enrol TOTP secrets, write the inventory and a 0600 secrets file in a
// private temp dir, run the shipped playbook, report per host. One environment at a time.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  AUTOMATION_USER,
  ENVIRONMENTS,
  JUMP_USER,
  proxyJump,
  serversOf,
  specPaths,
} from '../config/environment.js';
import { hostTrust, jumpHop } from '../config/host-keys.js';
import { environmentEncrypted, presentAdmins } from '../config/rules.js';
import type { Spec } from '../config/schema.js';
import { readSmtpCa } from '../config/smtp-ca.js';
import { CrvsError, UsageError } from '../errors.js';
import {
  type AnsibleEvent,
  describeEvent,
  failedHosts,
  failureLine,
  type HostStats,
  parseEvent,
} from '../provision/events.js';
import {
  buildInventory,
  environmentGroup,
  type Inventory,
  mergeInventories,
  type SecretVars,
  totpRequired,
} from '../provision/inventory.js';
import { playbookCommand, sshProbe } from '../provision/playbook.js';
import { vaultEncrypt } from '../provision/vault.js';
import type { Executor } from '../remote/executor.js';
import { refuseHostKey } from '../remote/host-keys.js';
import {
  DATA_VOLUME_GENERATOR,
  DATA_VOLUME_KEY,
  TOTP_GENERATOR,
  totpSecretName,
} from '../secrets/catalogue.js';
import { generate } from '../secrets/generate.js';
import { sensitive } from '../secrets/sensitive.js';
import { recipients, SecretStore } from '../secrets/store.js';
import { backupWiring } from './backup-wiring.js';
import type { Effects, SpecContext } from './context.js';

export interface ProvisionResult {
  environment: string;
  stats: Record<string, HostStats>;
  connectedAs: Record<string, string>;
  enrolled: string[];
  ms: number;
}

async function publicKey(exec: Executor, identity: string): Promise<string> {
  if (existsSync(`${identity}.pub`)) return (await readFile(`${identity}.pub`, 'utf8')).trim();
  return (
    await exec.run({ argv: ['ssh-keygen', '-y', '-f', identity], description: 'read the public key' })
  ).stdout.trim();
}

/** The CD workflows connect as the automation user with the CI key (secrets/ci.pub), as the operator does. */
async function ciKeys(specFile: string): Promise<string[]> {
  const file = specPaths(specFile).ciKey;
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) /.test(l));
}

/**
 * The environments a provisioning run covers: those named, or with `all` every environment the spec has, in
 * the spec model's order (production first, the backup and jump hosts last).
 */
export function environmentsToProvision(spec: Spec, named: string[], all: boolean): string[] {
  if (all && named.length)
    throw new UsageError(`name environments or give --all, not both (named: ${named.join(', ')})`);
  if (!all && !named.length)
    throw new UsageError('name the environments to provision, or give --all for every one in the spec');
  return all ? ENVIRONMENTS.filter((e) => spec.environments[e] !== undefined) : named;
}

export interface ProvisionOptions {
  environments: string[];
  check?: boolean;
  tags?: string[];
  /** Only these servers of the environments (a rebuilt one); the others are neither checked nor changed. */
  servers?: string[];
}

/** One environment made ready for the playbook: how to reach its servers, its inventory and its secret values. */
interface Prepared {
  environment: string;
  inventory: Inventory;
  vars: SecretVars;
  connectAs: Record<string, string>;
  enrolled: string[];
}

/**
 * Provisions environments in one Ansible run per batch, their servers in parallel. Behind a jump host that is
 * itself being provisioned, the jump host goes first in a run of its own: the others are reached through it.
 */
export async function provision(
  fx: Effects,
  sc: SpecContext,
  o: ProvisionOptions,
): Promise<ProvisionResult[]> {
  const { spec } = sc;
  for (const environment of o.environments) serversOf(spec, environment);
  if (!presentAdmins(spec).length)
    throw new CrvsError(
      'E_NO_ADMIN',
      `${sc.specFile} has no present admin: hardening ${o.environments.join(', ')} would leave nobody able to log in`,
      { hint: 'add an admin with an SSH key to crvs.yaml (crvs validate says where)' },
    );
  const wanted = [...new Set(o.environments)];
  const known = wanted.flatMap((e) => serversOf(spec, e).map((s) => s.name));
  const stranger = (o.servers ?? []).filter((s) => !known.includes(s));
  if (stranger.length)
    throw new UsageError(
      `--server ${stranger.join(', ')}: not a server of ${wanted.join(', ')}`,
      `the servers there: ${known.join(', ')}`,
    );
  const throughJump = spec.connection.method === 'bastion' && wanted.includes('jump') && wanted.length > 1;
  const batches = throughJump ? [['jump'], wanted.filter((e) => e !== 'jump')] : [wanted];
  const results: ProvisionResult[] = [];
  for (const batch of batches) results.push(...(await provisionBatch(fx, sc, batch, o)));
  return results;
}

async function provisionBatch(
  fx: Effects,
  sc: SpecContext,
  environments: string[],
  o: ProvisionOptions,
): Promise<ProvisionResult[]> {
  const started = fx.now().getTime();
  const key = await publicKey(fx.exec, sc.identity);
  const automationKeys = [key, ...(await ciKeys(sc.specFile)).filter((k) => k !== key)];
  const prepared = await Promise.all(environments.map((e) => prepare(fx, sc, e, automationKeys, o)));
  // After prepare: it may have saved a store (TOTP enrolment) that the wiring reads and may save again.
  const backups = await backupWiring(fx, sc, environments, o.check ?? false);
  for (const note of backups?.notes ?? []) fx.progress(`backups: ${note}`);
  const inventory = mergeInventories(
    prepared.map((p) => withBackupVars(p, backups?.vars[p.environment], backups?.sshSources)),
  );
  for (const [group, hosts] of Object.entries(backups?.groups ?? {}))
    inventory.all.children[group] = { hosts };
  const dir = await mkdtemp(join(tmpdir(), 'crvs-provision-'));
  try {
    await chmod(dir, 0o700);
    await writeFile(join(dir, 'inventory.yml'), stringify(inventory), { mode: 0o600 });
    // Secret values per environment, in Ansible's group_vars beside the inventory, encrypted with Ansible Vault
    // under a password made for this run alone: it reaches ansible-playbook on its stdin, so no file of the run
    // holds a secret in clear, even for the hour a run may take. 0600, removed after the run.
    const vaultPassword = sensitive(
      randomBytes(32).toString('base64url'),
      "the provisioning run's Vault password",
    );
    await mkdir(join(dir, 'group_vars'), { mode: 0o700 });
    for (const p of prepared)
      await writeFile(
        join(dir, 'group_vars', `${environmentGroup(p.environment)}.json`),
        vaultEncrypt(
          JSON.stringify({ ...p.vars, ...backups?.secretVars[p.environment] }),
          vaultPassword.reveal(),
        ),
        {
          mode: 0o600,
        },
      );
    let stats: Record<string, HostStats> = {};
    const r = await fx.exec.run(
      playbookCommand(
        dir,
        {
          environments,
          ...(o.check ? { check: true } : {}),
          ...(o.tags ? { tags: o.tags } : {}),
          ...(o.servers?.length ? { limit: o.servers } : {}),
          vaultPassword,
        },
        (line) => {
          const e: AnsibleEvent | undefined = parseEvent(line);
          if (!e) return;
          if (e.event === 'stats') stats = e.hosts;
          const text = describeEvent(e);
          if (text) fx.progress(text);
        },
      ),
    );
    // The failed tasks are repeated in the error: in a long run they scrolled away hundreds of lines before.
    const failures: string[] = [];
    for (const line of r.stdout.split('\n')) {
      const e = parseEvent(line);
      if (e?.event === 'stats') stats = e.hosts;
      if (e?.event === 'result' && (e.status === 'failed' || e.status === 'unreachable'))
        failures.push(failureLine(e));
    }
    const failed = failedHosts(stats);
    if (r.code !== 0 || failed.length || Object.keys(stats).length === 0)
      throw new CrvsError(
        'E_PROVISION',
        `provisioning ${environments.join(', ')} failed${failed.length ? ` on ${failed.join(', ')}` : ''}${
          failures.length
            ? `:\n${failures.slice(0, 5).join('\n')}${failures.length > 5 ? `\n(and ${failures.length - 5} more above)` : ''}`
            : ''
        }`,
        { hint: r.stderr.trim().split('\n').slice(-3).join(' ') || 'see the failed tasks above' },
      );
    const ms = fx.now().getTime() - started;
    return prepared.map((p) => ({
      environment: p.environment,
      stats: Object.fromEntries(Object.entries(stats).filter(([host]) => host in p.connectAs)),
      connectedAs: p.connectAs,
      enrolled: p.enrolled,
      ms,
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An environment's inventory with its part of the backup wiring; the backup server also opens SSH to the ends. */
function withBackupVars(
  p: Prepared,
  vars: Record<string, unknown> | undefined,
  sshSources: string[] | undefined,
): Prepared {
  if (!vars) return p;
  const all = { ...p.inventory.all.vars, ...vars };
  if (p.environment === 'backup' && sshSources) {
    const sources = all.crvs_ssh_allowed_sources as string[];
    all.crvs_ssh_allowed_sources = [...sources, ...sshSources.filter((a) => !sources.includes(a))];
  }
  return { ...p, inventory: { all: { ...p.inventory.all, vars: all } } };
}

async function prepare(
  fx: Effects,
  sc: SpecContext,
  environment: string,
  automationKeys: string[],
  o: ProvisionOptions,
): Promise<Prepared> {
  const { spec } = sc;
  const servers = serversOf(spec, environment);

  // Jump host: the relay user once provisioned (the automation user answering there says it is), its
  // delivered account before. The relay user itself has no shell to probe with.
  let jumpUser = JUMP_USER;
  const jumpServer = spec.environments.jump?.servers[0];
  if (proxyJump(spec, environment, JUMP_USER) && jumpServer) {
    const jumpTrust = hostTrust(spec, sc.knownHosts, jumpServer.address, jumpServer.sshPort);
    const ok = await fx.exec.run(
      sshProbe(sc.identity, jumpTrust, AUTOMATION_USER, jumpServer.address, jumpServer.sshPort),
    );
    refuseHostKey(jumpServer.name, jumpTrust, ok.stderr);
    jumpUser = ok.code === 0 ? JUMP_USER : jumpServer.adminUser;
  }
  const jump = jumpHop(spec, environment, sc.knownHosts, jumpUser);
  const connectAs: Record<string, string> = {};
  await Promise.all(
    servers.map(async (s) => {
      const trust = hostTrust(spec, sc.knownHosts, s.address, s.sshPort);
      const r = await fx.exec.run(sshProbe(sc.identity, trust, AUTOMATION_USER, s.address, s.sshPort, jump));
      refuseHostKey(s.name, trust, r.stderr);
      connectAs[s.name] = r.code === 0 ? AUTOMATION_USER : s.adminUser;
    }),
  );

  // A check run compares what crvs provisioned with the spec. On a server never provisioned, Ansible's check mode
  // cannot predict much (packages are not installed, so their services and files do not exist yet): refuse
  // rather than print a misleading dry run.
  if (o.check) {
    const fresh = servers.filter((s) => connectAs[s.name] !== AUTOMATION_USER).map((s) => s.name);
    if (fresh.length)
      throw new CrvsError(
        'E_CHECK_UNPROVISIONED',
        `--check compares provisioned servers with the spec, and ${fresh.join(', ')} ${fresh.length > 1 ? 'do' : 'does'} ` +
          `not answer as ${AUTOMATION_USER} yet: never provisioned (everything would change), or unreachable`,
        { hint: `provision first: crvs provision ${environment}; or see why it is unreachable` },
      );
  }

  // TOTP: one secret per present admin, kept in the environment's encrypted store.
  const store = new SecretStore(fx.exec, specPaths(sc.specFile).store(environment), environment);
  const secrets = await store.load(sc.identity);
  // The spec says where login alerts go; a store without that value would silently send them nowhere.
  const unset = [spec.alerts.webhookSecret, spec.alerts.slackWebhookSecret].filter(
    (n): n is string => n !== undefined && !secrets.has(n),
  );
  if (unset.length)
    fx.progress(
      `warning: ${unset.join(', ')} not in the ${environment} secrets store: SSH logins on ${environment} ` +
        `are not posted there (crvs secrets init ${environment})`,
    );
  const enrolled: string[] = [];
  const totp: Record<string, string> = {};
  if (totpRequired(spec, environment)) {
    for (const admin of presentAdmins(spec)) {
      const name = totpSecretName(admin.name);
      if (!secrets.has(name)) {
        secrets.set(name, {
          value: sensitive(generate(TOTP_GENERATOR), name),
          setAt: fx.now().toISOString(),
        });
        enrolled.push(admin.name);
      }
      totp[admin.name] = (secrets.get(name)?.value.reveal() ?? '') as string;
    }
    if (enrolled.length && !o.check) await store.save(secrets, await recipients(spec, sc.specFile));
  }
  // The data volume's key: generated on first need, like the TOTP secrets, and kept only in the store.
  if (environmentEncrypted(spec, environment) && !secrets.has(DATA_VOLUME_KEY)) {
    secrets.set(DATA_VOLUME_KEY, {
      value: sensitive(generate(DATA_VOLUME_GENERATOR), DATA_VOLUME_KEY),
      setAt: fx.now().toISOString(),
    });
    if (!o.check) await store.save(secrets, await recipients(spec, sc.specFile));
    fx.progress(`${environment}: generated ${DATA_VOLUME_KEY} (the data volume's key) in its secrets store`);
  }
  const value = (name: string | undefined) => (name ? (secrets.get(name)?.value.reveal() ?? '') : '');
  const smtpCa = await readSmtpCa(spec, sc.specFile);
  const vars: SecretVars = {
    crvs_totp_secrets: totp,
    crvs_alerts_webhook_url: value(spec.alerts.webhookSecret),
    crvs_alerts_slack_url: value(spec.alerts.slackWebhookSecret),
    crvs_alerts_smtp: spec.smtp
      ? {
          host: spec.smtp.host,
          port: spec.smtp.port,
          secure: spec.smtp.secure,
          sender: spec.smtp.sender,
          username: value(spec.smtp.usernameSecret),
          password: value(spec.smtp.passwordSecret),
          ...(smtpCa ? { ca: smtpCa } : {}),
        }
      : {},
    ...(environmentEncrypted(spec, environment) ? { crvs_data_volume_key: value(DATA_VOLUME_KEY) } : {}),
  };
  const inventory = buildInventory(
    spec,
    environment,
    { automationKeys, connectAs, identity: sc.identity, knownHosts: sc.knownHosts },
    jumpUser,
  );
  return { environment, inventory, vars, connectAs, enrolled };
}
