// spec + environment -> Ansible inventory (generated for each run, never edited) and the secret variables
// that go in a separate 0600 file. Pure.

import { BORG_ROOT, DATA_ROOT, dataDirs } from '../config/data-layout.js';
import {
  type ApplicationEnvironmentName,
  AUTOMATION_USER,
  applicationEnvironment,
  dataServer,
  environmentKind,
  JUMP_USER,
  managerServer,
  proxyJump,
  serversOf,
} from '../config/environment.js';
import { hostTrust } from '../config/host-keys.js';
import { citizenData, environmentEncrypted } from '../config/rules.js';
import type { Spec } from '../config/schema.js';
import { quote } from '../remote/shell.js';
import { type HostTrust, hostKeyOptions, jumpOptions } from '../remote/ssh.js';

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
  /** The encrypted data volume's key, where the environment has one (DATA_VOLUME_KEY). */
  crvs_data_volume_key?: string;
}

export function totpRequired(spec: Spec, env: string): boolean {
  if (environmentKind(env) !== 'application') return false;
  // Every environment holding citizen data: production, staging, and qa or development when they restore it.
  const e = applicationEnvironment(spec, env);
  return e.sshTotp ?? citizenData(env as ApplicationEnvironmentName, e);
}

export function sshAllowedSources(spec: Spec): string[] {
  const sources = [...spec.connection.allowedSshSources];
  if (spec.connection.method === 'bastion')
    for (const s of spec.environments.jump?.servers ?? [])
      if (!sources.includes(s.address)) sources.push(s.address);
  return sources;
}

export interface Inventory {
  all: {
    vars: Record<string, unknown>;
    children: Record<string, { hosts: Record<string, Record<string, unknown>> }>;
  };
}

/** The inventory group of an environment's servers; its secret values go in group_vars/<group>.json. */
export const environmentGroup = (environment: string) => `env_${environment}`;

/**
 * Several environments in one inventory, for one Ansible run: each environment's variables on its own group
 * (`env_<name>`), each server also in the group of its kind (application, backup, jump) that the playbook's plays
 * target, with its own host variables.
 */
export interface MergedInventory {
  all: {
    children: Record<
      string,
      { vars?: Record<string, unknown>; hosts: Record<string, Record<string, unknown>> }
    >;
  };
}

export function mergeInventories(parts: { environment: string; inventory: Inventory }[]): MergedInventory {
  const children: Record<
    string,
    { vars?: Record<string, unknown>; hosts: Record<string, Record<string, unknown>> }
  > = {};
  for (const { environment, inventory } of parts) {
    const hosts: Record<string, Record<string, unknown>> = {};
    for (const [kind, group] of Object.entries(inventory.all.children)) {
      children[kind] = { hosts: { ...children[kind]?.hosts, ...group.hosts } };
      for (const host of Object.keys(group.hosts)) hosts[host] = {};
    }
    children[environmentGroup(environment)] = { vars: inventory.all.vars, hosts };
  }
  return { all: { children } };
}

export function buildInventory(
  spec: Spec,
  env: string,
  o: InventoryOptions,
  jumpUser = JUMP_USER,
): Inventory {
  const kind = environmentKind(env);
  const servers = serversOf(spec, env);
  const manager = managerServer(spec, env);
  const jump = proxyJump(spec, env, jumpUser);
  const trust = (address: string, port: number) => hostTrust(spec, o.knownHosts, address, port);
  const jumpServer = spec.environments.jump?.servers[0];
  const hop = jump && jumpServer ? trust(jumpServer.address, jumpServer.sshPort) : undefined;
  const sshArgs = (t: HostTrust) =>
    [
      '-o IdentitiesOnly=yes',
      ...hostKeyOptions(t).flatMap((a, i, all) => (i % 2 ? [] : [`${a} ${all[i + 1]}`])),
      // Ansible splits these with shlex: each word quoted for it.
      ...(jump && hop ? jumpOptions(jump, o.identity, hop).map(quote) : []),
    ].join(' ');
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const s of servers) {
    const members = servers.filter((m) => m.name !== s.name).map((m) => m.address);
    const own = trust(s.address, s.sshPort);
    hosts[s.name] = {
      ansible_host: s.address,
      ansible_port: s.sshPort,
      ansible_user: o.connectAs[s.name] ?? s.adminUser,
      // A server that pins its host keys is reached against them alone (the group's arguments trust on first use).
      ...(own.pinned ? { ansible_ssh_common_args: sshArgs(own) } : {}),
      ...(kind === 'application'
        ? {
            crvs_swarm_role: s.name === manager.name ? 'manager' : 'worker',
            crvs_swarm_manager: manager.name,
            crvs_swarm_manager_address: manager.address,
            crvs_swarm_labels: s.labels,
            crvs_data_node: s.name === dataServer(spec, env).name,
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
        // Also for delegated tasks, whose interpreter Mitogen takes from the inventory, not ansible.cfg.
        ansible_python_interpreter: '/usr/bin/python3',
        ansible_ssh_common_args: sshArgs({ knownHosts: o.knownHosts }),
        crvs_environment: env,
        crvs_admins: admins,
        crvs_automation_user: AUTOMATION_USER,
        crvs_automation_keys: o.automationKeys,
        crvs_ssh_allowed_sources: sshAllowedSources(spec),
        crvs_totp_required: totpRequired(spec, env),
        crvs_alerts_ssh_logins: spec.alerts.sshLogins,
        crvs_alerts_email: spec.alerts.email,
        crvs_monitor_root_percent: spec.alerts.rootDiskPercent,
        crvs_monitor_data_percent: spec.alerts.dataDiskPercent,
        crvs_monitor_cpu_percent: spec.alerts.cpuPercent,
        crvs_monitor_data_path: kind === 'application' ? DATA_ROOT : kind === 'backup' ? BORG_ROOT : '',
        crvs_docker_insecure_registries: spec.registry.insecure ? [spec.registry.host] : [],
        crvs_is_jump: kind === 'jump',
        ...(kind === 'application'
          ? {
              crvs_data_root: DATA_ROOT,
              crvs_data_encrypted: environmentEncrypted(spec, env),
              crvs_data_volume_size_gib: applicationEnvironment(spec, env).dataVolumeGiB ?? 0,
              crvs_data_dirs: dataDirs(spec.stack.preset),
            }
          : {}),
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
