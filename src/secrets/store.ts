// The encrypted secrets store of one environment: `secrets/<env>.age` next to crvs.yaml, encrypted with age to
// every present admin's SSH key (and the CI key in secrets/ci.pub). Plaintext exists only in memory and on the
// pipes to and from `age`; it never touches disk.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { specPaths } from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { CrvsError, PreconditionError } from '../errors.js';
import type { Executor } from '../remote/executor.js';
import { Sensitive, sensitive } from './sensitive.js';

export interface StoredSecret {
  value: Sensitive<string>;
  setAt: string;
}

export type Secrets = Map<string, StoredSecret>;

/** Public keys the store is encrypted to: present admins' SSH keys, then the CI key when there is one. */
export async function recipients(spec: Spec, specFile: string): Promise<string[]> {
  const keys = spec.admins.filter((a) => a.state === 'present').flatMap((a) => a.sshKeys);
  const ci = specPaths(specFile).ciKey;
  if (existsSync(ci))
    keys.push(
      ...(await readFile(ci, 'utf8'))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
    );
  return keys;
}

export function defaultIdentity(env: NodeJS.ProcessEnv): string {
  if (env.CRVS_IDENTITY) return env.CRVS_IDENTITY;
  for (const name of ['id_ed25519', 'id_rsa']) {
    const p = join(homedir(), '.ssh', name);
    if (existsSync(p)) return p;
  }
  return join(homedir(), '.ssh', 'id_ed25519');
}

export class SecretStore {
  constructor(
    private readonly exec: Executor,
    readonly file: string,
    readonly environment: string,
  ) {}

  exists(): boolean {
    return existsSync(this.file);
  }

  async load(identity: string): Promise<Secrets> {
    if (!this.exists()) return new Map();
    if (!existsSync(identity))
      throw new PreconditionError(
        `no identity ${identity} to open ${this.file}`,
        'pass --identity <ssh private key> or set CRVS_IDENTITY',
      );
    const r = await this.exec.run({
      argv: ['age', '--decrypt', '--identity', identity],
      stdin: await readFile(this.file, 'utf8'),
      secretOutput: true,
      allowFailure: true,
      description: `open the ${this.environment} secrets`,
    });
    if (r.code !== 0)
      throw new CrvsError('E_SECRETS_LOCKED', `cannot open ${this.file} with ${identity}`, {
        hint: 'only the admins listed in crvs.yaml (and CI) can; ask one of them to run crvs secrets reencrypt',
      });
    const doc = JSON.parse(r.stdout) as { secrets: Record<string, { value: string; setAt: string }> };
    const out: Secrets = new Map();
    for (const [name, s] of Object.entries(doc.secrets))
      out.set(name, { value: sensitive(s.value, name), setAt: s.setAt });
    return out;
  }

  async save(secrets: Secrets, keys: string[]): Promise<void> {
    if (keys.length === 0)
      throw new PreconditionError('no recipients: the spec lists no admin key', 'add an admin with sshKeys');
    const plain: Record<string, { value: string; setAt: string }> = {};
    for (const [name, s] of [...secrets].sort(([a], [b]) => a.localeCompare(b)))
      plain[name] = { value: s.value.reveal(), setAt: s.setAt };
    const work = await mkdtemp(join(tmpdir(), 'crvs-recipients-'));
    try {
      const list = join(work, 'recipients');
      await writeFile(list, `${keys.join('\n')}\n`, { mode: 0o600 });
      const r = await this.exec.run({
        argv: ['age', '--encrypt', '--armor', '--recipients-file', list],
        stdin: new Sensitive(
          JSON.stringify({ version: 1, environment: this.environment, secrets: plain }),
          'store',
        ),
        description: `seal the ${this.environment} secrets`,
      });
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(`${this.file}.tmp`, r.stdout, { mode: 0o644 });
      await rename(`${this.file}.tmp`, this.file);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
