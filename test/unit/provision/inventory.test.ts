import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { environmentKind } from '../../../src/config/environment.js';
import { validateSpecText } from '../../../src/config/load.js';
import type { Spec } from '../../../src/config/schema.js';
import {
  buildInventory,
  mergeInventories,
  sshAllowedSources,
  totpRequired,
} from '../../../src/provision/inventory.js';
import { sshArgv } from '../../../src/remote/ssh.js';
import { labEncrypting, labWithQaRestore } from '../helpers/spec.js';

/** The lab's spec, optionally reached through its jump host (connection method bastion). */
function labSpec(method: 'direct' | 'bastion'): Spec {
  const doc = parse(readFileSync('examples/lab/crvs.yaml', 'utf8')) as { connection: { method: string } };
  doc.connection.method = method;
  const r = validateSpecText(stringify(doc));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.spec;
}

const options = {
  automationKeys: ['ssh-ed25519 AAAAauto crvs'],
  connectAs: { 'prod-1': 'crvs' },
  identity: '/k/id_ed25519',
  knownHosts: '/k/known_hosts',
};

interface Inventory {
  all: {
    vars: Record<string, unknown> & { ansible_ssh_common_args: string; crvs_ssh_allowed_sources: string[] };
    children: Record<string, { hosts: Record<string, Record<string, unknown>> }>;
  };
}
const inventory = (spec: Spec, env: string) => buildInventory(spec, env, options) as Inventory;

