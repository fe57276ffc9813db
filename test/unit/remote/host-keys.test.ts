import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { fingerprint, parseHostKey, scannedKeys, scanStatus } from '../../../src/config/host-key.js';
import { hostTrust, pinnedKnownHosts } from '../../../src/config/host-keys.js';
import { validateSpecText } from '../../../src/config/load.js';
import type { Spec } from '../../../src/config/schema.js';
import { buildInventory } from '../../../src/provision/inventory.js';
import { commandError, RecordingExecutor } from '../../../src/remote/executor.js';
import { keyscanArgv, refuseHostKey } from '../../../src/remote/host-keys.js';
import { sshArgv } from '../../../src/remote/ssh.js';
import { allPinned, scanHostKeys, withHostKeys } from '../../../src/usecases/hostkeys.js';
import { fakeEffects } from '../helpers/context.js';

// A public host key made with `ssh-keygen -t ed25519` for this test (its private half was thrown away), and the
// fingerprint `ssh-keygen -lf` printed for it.
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINB7nR/1lwxk/nT91McJJ80gfBmLhasxKvXXN8gXjrnV';
const KEY_FP = 'SHA256:xDA16ef2HHLznUh3kY2jRlKRAuo6CE/sn9koI1NOkAE';

interface Server {
  sshPort?: number;
  hostKeys?: string[];
}
interface Doc {
  connection: { method: string };
  environments: Record<string, { servers: Server[] }>;
}
const server = (d: Doc, env: string, i = 0) => d.environments[env]?.servers[i] as Server;

function labSpec(edit: (doc: Doc) => void = () => {}, method = 'direct') {
  const doc = parse(readFileSync('examples/lab/crvs.yaml', 'utf8')) as Doc;
  doc.connection.method = method;
  edit(doc);
  return validateSpecText(stringify(doc));
}
const pinQa = (keys: string[]) => (d: Doc) => {
  server(d, 'qa').hostKeys = keys;
};
const spec = (r: ReturnType<typeof labSpec>): Spec => {
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.spec;
};

