// The one way a command builds its context: the spec, the operator's key, the pinned host keys and, for commands
// on one environment, that environment resolved with its manager. What loads the spec is imported when a command
// runs, not when its options are declared (`crvs --help` never loads it).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { specPaths } from '../config/environment.js';
import { type Output, paint } from '../report/output.js';
import type { Effects, EnvironmentContext, SpecContext } from '../usecases/context.js';
import type { CliContext } from './context.js';
import { SPEC_FLAG, SPEC_HELP, specPath } from './spec-option.js';

export interface EnvironmentFlags {
  spec?: string;
  identity?: string;
  knownHosts?: string;
  json?: boolean;
}

export function environmentOptions(cmd: Command, identityHelp = 'also opens the secrets'): Command {
  return cmd
    .option(SPEC_FLAG, SPEC_HELP)
    .option(
      '--identity <key>',
      `SSH private key (default: $CRVS_IDENTITY or ~/.ssh/id_ed25519); ${identityHelp}`,
    )
    .option('--known-hosts <file>', 'pinned host keys (default: known_hosts next to the spec)');
}

/** The spec and how to reach its servers, from the flags and the environment. */
export async function specContext(
  ctx: CliContext,
  o: EnvironmentFlags,
  progress?: (line: string) => void,
): Promise<{ s: SpecContext; fx: Effects; out: Output }> {
  const { loadSpec } = await import('../config/load.js');
  const { defaultIdentity } = await import('../secrets/store.js');
  const out = ctx.output({ json: o.json ?? false });
  const specFile = specPath(ctx.io, o.spec);
  const { spec } = await loadSpec(specFile);
  const identity = o.identity ? resolve(ctx.io.cwd, o.identity) : defaultIdentity(ctx.io.env);
  const knownHosts = o.knownHosts ? resolve(ctx.io.cwd, o.knownHosts) : specPaths(specFile).knownHosts;
  const { writePinnedKnownHosts } = await import('../usecases/pinned-hosts.js');
  await writePinnedKnownHosts(spec, knownHosts);
  return { s: { spec, specFile, identity, knownHosts }, fx: ctx.effects(out, progress), out };
}

/** An application environment of the spec, its manager, and the effects, with progress prefixed by its name. */
export async function environmentContext(
  ctx: CliContext,
  environment: string,
  o: EnvironmentFlags,
): Promise<{ c: EnvironmentContext; fx: Effects; out: Output }> {
  const { applicationContext } = await import('../usecases/context.js');
  let out: Output | undefined;
  const {
    s,
    fx,
    out: o2,
  } = await specContext(ctx, o, (line) => out?.err(`${paint(out, 'cyan', `[${environment}]`)} ${line}`));
  out = o2;
  return { c: applicationContext(s, environment), fx, out };
}
