// How `crvs lab ssh` logs in without a failed attempt (fail2ban counts those, and bans the operator for an hour):
// the account the server accepts in its current state, asked of the container itself (the lab owns it), and on
// an environment with SSH TOTP the current code from the lab's own store. Only the lab may do this: it is a
// rehearsal and holds its admins' TOTP secrets; for a real environment each admin's code comes from their app.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

/** One TOTP login the lab made: the code's 30-second step and when it was typed (ms since the epoch). */
export interface TotpLogin {
  step: number;
  at: number;
}

const STEP_MS = 30_000;
/** The servers' RATE_LIMIT 3 30 (crvs_ssh): three logins per 30 s per account, with a second of margin. */
const RATE = { logins: 3, ms: 31_000 };

/**
 * Which code to type now, or how long to wait first. The servers accept a code once (DISALLOW_REUSE) and one step
 * of skew either side (WINDOW_SIZE 3), so up to three logins fit in one step: the current code, the next one, then
 * the previous one (not in the step's last 5 s, when the server may already have moved on). A fourth login within
 * 30 s would pass the codes but not the rate limit, so it waits too. Each refusal would count as a failed login.
 */
export function chooseTotpStep(previous: TotpLogin[], now: number): { step: number } | { waitMs: number } {
  const recent = previous.filter((l) => now - l.at < RATE.ms);
  if (recent.length >= RATE.logins) return { waitMs: Math.min(...recent.map((l) => l.at)) + RATE.ms - now };
  const current = Math.floor(now / STEP_MS);
  const used = new Set(previous.map((l) => l.step));
  const late = (current + 1) * STEP_MS - now < 5_000;
  const step = [current, current + 1, ...(late ? [] : [current - 1])].find((s) => !used.has(s));
  return step === undefined ? { waitMs: (current + 1) * STEP_MS - now + 100 } : { step };
}

/** The logins worth remembering: those whose step or rate window can still matter. */
export const keptLogins = (logins: TotpLogin[], now: number) =>
  logins.filter((l) => now - l.at < 2 * STEP_MS + RATE.ms);

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
  o: { user?: string; now: () => Date; sleep: (ms: number) => Promise<void>; say: (line: string) => void },
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
  const step = await nextStep(paths, `${server.name}/${admin}`, o);
  // The code goes to ssh through an askpass program reading a 0600 file in a private directory, removed after
  // the session: never on a command line or in an environment variable.
  const dir = await mkdtemp(join(tmpdir(), 'crvs-lab-login-'));
  await chmod(dir, 0o700);
  const codeFile = join(dir, 'code');
  const askpass = join(dir, 'askpass');
  await writeFile(codeFile, `${totpCode(secret, new Date(step * STEP_MS)).reveal()}\n`, { mode: 0o600 });
  await writeFile(askpass, `#!/bin/sh\ncat '${codeFile}'\n`, { mode: 0o700 });
  return {
    user: admin,
    env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Picks the code's step for this server and account, waiting when none is free, and records the login. */
async function nextStep(
  paths: LabPaths,
  key: string,
  o: { now: () => Date; sleep: (ms: number) => Promise<void>; say: (line: string) => void },
): Promise<number> {
  const file = join(paths.dir, 'totp-logins.json');
  const log = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, TotpLogin[]>;
  for (;;) {
    const now = o.now().getTime();
    const choice = chooseTotpStep(log[key] ?? [], now);
    if ('step' in choice) {
      log[key] = keptLogins([...(log[key] ?? []), { step: choice.step, at: now }], now);
      await writeFile(file, `${JSON.stringify(log)}\n`, { mode: 0o600 });
      return choice.step;
    }
    o.say(
      `waiting ${Math.ceil(choice.waitMs / 1000)} s for a TOTP code the server has not seen (each is accepted once)`,
    );
    await o.sleep(choice.waitMs);
  }
}