describe('host keys in the spec', () => {
  it('parses a .pub line, comment or not, and computes the fingerprint ssh-keygen prints', () => {
    const k = parseHostKey(`${KEY} root@qa-1`);
    expect(k).toEqual({ type: 'ssh-ed25519', base64: KEY.split(' ')[1] });
    expect(fingerprint(k as Exclude<typeof k, string>)).toBe(KEY_FP);
  });

  it('refuses what is not a host key, with the reason, at its place in the spec', () => {
    expect(parseHostKey('ssh-ed25519')).toBe(
      'must be "<type> <base64 key>", as in /etc/ssh/ssh_host_ed25519_key.pub',
    );
    expect(parseHostKey('ssh-dss AAAAB3NzaC1kc3M=')).toMatch(/^key type ssh-dss is not one of ssh-ed25519, /);
    expect(parseHostKey('ssh-ed25519 not*base64')).toBe('the key is not base64');
    // An RSA key's blob under an ed25519 label.
    expect(parseHostKey('ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7')).toBe(
      "the key's data is not a ssh-ed25519 key",
    );
    const r = labSpec(pinQa(['ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7']));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems.map((p) => [p.path, p.message])).toContainEqual([
        'environments.qa.servers[0].hostKeys[0]',
        "the key's data is not a ssh-ed25519 key",
      ]);
  });

  it('writes known_hosts lines for the pinned servers only, with the port where it is not 22', () => {
    const s = spec(
      labSpec((d) => {
        pinQa([KEY])(d);
        server(d, 'backup').sshPort = 2222;
        server(d, 'backup').hostKeys = [`${KEY} comment`];
      }),
    );
    expect(pinnedKnownHosts(s)).toEqual([`10.77.0.11 ${KEY}`, `[10.77.0.41]:2222 ${KEY}`]);
    expect(hostTrust(s, '/k/known_hosts', '10.77.0.11', 22)).toEqual({
      knownHosts: '/k/known_hosts',
      pinned: '/k/known_hosts.pinned',
    });
    expect(hostTrust(s, '/k/known_hosts', '10.77.0.21', 22)).toEqual({ knownHosts: '/k/known_hosts' });
  });

  it('reaches a pinned server against its keys alone, strictly; the others trust on first use', () => {
    const base = { identity: '/k/id', knownHosts: '/k/kh', user: 'crvs', address: '10.0.0.5', port: 22 };
    expect(sshArgv({ ...base, pinned: '/k/kh.pinned' }).join(' ')).toBe(
      'ssh -i /k/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/k/kh.pinned ' +
        '-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -p 22 crvs@10.0.0.5',
    );
    expect(sshArgv(base).join(' ')).toBe(
      'ssh -i /k/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o UserKnownHostsFile=/k/kh ' +
        '-o StrictHostKeyChecking=accept-new -p 22 crvs@10.0.0.5',
    );
  });

  it("gives Ansible a pinned server's own arguments; the environment's stay trust on first use", () => {
    const s = spec(
      labSpec((d) => {
        server(d, 'production', 1).hostKeys = [KEY];
      }),
    );
    const inv = buildInventory(s, 'production', {
      automationKeys: [],
      connectAs: {},
      identity: '/k/id',
      knownHosts: '/k/kh',
    });
    expect(inv.all.vars.ansible_ssh_common_args).toBe(
      '-o IdentitiesOnly=yes -o UserKnownHostsFile=/k/kh -o StrictHostKeyChecking=accept-new',
    );
    const hosts = inv.all.children.application?.hosts ?? {};
    expect(hosts['prod-1']?.ansible_ssh_common_args).toBeUndefined();
    expect(hosts['prod-2']?.ansible_ssh_common_args).toBe(
      '-o IdentitiesOnly=yes -o UserKnownHostsFile=/k/kh.pinned -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes',
    );
  });

  it('a pinned jump host is held to its keys on the hop, for every server behind it', () => {
    const s = spec(
      labSpec((d) => {
        server(d, 'jump').hostKeys = [KEY];
      }, 'bastion'),
    );
    const inv = buildInventory(s, 'qa', {
      automationKeys: [],
      connectAs: {},
      identity: '/k/id',
      knownHosts: '/k/kh',
    });
    expect(inv.all.vars.ansible_ssh_common_args).toBe(
      '-o IdentitiesOnly=yes -o UserKnownHostsFile=/k/kh -o StrictHostKeyChecking=accept-new -o ' +
        "'ProxyCommand=ssh -i /k/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 " +
        "-o UserKnownHostsFile=/k/kh.pinned -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -p 22 -W '\\''[%h]:%p'\\'' jump@10.77.0.51'",
    );
  });

  it('asks a server for its keys without logging in, and reads what ssh-keyscan prints', () => {
    expect(keyscanArgv('10.0.0.5', 2222)).toEqual([
      'ssh-keyscan',
      '-T',
      '10',
      '-p',
      '2222',
      '-t',
      'ed25519,ecdsa,rsa',
      '10.0.0.5',
    ]);
    expect(
      scannedKeys(
        `# 10.0.0.5:2222 SSH-2.0-OpenSSH_9.2\n[10.0.0.5]:2222 ${KEY}\n[10.0.0.5]:2222 ${KEY}\ngarbage\n`,
      ),
    ).toEqual([KEY]);
    expect(scanStatus(undefined, KEY)).toBe('unpinned');
    expect(scanStatus([`${KEY} root@qa-1`], KEY)).toBe('pinned');
    expect(scanStatus(['ssh-rsa AAAAB3NzaC1yc2E='], KEY)).toBe('differs');
  });

  it('behind the jump host, scans each server through one tunnel of local forwards, then closes it', async () => {
    const s = spec(labSpec(pinQa([KEY]), 'bastion'));
    const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7';
    const exec = new RecordingExecutor([
      { match: /^ssh-keyscan/, result: { stdout: `[127.0.0.1]:1 ${KEY}\n[127.0.0.1]:1 ${RSA}\n` } },
    ]);
    const rows = await scanHostKeys(
      fakeEffects(exec),
      { spec: s, specFile: '/k/crvs.yaml', identity: '/k/id', knownHosts: '/k/kh' },
      ['qa'],
    );
    const [tunnel, scan, exit] = exec.commands.map((c) => c.argv);
    const local = Number(
      /^127\.0\.0\.1:(\d+):10\.77\.0\.11:22$/.exec(tunnel?.[tunnel.indexOf('-L') + 1] ?? '')?.[1],
    );
    expect(local).toBeGreaterThan(0);
    const socket = tunnel?.[tunnel.indexOf('-S') + 1] ?? '';
    expect(socket).toMatch(/crvs-keyscan-.*\/tunnel$/);
    expect(tunnel).toEqual([
      'ssh',
      '-i',
      '/k/id',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'UserKnownHostsFile=/k/kh',
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      'ExitOnForwardFailure=yes',
      '-f',
      '-N',
      '-M',
      '-S',
      socket,
      '-L',
      `127.0.0.1:${local}:10.77.0.11:22`,
      '-p',
      '22',
      'jump@10.77.0.51',
    ]);
    expect(scan).toEqual(keyscanArgv('127.0.0.1', local));
    expect(exit).toEqual(['ssh', '-S', socket, '-O', 'exit', '-p', '22', 'jump@10.77.0.51']);
    // The pinned key proves the server; its RSA key beside it is extra, not a mismatch.
    expect(rows.map((r) => [r.server, r.address, r.port, r.key.split(' ')[0], r.status])).toEqual([
      ['qa-1', '10.77.0.11', 22, 'ssh-ed25519', 'pinned'],
      ['qa-1', '10.77.0.11', 22, 'ssh-rsa', 'extra'],
    ]);
    expect(allPinned(rows)).toBe(true);
  });

  it('--write pins the servers that pin nothing yet, never rewrites a server whose keys differ, keeps comments', () => {
    const text =
      '# my spec\nenvironments:\n  qa:\n    servers:\n      - name: qa-1 # the only one\n        address: 10.0.0.5\n      - name: qa-2\n        address: 10.0.0.6\n        hostKeys: [ssh-rsa AAAA]\n';
    const row = { environment: 'qa', address: '', port: 22, fingerprint: '' };
    const r = withHostKeys(text, [
      { ...row, server: 'qa-1', index: 0, key: KEY, status: 'unpinned' },
      { ...row, server: 'qa-2', index: 1, key: KEY, status: 'differs' },
    ]);
    expect(r.written).toEqual(['qa-1']);
    expect(r.text).toBe(
      `# my spec\nenvironments:\n  qa:\n    servers:\n      - name: qa-1 # the only one\n        address: 10.0.0.5\n        hostKeys:\n          - ${KEY}\n      - name: qa-2\n        address: 10.0.0.6\n        hostKeys: [ ssh-rsa AAAA ]\n`,
    );
  });

  it('an ssh ended over its host key is E_HOST_KEY, with what ssh said and nothing of its advice to edit the file', () => {
    const stderr = [
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
      '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
      'The fingerprint for the ED25519 key sent by the remote host is',
      `${KEY_FP}.`,
      'Add correct host key in /k/kh.pinned to get rid of this message.',
      'Offending ED25519 key in /k/kh.pinned:2',
      'Host key for 10.0.0.5 has changed and you have requested strict checking.',
      'Host key verification failed.',
    ].join('\n');
    const e = commandError({ argv: ['ssh', 'crvs@10.0.0.5', 'true'], description: 'probe' }, 255, stderr);
    expect(e.code).toBe('E_HOST_KEY');
    expect(e.message).toBe(
      "probe: the server's host key is not the one crvs trusts; refused before authenticating:\n" +
        `The fingerprint for the ED25519 key sent by the remote host is\n${KEY_FP}.\n` +
        'Host key for 10.0.0.5 has changed and you have requested strict checking.\nHost key verification failed.',
    );
    expect(commandError({ argv: ['borg', 'list'], description: 'list' }, 2, stderr).code).toBe('E_COMMAND');
    expect(() => refuseHostKey('qa-1', { knownHosts: '/k/kh', pinned: '/k/kh.pinned' }, stderr)).toThrow(
      `qa-1 did not present a host key the spec pins (servers[].hostKeys); it offered ED25519 ${KEY_FP}: refused before authenticating`,
    );
    expect(() =>
      refuseHostKey('qa-1', { knownHosts: '/k/kh' }, 'Permission denied (publickey).'),
    ).not.toThrow();
  });
});
