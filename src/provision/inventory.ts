// spec + environment -> Ansible inventory (generated for each run, never edited) and the secret variables
// that go in a separate 0600 file. Pure.
import { UsageError } from '../errors.js';
import { quote } from '../remote/combinators.js';
import { jumpOptions } from '../remote/ssh.js';
import type { ServerSpec, Spec } from '../config/schema.js';

export const AUTOMATION_USER = 'crvs';
/** The relay-only user of the jump host (forwarding, no shell); see the crvs_jump role. */
export const JUMP_USER = 'jump';
const APPLICATION = ['production', 'staging', 'qa', 'development'] as const;

export interface InventoryOptions {
  /** Public keys of the automation user (the operator's or CI's key). */
  automationKeys: string[];
  /** Per server: the account to connect as for this run (automation user once it exists, else adminUser). */
  connectAs: Record<string, string>;
  identity: string;
  knownHosts: string;
}

export interface SecretVars {
  crvs_totp_secrets: Record<string, string>;
  crvs_alerts_webhook_url: string;
  crvs_alerts_slack_url: string;
  crvs_alerts_smtp: Record<string, string | number | boolean>;
}

export function environmentKind(env: string): 'application' | 'backup' | 'jump' {
  if ((APPLICATION as readonly string[]).includes(env)) return 'application';
  if (env === 'backup' || env === 'jump') return env;
  throw new UsageError(`unknown environment "${env}"`);
}

export function totpRequired(spec: Spec, env: string): boolean {
  if (environmentKind(env) !== 'application') return false;
  const e = spec.environments[env as (typeof APPLICATION)[number]];
  return e?.sshTotp ?? (env === 'production' || env === 'staging');
}

export function sshAllowedSources(spec: Spec): string[] {
  const sources = [...spec.connection.allowedSshSources];
  if (spec.connection.method === 'bastion')
    for (const s of spec.environments.jump?.servers ?? [])
      if (!sources.includes(s.address)) sources.push(s.address);
  return sources;
}

export function proxyJump(spec: Spec, env: string, jumpUser: string): string | undefined {
  if (spec.connection.method !== 'bastion' || env === 'jump') return undefined;
  const jump = spec.environments.jump?.servers[0];
  return jump ? `${jumpUser}@${jump.address}:${jump.sshPort}` : undefined;
}

function managerOf(servers: ServerSpec[]): ServerSpec {
  return servers.find((s) => s.role === 'manager') ?? (servers[0] as ServerSpec);
}

export function buildInventory(spec: Spec, env: string, o: InventoryOptions, jumpUser = JUMP_USER): object {
  const kind = environmentKind(env);
  const servers = spec.environments[env as keyof Spec['environments']]?.servers;
  if (!servers) throw new UsageError(`the spec has no ${env} environment`);
  const manager = managerOf(servers);
  const jump = proxyJump(spec, env, jumpUser);
  const sshArgs = [
    '-o IdentitiesOnly=yes',
    `-o UserKnownHostsFile=${o.knownHosts}`,
    '-o StrictHostKeyChecking=accept-new',
    // Ansible splits these with shlex: each word quoted for it.
    ...(jump ? jumpOptions(jump, o.identity, o.knownHosts).map(quote) : []),
  ].join(' ');
  const hosts: Record<string, object> = {};
  for (const s of servers) {
    const members = servers.filter((m) => m.name !== s.name).map((m) => m.address);
    hosts[s.name] = {
      ansible_host: s.address,
      ansible_port: s.sshPort,
      ansible_user: o.connectAs[s.name] ?? s.adminUser,
      ...(kind === 'application'
        ? {
            crvs_swarm_role: s.name === manager.name ? 'manager' : 'worker',
            crvs_swarm_manager: manager.name,
            crvs_swarm_manager_address: manager.address,
            crvs_swarm_labels: s.labels,
            // The routing mesh (vip) or the proxy on every node (dnsrr) answers on any node; DNS picks which.
            crvs_ingress: true,
            crvs_cluster_members: members,
            crvs_cluster_managers: [manager.address],
          }
        : {}),
    };
  }
  const admins = spec.admins.map((a) => ({
    name: a.name,
    keys: a.sshKeys,
    state: a.state,
  }));
  return {
    all: {
      vars: {
        ansible_ssh_private_key_file: o.identity,
        ansible_ssh_common_args: sshArgs,
        crvs_environment: env,
        crvs_admins: admins,
        crvs_automation_user: AUTOMATION_USER,
        crvs_automation_keys: o.automationKeys,
        crvs_ssh_allowed_sources: sshAllowedSources(spec),
        crvs_totp_required: totpRequired(spec, env),
        crvs_alerts_ssh_logins: spec.alerts.sshLogins,
        crvs_alerts_email: spec.alerts.email,
        crvs_docker_insecure_registries: spec.registry.insecure ? [spec.registry.host] : [],
        crvs_is_jump: kind === 'jump',
        crvs_jump_keys:
          kind === 'jump'
            ? [
                ...spec.admins.filter((a) => a.state === 'present').flatMap((a) => a.sshKeys),
                ...o.automationKeys,
              ]
            : [],
      },
      children: { [kind]: { hosts } },
    },
  };
}