describe('the generated Ansible inventory', () => {
  it('reaches every server of an environment through the jump host when the spec says bastion', () => {
    const spec = labSpec('bastion');
    const prod = inventory(spec, 'production');
    // Both hops with the same key and pinned host keys (shlex-quoted for Ansible).
    expect(prod.all.vars.ansible_ssh_common_args).toBe(
      '-o IdentitiesOnly=yes -o UserKnownHostsFile=/k/known_hosts -o StrictHostKeyChecking=accept-new -o ' +
        "'ProxyCommand=ssh -i /k/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 " +
        "-o UserKnownHostsFile=/k/known_hosts -o StrictHostKeyChecking=accept-new -p 22 -W '\\''[%h]:%p'\\'' jump@10.77.0.51'",
    );
    // The servers accept SSH from the jump host even if the allowed sources do not list it.
    expect(prod.all.vars.crvs_ssh_allowed_sources).toEqual(['10.77.0.0/24', '10.77.0.51']);
    expect(inventory(spec, 'backup').all.vars.ansible_ssh_common_args).toContain(' jump@10.77.0.51');
    // The jump host itself is reached directly, and lets admins and automation relay through it.
    const jump = inventory(spec, 'jump');
    expect(jump.all.vars.ansible_ssh_common_args).not.toContain('ProxyCommand');
    expect(jump.all.vars.crvs_is_jump).toBe(true);
    expect(jump.all.vars.crvs_jump_keys).toEqual([
      ...spec.admins.filter((a) => a.state === 'present').flatMap((a) => a.sshKeys),
      'ssh-ed25519 AAAAauto crvs',
    ]);
  });

  it('connects directly otherwise, and describes the cluster: manager, worker, members, labels', () => {
    const spec = labSpec('direct');
    const prod = inventory(spec, 'production');
    expect(prod.all.vars.ansible_ssh_common_args).not.toContain('ProxyCommand');
    expect(prod.all.vars.crvs_ssh_allowed_sources).toEqual(['10.77.0.0/24']);
    const hosts = prod.all.children.application?.hosts ?? {};
    expect(Object.keys(hosts)).toEqual(['prod-1', 'prod-2']);
    expect(hosts['prod-1']).toMatchObject({
      ansible_host: '10.77.0.21',
      ansible_user: 'crvs',
      crvs_swarm_role: 'manager',
      crvs_cluster_members: ['10.77.0.22'],
      crvs_cluster_managers: ['10.77.0.21'],
    });
    // Not yet reachable as the automation user: the delivered admin account.
    expect(hosts['prod-2']).toMatchObject({
      ansible_user: 'admin',
      crvs_swarm_role: 'worker',
      crvs_swarm_manager: 'prod-1',
      crvs_swarm_labels: { data: 'true' },
      crvs_cluster_members: ['10.77.0.21'],
    });
  });

  it('asks for TOTP where citizen data is (production, staging, a qa that restores production), and knows no environment it was not told of', () => {
    const spec = labSpec('direct');
    expect(['production', 'staging', 'qa', 'backup', 'jump'].map((e) => totpRequired(spec, e))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    // qa restoring production's backup holds citizen data: TOTP by default there too.
    expect(totpRequired(labWithQaRestore(), 'qa')).toBe(true);
    expect(sshAllowedSources(spec)).toEqual(['10.77.0.0/24']);
    expect(() => environmentKind('prod')).toThrow('unknown environment "prod"');
  });
});

describe('the data volume', () => {
  it("is encrypted on production's and staging's data node by default, plain elsewhere, with the preset's store directories", () => {
    const spec = labSpec('direct');
    const prod = inventory(spec, 'production');
    const hosts = prod.all.children.application?.hosts ?? {};
    // Only the server labelled data holds the stores, so only it gets the volume.
    expect([hosts['prod-1']?.crvs_data_node, hosts['prod-2']?.crvs_data_node]).toEqual([false, true]);
    expect(prod.all.vars).toMatchObject({
      crvs_data_root: '/data',
      crvs_data_encrypted: true,
      crvs_data_volume_size_gib: 3,
      crvs_data_dirs: [{ path: 'postgres' }, { path: 'documents', owner: 10001, group: 10001, mode: '0750' }],
    });
    expect(inventory(spec, 'staging').all.vars).toMatchObject({
      crvs_data_encrypted: true,
      crvs_data_volume_size_gib: 3,
    });
    // qa holds test data: plain unless its spec opts in; a size left out is 0 (the helper's default at creation).
    expect(inventory(spec, 'qa').all.vars.crvs_data_encrypted).toBe(false);
    expect(inventory(labWithQaRestore(), 'qa').all.vars.crvs_data_encrypted).toBe(false);
    expect(inventory(labEncrypting('qa'), 'qa').all.vars).toMatchObject({
      crvs_data_encrypted: true,
      crvs_data_volume_size_gib: 0,
    });
    // Turned off on production: a plain /data.
    expect(inventory(labEncrypting('production', false), 'production').all.vars.crvs_data_encrypted).toBe(
      false,
    );
    // No stores on the backup server or the jump host.
    expect(inventory(spec, 'backup').all.vars).not.toHaveProperty('crvs_data_encrypted');
  });
});

describe("the servers' own monitor", () => {
  it("watches the data disk where the data is (the data node's /data, the backup server's repositories), at the spec's thresholds", () => {
    const monitor = (spec: Spec, env: string) =>
      Object.fromEntries(
        Object.entries(inventory(spec, env).all.vars).filter(([k]) => k.startsWith('crvs_monitor_')),
      );
    const spec = labSpec('direct');
    // The guide's figures by default: data disk 70%, and ours for the root disk and the CPUs.
    expect(monitor(spec, 'production')).toEqual({
      crvs_monitor_root_percent: 85,
      crvs_monitor_data_percent: 70,
      crvs_monitor_cpu_percent: 90,
      crvs_monitor_data_path: '/data',
    });
    expect(monitor(spec, 'backup').crvs_monitor_data_path).toBe('/srv/borg');
    expect(monitor(spec, 'jump').crvs_monitor_data_path).toBe('');
    const tuned = {
      ...spec,
      alerts: { ...spec.alerts, dataDiskPercent: 60, rootDiskPercent: 80, cpuPercent: 75 },
    };
    expect(monitor(tuned, 'qa')).toMatchObject({
      crvs_monitor_root_percent: 80,
      crvs_monitor_data_percent: 60,
      crvs_monitor_cpu_percent: 75,
    });
  });
});

describe('the jump hop', () => {
  it('is started by OpenSSH with our key, known hosts and batch mode (ProxyJump would drop them)', () => {
    // Loopback only: the jump "host" is port 1 of 127.0.0.1, which refuses at once; ssh -v shows the hop it ran.
    const argv = sshArgv({
      identity: '/k/my key%1',
      knownHosts: '/k/known_hosts',
      user: 'crvs',
      address: '127.0.0.2',
      port: 22,
      jump: 'jump@127.0.0.1:1',
    });
    const r = spawnSync(argv[0] as string, ['-v', ...argv.slice(1), 'true'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(255);
    const hop = r.stderr
      .split('\n')
      .find((l) => l.startsWith('debug1: Executing proxy command:'))
      ?.trimEnd();
    expect(hop).toBe(
      "debug1: Executing proxy command: exec ssh -i '/k/my key%1' -o IdentitiesOnly=yes -o BatchMode=yes " +
        '-o ConnectTimeout=10 -o UserKnownHostsFile=/k/known_hosts -o StrictHostKeyChecking=accept-new -p 1 ' +
        "-W '[127.0.0.2]:22' jump@127.0.0.1",
    );
  });
});

describe('several environments in one run', () => {
  it('keep their variables on a group of their own; the plays still find servers by kind', () => {
    const spec = labSpec('direct');
    const parts = ['qa', 'production', 'backup'].map((environment) => ({
      environment,
      inventory: buildInventory(spec, environment, options),
    }));
    const merged = mergeInventories(parts) as {
      all: { children: Record<string, { vars?: Record<string, unknown>; hosts: Record<string, object> }> };
    };
    const groups = merged.all.children;
    expect(Object.keys(groups)).toEqual(['application', 'env_qa', 'env_production', 'backup', 'env_backup']);
    expect(Object.keys(groups.application?.hosts ?? {})).toEqual(['qa-1', 'prod-1', 'prod-2']);
    expect(groups.env_production?.hosts).toEqual({ 'prod-1': {}, 'prod-2': {} });
    expect(groups.env_production?.vars).toEqual(parts[1]?.inventory.all.vars);
    expect(groups.env_qa?.vars?.crvs_environment).toBe('qa');
    expect(groups.env_backup?.vars?.crvs_totp_required).toBe(false);
    // Host variables stay on the host: the worker still knows its manager.
    expect(groups.application?.hosts['prod-2']).toMatchObject({
      crvs_swarm_role: 'worker',
      crvs_swarm_manager: 'prod-1',
    });
  });
});
