// `crvs provision`: probe how to connect, enrol TOTP secrets, write the inventory and a 0600 secrets file in a
// private temp dir, run the shipped playbook, report per host.
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CrvsError } from '../errors.js';
import { packagePath } from '../paths.js';
import type { CommandSpec, Executor } from '../remote/executor.js';
import { sshArgv } from '../remote/ssh.js';
import { TOTP_GENERATOR, totpSecretName } from '../secrets/catalogue.js';
import { generate } from '../secrets/generate.js';
import { sensitive } from '../secrets/sensitive.js';
import { ciKeyPath, recipients, SecretStore, storePath } from '../secrets/store.js';
import type { Spec } from '../config/schema.js';
import { type AnsibleEvent, describeEvent, failedHosts, type HostStats, parseEvent } from './events.js';
import {
  AUTOMATION_USER,
  buildInventory,
  JUMP_USER,
  proxyJump,
  type SecretVars,
  totpRequired,
} from './inventory.js';

export interface ProvisionRun {
  exec: Executor;
  progress: (line: string) => void;
}

export interface ProvisionOptions {
  specFile: string;
  environment: string;
  identity: string;
  knownHosts: string;
  check?: boolean;
  tags?: string[];
}

export interface ProvisionResult {
  environment: string;
  stats: Record<string, HostStats>;
  connectedAs: Record<string, string>;
  enrolled: string[];
  ms: number;
}

export function sshProbe(
  identity: string,
  knownHosts: string,
  user: string,
  address: string,
  port: number,
  jump?: string,
): CommandSpec {
  return {
    argv: [...sshArgv({ identity, knownHosts, user, address, port, ...(jump ? { jump } : {}) }), 'true'],
    allowFailure: true,
    description: `probe ${user}@${address}`,
    timeoutMs: 30_000,
  };
}

export function playbookCommand(dir: string, o: ProvisionOptions, onLine: (l: string) => void): CommandSpec {
  return {
    argv: [
      'ansible-playbook',
      '-i',
      join(dir, 'inventory.yml'),
      '-e',
      `@${join(dir, 'secrets.json')}`,
      ...(o.check ? ['--check'] : []),
      ...(o.tags?.length ? ['--tags', o.tags.join(',')] : []),
      packagePath('ansible', 'playbooks', 'site.yml'),
    ],
    env: {
      ANSIBLE_CONFIG: packagePath('ansible', 'ansible.cfg'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      PYTHONUNBUFFERED: '1',
    },
    allowFailure: true,
    description: `ansible-playbook site.yml (${o.environment})`,
    timeoutMs: 60 * 60_000,
    onStdoutLine: onLine,
  };
}

async function publicKey(exec: Executor, identity: string): Promise<string> {
  if (existsSync(`${identity}.pub`)) return (await readFile(`${identity}.pub`, 'utf8')).trim();
  return (
    await exec.run({ argv: ['ssh-keygen', '-y', '-f', identity], description: 'read the public key' })
  ).stdout.trim();
}

/** The CD workflows connect as the automation user with the CI key (secrets/ci.pub), as the operator does. */
async function ciKeys(specFile: string): Promise<string[]> {
  const file = ciKeyPath(specFile);
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-\S+) /.test(l));
}

