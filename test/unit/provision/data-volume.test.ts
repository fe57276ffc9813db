import { describe, expect, it } from 'vitest';
import {
  parseVolumeState,
  volumeAddKeyCommand,
  volumeKeepOnlyCommand,
  volumeOpenCommand,
  volumeStatusCommand,
} from '../../../src/provision/data-volume.js';
import { sensitive } from '../../../src/secrets/sensitive.js';

const host = { environment: 'production', ssh: ['ssh', '-l', 'crvs', '10.77.0.22'] };

describe('the encrypted data volume, as crvs reaches it', () => {
  it('reads its state and opens it through the helper provisioning installs, the key on stdin only', () => {
    expect(volumeStatusCommand(host).argv).toEqual([
      'ssh',
      '-l',
      'crvs',
      '10.77.0.22',
      'sudo -n /usr/local/sbin/crvs-data-volume status',
    ]);
    const canary = 'CANARY-data-volume-key-5f1c';
    const open = volumeOpenCommand(host, sensitive(canary, 'DATA_VOLUME_KEY'));
    expect(open.argv).toEqual([
      'ssh',
      '-l',
      'crvs',
      '10.77.0.22',
      'sudo -n /usr/local/sbin/crvs-data-volume open',
    ]);
    expect(JSON.stringify(open.argv)).not.toContain(canary);
    expect(typeof open.stdin === 'object' && 'reveal' in open.stdin ? open.stdin.reveal() : open.stdin).toBe(
      canary,
    );
    // The executor's own record of the command (events, --verbose) shows no value.
    expect(JSON.stringify(open)).not.toContain(canary);
  });

  it('rotates the key in two steps, both keys on stdin one a line and in no argument or record', () => {
    const old = sensitive('CANARY-old-volume-key-0a9e', 'DATA_VOLUME_KEY');
    const next = sensitive('CANARY-new-volume-key-77c2', 'DATA_VOLUME_KEY');
    const add = volumeAddKeyCommand(host, old, next);
    const keep = volumeKeepOnlyCommand(host, next);
    expect([add.argv.at(-1), keep.argv.at(-1)]).toEqual([
      'sudo -n /usr/local/sbin/crvs-data-volume add-key',
      'sudo -n /usr/local/sbin/crvs-data-volume keep-only',
    ]);
    const input = (c: typeof add) =>
      typeof c.stdin === 'object' && 'reveal' in c.stdin ? c.stdin.reveal() : c.stdin;
    expect(input(add)).toBe('CANARY-old-volume-key-0a9e\nCANARY-new-volume-key-77c2');
    expect(input(keep)).toBe('CANARY-new-volume-key-77c2');
    for (const c of [add, keep]) expect(JSON.stringify(c)).not.toMatch(/CANARY/);
  });

  it("tells the helper's answers apart, and a server that has no helper from one that fails", () => {
    expect(parseVolumeState(0, 'unlocked\n', '')).toBe('unlocked');
    expect(parseVolumeState(0, 'locked\n', '')).toBe('locked');
    expect(parseVolumeState(0, 'absent\n', '')).toBe('absent');
    expect(parseVolumeState(0, 'mounted\n', '')).toBeUndefined();
    expect(parseVolumeState(1, '', 'sudo: /usr/local/sbin/crvs-data-volume: command not found\n')).toBe(
      'missing',
    );
    expect(parseVolumeState(255, '', 'ssh: connect to host 10.77.0.22 port 22: No route to host\n')).toBe(
      undefined,
    );
    expect(
      parseVolumeState(255, '', 'Warning: Identity file /k/id not accessible: No such file or directory.\n'),
    ).toBe(undefined);
    expect(parseVolumeState(null, '', '')).toBeUndefined();
  });
});
