// Throw-away admins for tests that need no lab: a key pair each, and the lab example rewritten with them as its
// admins.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../../../src/paths.js';

/** Makes `<dir>/<name>` and its .pub with ssh-keygen (no passphrase); returns the public key. */
export function keygen(dir: string, name: string, type: 'ed25519' | 'rsa' = 'ed25519'): string {
  const file = join(dir, name);
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

export interface TestAdmin {
  name: string;
  state?: 'present' | 'absent';
  /** The public key file. */
  publicKey: string;
}

/** The lab example spec with these admins instead of its own. */
export function labSpecWithAdmins(admins: TestAdmin[]): string {
  const lab = readFileSync(packagePath('examples', 'lab', 'crvs.yaml'), 'utf8');
  const section = [
    'admins:',
    ...admins.flatMap((a) => [
      `  - name: ${a.name}`,
      ...(a.state ? [`    state: ${a.state}`] : []),
      `    email: ${a.name}@lab.crvs.test`,
      `    sshKeys: ["${readFileSync(a.publicKey, 'utf8').trim()}"]`,
    ]),
    '',
    'environments:',
  ].join('\n');
  return lab.replace(/^admins:[\s\S]*?^environments:/m, section);
}