export async function provision(
  run: ProvisionRun,
  spec: Spec,
  o: ProvisionOptions,
): Promise<ProvisionResult> {
  const started = Date.now();
  const env = spec.environments[o.environment as keyof Spec['environments']];
  if (!env) throw new CrvsError('E_USAGE', `the spec has no ${o.environment} environment`, { exitCode: 2 });
  const key = await publicKey(run.exec, o.identity);

  // Jump host: the relay user once provisioned (the automation user answering there says it is), its
  // delivered account before. The relay user itself has no shell to probe with.
  let jumpUser = JUMP_USER;
  const jumpServer = spec.environments.jump?.servers[0];
  if (proxyJump(spec, o.environment, JUMP_USER) && jumpServer) {
    const ok = await run.exec.run(
      sshProbe(o.identity, o.knownHosts, AUTOMATION_USER, jumpServer.address, jumpServer.sshPort),
    );
    jumpUser = ok.code === 0 ? JUMP_USER : jumpServer.adminUser;
  }
  const jump = proxyJump(spec, o.environment, jumpUser);
  const connectAs: Record<string, string> = {};
  await Promise.all(
    env.servers.map(async (s) => {
      const r = await run.exec.run(
        sshProbe(o.identity, o.knownHosts, AUTOMATION_USER, s.address, s.sshPort, jump),
      );
      connectAs[s.name] = r.code === 0 ? AUTOMATION_USER : s.adminUser;
    }),
  );

  // A check run compares what crvs provisioned with the spec. On a server never provisioned, Ansible's check mode
  // cannot predict much (packages are not installed, so their services and files do not exist yet): refuse
  // rather than print a misleading dry run.
  if (o.check) {
    const fresh = env.servers.filter((s) => connectAs[s.name] !== AUTOMATION_USER).map((s) => s.name);
    if (fresh.length)
      throw new CrvsError(
        'E_CHECK_UNPROVISIONED',
        `--check compares provisioned servers with the spec, and ${fresh.join(', ')} ${fresh.length > 1 ? 'do' : 'does'} ` +
          `not answer as ${AUTOMATION_USER} yet: never provisioned (everything would change), or unreachable`,
        { hint: `provision first: crvs provision ${o.environment}; or see why it is unreachable` },
      );
  }

  // TOTP: one secret per present admin, kept in the environment's encrypted store.
  const store = new SecretStore(run.exec, storePath(o.specFile, o.environment), o.environment);
  const secrets = await store.load(o.identity);
  // The spec says where login alerts go; a store without that value would silently send them nowhere.
  const unset = [spec.alerts.webhookSecret, spec.alerts.slackWebhookSecret].filter(
    (n): n is string => n !== undefined && !secrets.has(n),
  );
  if (unset.length)
    run.progress(
      `warning: ${unset.join(', ')} not in the ${o.environment} secrets store: SSH logins on ${o.environment} ` +
        `are not posted there (crvs secrets init ${o.environment})`,
    );
  const enrolled: string[] = [];
  const totp: Record<string, string> = {};
  if (totpRequired(spec, o.environment)) {
    for (const admin of spec.admins.filter((a) => a.state === 'present')) {
      const name = totpSecretName(admin.name);
      if (!secrets.has(name)) {
        secrets.set(name, {
          value: sensitive(generate(TOTP_GENERATOR), name),
          setAt: new Date().toISOString(),
        });
        enrolled.push(admin.name);
      }
      totp[admin.name] = (secrets.get(name)?.value.reveal() ?? '') as string;
    }
    if (enrolled.length && !o.check) await store.save(secrets, await recipients(spec, o.specFile));
  }
  const value = (name: string | undefined) => (name ? (secrets.get(name)?.value.reveal() ?? '') : '');
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
        }
      : {},
  };

  const dir = await mkdtemp(join(tmpdir(), 'crvs-provision-'));
  try {
    await chmod(dir, 0o700);
    const inventory = buildInventory(
      spec,
      o.environment,
      {
        automationKeys: [key, ...(await ciKeys(o.specFile)).filter((k) => k !== key)],
        connectAs,
        identity: o.identity,
        knownHosts: o.knownHosts,
      },
      jumpUser,
    );
    await writeFile(join(dir, 'inventory.yml'), stringify(inventory), { mode: 0o600 });
    await writeFile(join(dir, 'secrets.json'), JSON.stringify(vars), { mode: 0o600 });
    let stats: Record<string, HostStats> = {};
    const r = await run.exec.run(
      playbookCommand(dir, o, (line) => {
        const e: AnsibleEvent | undefined = parseEvent(line);
        if (!e) return;
        if (e.event === 'stats') stats = e.hosts;
        const text = describeEvent(e);
        if (text) run.progress(text);
      }),
    );
    for (const line of r.stdout.split('\n')) {
      const e = parseEvent(line);
      if (e?.event === 'stats') stats = e.hosts;
    }
    const failed = failedHosts(stats);
    if (r.code !== 0 || failed.length || Object.keys(stats).length === 0)
      throw new CrvsError(
        'E_PROVISION',
        `provisioning ${o.environment} failed${failed.length ? ` on ${failed.join(', ')}` : ''}`,
        {
          hint: r.stderr.trim().split('\n').slice(-3).join(' ') || 'see the failed tasks above',
        },
      );
    return { environment: o.environment, stats, connectedAs: connectAs, enrolled, ms: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
