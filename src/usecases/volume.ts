// `crvs volume status|unlock <env>`: the encrypted data volume of an environment's data node. After a reboot it
// stays locked (its key is not on the server) and the stores do not start; unlock opens it with the key from the
// environment's secrets store, and Swarm starts the stores again by itself.
import { applicationEnvironment, dataServer } from '../config/environment.js';
import { hostTrust } from '../config/host-keys.js';
import { environmentEncrypted } from '../config/rules.js';
import { CrvsError, UsageError } from '../errors.js';
import {
  parseVolumeState,
  REFUSED,
  type VolumeState,
  volumeAddKeyCommand,
  volumeKeepOnlyCommand,
  volumeOpenCommand,
  volumeStatusCommand,
  WRONG_KEY,
} from '../provision/data-volume.js';
import { lastLine } from '../remote/executor.js';
import { refuseHostKey } from '../remote/host-keys.js';
import { DATA_VOLUME_GENERATOR, DATA_VOLUME_KEY } from '../secrets/catalogue.js';
import { generate } from '../secrets/generate.js';
import { openStore, setSecret } from '../secrets/manage.js';
import { type Sensitive, sensitive } from '../secrets/sensitive.js';
import { type Effects, type SpecContext, serverHost } from './context.js';

export interface VolumeReport {
  environment: string;
  server: string;
  address: string;
  encrypted: boolean;
  state: VolumeState;
  /** What the operator does next, when anything. */
  action?: string;
}

export async function volumeStatus(fx: Effects, sc: SpecContext, environment: string): Promise<VolumeReport> {
  applicationEnvironment(sc.spec, environment);
  const server = dataServer(sc.spec, environment);
  const base = { environment, server: server.name, address: server.address };
  if (!environmentEncrypted(sc.spec, environment)) return { ...base, encrypted: false, state: 'plain' };
  const r = await fx.exec.run(volumeStatusCommand(serverHost(sc.spec, environment, server, sc)));
  const state = parseVolumeState(r.code, r.stdout, r.stderr);
  // ssh refused the server over its host key: that, not the volume, is what the operator must hear.
  if (!state)
    refuseHostKey(server.name, hostTrust(sc.spec, sc.knownHosts, server.address, server.sshPort), r.stderr);
  if (!state)
    throw new CrvsError(
      'E_DATA_VOLUME',
      `could not read the data volume's state on ${server.name}: ${lastLine(r.stderr) || `exit ${r.code}`}`,
    );
  const action: Partial<Record<VolumeState, string>> = {
    locked: `crvs volume unlock ${environment}`,
    absent: `crvs provision ${environment}`,
    missing: `crvs provision ${environment}`,
  };
  return { ...base, encrypted: true, state, ...(action[state] ? { action: action[state] } : {}) };
}

async function storedKey(fx: Effects, sc: SpecContext, environment: string): Promise<Sensitive<string>> {
  const key = (await openStore({ ...sc, exec: fx.exec, environment }).load(sc.identity)).get(
    DATA_VOLUME_KEY,
  )?.value;
  if (!key)
    throw new CrvsError('E_SECRETS_MISSING', `the ${environment} secrets store has no ${DATA_VOLUME_KEY}`, {
      hint: 'the volume was created with a key this store no longer holds: restore the store from its history (git), or recover the data from a backup',
    });
  return key;
}

