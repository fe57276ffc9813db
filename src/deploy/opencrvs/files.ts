// The files the country's compose files mount from /opt/opencrvs/infrastructure (Swarm configs with `file:`, and
// bind mounts of files and folders) reach the servers as Swarm configs: crvs uploads each file, named by its
// content, beside the stack file on the manager (its release folder), and the rendered stack file points at it,
// so `docker stack deploy` creates the config and any node can run the task. A kept release still finds its
// files. Pure but for reading the country's folder.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { CrvsError } from '../../errors.js';

export const REFERENCE_DIR = '/opt/opencrvs/infrastructure/';
/** Docker refuses a config larger than this. */
const CONFIG_LIMIT = 500 * 1024;

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
    config(referencePath, key) {
      const file = local(referencePath);
      if (!existsSync(file) || !statSync(file).isFile()) throw missing(file);
      const content = readFileSync(file, 'utf8');
      if (Buffer.byteLength(content) > CONFIG_LIMIT)
        throw new CrvsError('E_COMPOSE_INPUT', `${file} is larger than a Swarm config may be (500 KB)`, {
          hint: 'crvs delivers the files the compose files mount as Swarm configs; make the file smaller or mount it from an image',
        });
      const digest = createHash('sha256').update(content).digest('hex');
      const path = `files/${digest.slice(0, 16)}-${basename(file)}`;
      uploads.set(path, { path, content });
      configs[key] = { file: path, name: `${stack}_${key}_${digest.slice(0, 10)}` };
      this.uploads = [...uploads.values()].sort((a, b) => a.path.localeCompare(b.path));
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
