// The files the country's compose files mount from /opt/opencrvs/infrastructure (Swarm configs with `file:`, and
// bind mounts of files and folders) reach the servers as Swarm configs: crvs uploads each file, named by its
// content, beside the stack file on the manager (its release folder), and the rendered stack file points at it,
// so `docker stack deploy` creates the config and any node can run the task. A kept release still finds its
// files. A file too large for a Swarm config (Metabase's dump is about 4 MiB) is bind-mounted, read-only, from
// its uploaded copy, and its service runs on the manager, where the copy is. Pure but for reading the country's
// folder.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { CrvsError } from '../../errors.js';

export const REFERENCE_DIR = '/opt/opencrvs/infrastructure/';
/** Docker refuses a config larger than this. */
export const CONFIG_LIMIT = 500 * 1024;

export interface UploadedFile {
  /** Relative to the release folder on the manager. */
  path: string;
  content: string;
}

export interface CountryFiles {
  /** Top-level config key -> its definition, for the stack file. */
  configs: Record<string, { file: string; name: string }>;
  uploads: UploadedFile[];
  /** The config key for a file of the country's folder. */
  config(referencePath: string, key: string): string;
  /** Whether a file of the country's folder is too large for a Swarm config. */
  tooLarge(referencePath: string): boolean;
  /** Uploads a file of the country's folder; its path relative to the release folder on the manager. */
  upload(referencePath: string): string;
  /** Every file under a folder of the country's folder, relative to it; [''] for a file. */
  filesUnder(referencePath: string): string[];
}

export function countryFiles(countryDir: string, stack: string): CountryFiles {
  const configs: CountryFiles['configs'] = {};
  const uploads = new Map<string, UploadedFile>();
  const local = (referencePath: string) => join(countryDir, referencePath.slice(REFERENCE_DIR.length));
  const missing = (file: string) =>
    new CrvsError('E_COMPOSE_INPUT', `${file} is missing: the country's compose files mount it`, {
      hint: 'add it to the infrastructure folder of your country configuration repository, or remove the mount from its compose file',
    });
  return {
    configs,
    uploads: [] as UploadedFile[],
    tooLarge(referencePath) {
      const file = local(referencePath);
      return existsSync(file) && statSync(file).size > CONFIG_LIMIT;
    },
    upload(referencePath) {
      const file = local(referencePath);
      if (!existsSync(file) || !statSync(file).isFile()) throw missing(file);
      const content = readFileSync(file, 'utf8');
      const path = `files/${createHash('sha256').update(content).digest('hex').slice(0, 16)}-${basename(file)}`;
      uploads.set(path, { path, content });
      this.uploads = [...uploads.values()].sort((a, b) => a.path.localeCompare(b.path));
      return path;
    },
    config(referencePath, key) {
      const file = local(referencePath);
      if (this.tooLarge(referencePath))
        throw new CrvsError('E_COMPOSE_INPUT', `${file} is larger than a Swarm config may be (500 KB)`, {
          hint: 'configs: entries must stay small; mount a large file as a volume from /opt/opencrvs/infrastructure instead',
        });
      const path = this.upload(referencePath);
      const digest = path.slice('files/'.length, 'files/'.length + 10);
      configs[key] = { file: path, name: `${stack}_${key}_${digest}` };
      return key;
    },
    filesUnder(referencePath) {
      const dir = local(referencePath);
      if (!existsSync(dir)) throw missing(dir);
      if (statSync(dir).isFile()) return [''];
      const walk = (d: string): string[] =>
        readdirSync(d, { withFileTypes: true })
          .sort((a, b) => a.name.localeCompare(b.name))
          .flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [relative(dir, join(d, e.name))]));
      return walk(dir);
    },
  };
}
