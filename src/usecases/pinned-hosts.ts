// The spec's pinned host keys written where OpenSSH reads them (src/config/host-keys.ts says which servers, src/remote/ssh.ts
// how they are reached): rewritten from the spec by every command that loads it, so the file never says more or
// less than the spec. The one effect of host-key pinning.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { pinnedKnownHosts, pinnedKnownHostsFile } from '../config/host-keys.js';
import type { Spec } from '../config/schema.js';

export const PINNED_HEADER =
  '# Written by crvs from the spec (servers[].hostKeys) each time it runs; edit the spec, not this file.\n';

export async function writePinnedKnownHosts(spec: Spec, knownHosts: string): Promise<void> {
  const lines = pinnedKnownHosts(spec);
  const file = pinnedKnownHostsFile(knownHosts);
  // A spec that pins nothing any more leaves no file behind that would say otherwise.
  if (!lines.length) return rm(file, { force: true });
  const text = `${PINNED_HEADER}${lines.join('\n')}\n`;
  if ((await readFile(file, 'utf8').catch(() => '')) === text) return;
  await writeFile(`${file}.tmp`, text, { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}
