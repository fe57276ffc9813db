// The encrypted data volume on an environment's data node, as crvs reaches it after provisioning: its state,
// opening it with the key from the secrets store after a reboot, and rotating that key
// (ansible/roles/crvs_data_volume has the helper these commands run). Keys travel on ssh's stdin, never in an
// argument. Pure.
import { onHost, type RemoteHost } from '../remote/host.js';
import { sudo } from '../remote/shell.js';
import { type Sensitive, sensitive } from '../secrets/sensitive.js';

export const DATA_VOLUME_HELPER = '/usr/local/sbin/crvs-data-volume';

/** What the helper reports; `plain` is an environment without encryption, `missing` a server not provisioned. */
export type VolumeState = 'unlocked' | 'locked' | 'absent' | 'plain' | 'missing';

/** The helper's exit codes (crvs-data-volume). */
export const WRONG_KEY = 12;
export const REFUSED = 3;

export const volumeStatusCommand = (host: RemoteHost) =>
  onHost(host, sudo(DATA_VOLUME_HELPER, 'status'), {
    description: `read the data volume's state on ${host.environment}'s data node`,
    allowFailure: true,
    timeoutMs: 30_000,
  });

export const volumeOpenCommand = (host: RemoteHost, key: Sensitive<string>) =>
  onHost(host, sudo(DATA_VOLUME_HELPER, 'open'), {
    stdin: key,
    description: `open the data volume on ${host.environment}'s data node`,
    allowFailure: true,
    timeoutMs: 90_000,
  });

/**
 * Rotation, in two steps around saving the new key in the store: first the new key opens the volume too, then,
 * once the store holds it, every other key stops. Both keys travel on stdin, one a line.
 */
export const volumeAddKeyCommand = (host: RemoteHost, current: Sensitive<string>, next: Sensitive<string>) =>
  onHost(host, sudo(DATA_VOLUME_HELPER, 'add-key'), {
    stdin: sensitive(`${current.reveal()}\n${next.reveal()}`, 'DATA_VOLUME_KEY'),
    description: `let a new key open the data volume on ${host.environment}'s data node`,
    allowFailure: true,
    timeoutMs: 60_000,
  });

export const volumeKeepOnlyCommand = (host: RemoteHost, key: Sensitive<string>) =>
  onHost(host, sudo(DATA_VOLUME_HELPER, 'keep-only'), {
    stdin: key,
    description: `retire every other key of the data volume on ${host.environment}'s data node`,
    allowFailure: true,
    timeoutMs: 60_000,
  });

/** The state from the helper's answer; undefined when the answer is none of its words. */
export function parseVolumeState(
  code: number | null,
  stdout: string,
  stderr: string,
): VolumeState | undefined {
  if (code === 0) {
    const word = stdout.trim();
    return word === 'unlocked' || word === 'locked' || word === 'absent' ? word : undefined;
  }
  // sudo's own words when the helper is not installed (never provisioned with this crvs).
  if (/crvs-data-volume: (command not found|No such file or directory)/.test(stderr)) return 'missing';
  return undefined;
}
