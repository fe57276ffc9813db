// How `crvs lab ssh` logs in without a failed attempt (fail2ban counts those, and bans the operator for an hour):
// the account the server accepts in its current state, asked of the container itself (the lab owns it), and on
// an environment with SSH TOTP the current code from the lab's own store. Only the lab may do this: it is a
// rehearsal and holds its admins' TOTP secrets; for a real environment each admin's code comes from their app.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { specPaths } from '../config/environment.js';
import { loadSpec } from '../config/load.js';
import { presentAdmins } from '../config/rules.js';
import { totpRequired } from '../provision/inventory.js';
import type { CommandSpec, Executor } from '../remote/executor.js';
import { totpSecretName } from '../secrets/catalogue.js';
import { SecretStore } from '../secrets/store.js';
import { totpCode } from '../secrets/totp.js';
import type { LabPaths } from './state.js';
import type { LabServer } from './topology.js';

/** The account the delivered server has (see delivery.ts); provisioning removes it. */
export const DELIVERED_USER = 'admin';

export const hasAccount = (container: string, user: string): CommandSpec => ({
  argv: ['docker', 'exec', container, 'id', '-u', user],
  allowFailure: true,
  description: `does ${container} have ${user}?`,
});

export interface LabLogin {
  user: string;
  /** Environment for ssh when a TOTP code must be typed: an askpass program that prints it. */
  env: Record<string, string>;
  /** Removes the one-time code file. */
  cleanUp: () => Promise<void>;
}

export async function labLogin(
  exec: Executor,
  paths: LabPaths,
  server: LabServer,
  o: { user?: string; now: Date },
): Promise<LabLogin> {
  const none = { env: {}, cleanUp: async () => {} };
  if (o.user) return { user: o.user, ...none };
  const { spec } = await loadSpec(paths.spec);
  const admin = presentAdmins(spec)[0]?.name;
  if (!admin || (await exec.run(hasAccount(server.container, admin))).code !== 0)
    return { user: DELIVERED_USER, ...none };
  if (!totpRequired(spec, server.environment)) return { user: admin, ...none };
  const store = new SecretStore(exec, specPaths(paths.spec).store(server.environment), server.environment);
  const secret = (await store.load(paths.identity)).get(totpSecretName(admin))?.value;
  if (!secret) return { user: admin, ...none };
  // The code goes to ssh through an askpass program reading a 0600 file in a private directory, removed after
  // the session: never on a command line or in an environment variable.
  const dir = await mkdtemp(join(tmpdir(), 'crvs-lab-login-'));
  await chmod(dir, 0o700);
  const codeFile = join(dir, 'code');
  const askpass = join(dir, 'askpass');
  await writeFile(codeFile, `${totpCode(secret, o.now).reveal()}\n`, { mode: 0o600 });
  await writeFile(askpass, `#!/bin/sh\ncat '${codeFile}'\n`, { mode: 0o700 });
  return {
    user: admin,
    env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}