export async function unlockVolume(
  fx: Effects,
  sc: SpecContext,
  environment: string,
): Promise<VolumeReport & { opened: boolean }> {
  const before = await volumeStatus(fx, sc, environment);
  if (!before.encrypted)
    throw new UsageError(
      `${environment} keeps its data on a plain directory (${
        applicationEnvironment(sc.spec, environment).encryptData === false
          ? 'encryptData: false'
          : 'encryptData is not set'
      }): there is nothing to unlock`,
    );
  if (before.state === 'unlocked') return { ...before, opened: false };
  if (before.state !== 'locked')
    throw new CrvsError('E_DATA_VOLUME', `${before.server} has no encrypted data volume yet`, {
      hint: `provisioning creates it: crvs provision ${environment}`,
    });
  const key = await storedKey(fx, sc, environment);
  fx.progress(`opening the data volume on ${before.server} with ${DATA_VOLUME_KEY} from the secrets store`);
  const server = dataServer(sc.spec, environment);
  const r = await fx.exec.run(volumeOpenCommand(serverHost(sc.spec, environment, server, sc), key));
  if (r.code === WRONG_KEY)
    throw new CrvsError(
      'E_DATA_VOLUME',
      `${DATA_VOLUME_KEY} in the ${environment} secrets store does not open the volume on ${before.server}`,
      { hint: 'the store holds another key than the one the volume was created with: nothing was changed' },
    );
  if (r.code !== 0)
    throw new CrvsError(
      'E_DATA_VOLUME',
      `the data volume on ${before.server} did not open: ${lastLine(r.stderr) || `exit ${r.code}`}`,
      r.code === REFUSED ? { hint: 'nothing was mounted; see the message for what to move' } : {},
    );
  return { ...before, state: 'unlocked', opened: true };
}

/**
 * Before a deploy: a store cannot start on a locked or missing volume (its directory is inside it), so the deploy
 * would only wait for it and roll back. Nothing to check where the environment keeps its data in clear.
 */
export async function requireDataVolume(fx: Effects, sc: SpecContext, environment: string): Promise<void> {
  if (!environmentEncrypted(sc.spec, environment)) return;
  const r = await volumeStatus(fx, sc, environment);
  if (r.state === 'unlocked') return;
  throw new CrvsError(
    'E_DATA_VOLUME',
    `the data volume on ${r.server} is ${r.state}: the stores of ${environment} cannot start`,
    { hint: `${r.action ?? `crvs volume unlock ${environment}`}, then deploy again` },
  );
}

/**
 * A new DATA_VOLUME_KEY: the volume learns it (while the old one still opens it), the store saves it, and only
 * then the volume forgets every other key. A run stopped half-way leaves a volume both keys open, and the store
 * holding one of them; running it again finishes. The data is not re-encrypted: the volume's master key stays,
 * wrapped by the new key only.
 */
export async function rekeyVolume(fx: Effects, sc: SpecContext, environment: string): Promise<VolumeReport> {
  const before = await volumeStatus(fx, sc, environment);
  if (!before.encrypted)
    throw new UsageError(`${environment} keeps its data on a plain directory: there is no key to rotate`);
  if (before.state !== 'unlocked')
    throw new CrvsError('E_DATA_VOLUME', `the data volume on ${before.server} is ${before.state}`, {
      hint: `${before.action ?? `crvs volume unlock ${environment}`}, then rotate its key`,
    });
  const host = serverHost(sc.spec, environment, dataServer(sc.spec, environment), sc);
  const current = await storedKey(fx, sc, environment);
  const next = sensitive(generate(DATA_VOLUME_GENERATOR), DATA_VOLUME_KEY);
  const helper = async (what: string, command: ReturnType<typeof volumeKeepOnlyCommand>) => {
    const r = await fx.exec.run(command);
    if (r.code === WRONG_KEY)
      throw new CrvsError(
        'E_DATA_VOLUME',
        `${DATA_VOLUME_KEY} in the ${environment} secrets store does not open the volume on ${before.server}`,
        { hint: 'nothing was changed; the store holds another key than the volume' },
      );
    if (r.code !== 0)
      throw new CrvsError(
        'E_DATA_VOLUME',
        `${what} on ${before.server} failed: ${lastLine(r.stderr) || `exit ${r.code}`}`,
      );
  };
  fx.progress(`${environment}: the data volume on ${before.server} learns a new key`);
  await helper('adding the new key', volumeAddKeyCommand(host, current, next));
  await setSecret({ ...sc, exec: fx.exec, environment }, DATA_VOLUME_KEY, next.reveal());
  fx.progress(`${environment}: the secrets store holds the new key; the volume forgets the old one`);
  await helper('retiring the old key', volumeKeepOnlyCommand(host, next));
  return before;
}
