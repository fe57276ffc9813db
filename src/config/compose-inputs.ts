// The inputs of the opencrvs preset for one environment, read from beside crvs.yaml: opencrvs-core's compose
// files for the version (from stack.compose.core, or the copies pinned in crvs.lock.json) and the country's
// docker-compose.deploy.yml + docker-compose.<environment>-deploy.yml. Everything that can be wrong with them is
// found here, before anything is contacted, and names the file and what to do.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CrvsError } from '../errors.js';
import { CORE_FILES, lockPath, readLock, sha256 } from './compose-lock.js';
import { specPaths } from './environment.js';
import type { Spec } from './schema.js';

export interface ComposeFile {
  /** Where it was read, for messages. */
  file: string;
  text: string;
}

export interface ComposeInputs {
  /** In merge order: core's deps and services, the country's deploy file, its environment's deploy file. */
  files: ComposeFile[];
  /** The country's folder (absolute): the files its compose files mount from /opt/opencrvs/infrastructure. */
  countryDir: string;
}

const input = (message: string, hint: string) => new CrvsError('E_COMPOSE_INPUT', message, { hint });

function coreFiles(spec: Spec, specFile: string, version: string): ComposeFile[] {
  const dir = specPaths(specFile).dir;
  const lock = readLock(specFile)['opencrvs-core'][version];
  const folder = spec.stack.compose.core;
  return CORE_FILES.map((name) => {
    const pinned = lock?.[name];
    const file = folder ? resolve(dir, folder, name) : pinned ? resolve(dir, pinned.path) : undefined;
    if (!file)
      throw input(
        `opencrvs-core ${version} is not locked: ${relative(process.cwd(), lockPath(specFile))} has no ${name} for it`,
        `crvs stack lock --version ${version} (fetches and pins it), or set stack.compose.core to a folder holding core's compose files`,
      );
    if (!existsSync(file))
      throw input(
        `${file} is missing (opencrvs-core ${version} ${name})`,
        folder
          ? `copy ${name} of opencrvs-core ${version} into ${folder}`
          : `crvs stack lock --version ${version} fetches it again`,
      );
    const text = readFileSync(file, 'utf8');
    if (pinned && sha256(text) !== pinned.sha256)
      throw input(
        `${file} does not match crvs.lock.json: sha256 ${sha256(text)}, locked ${pinned.sha256}`,
        `someone changed the file or the lock: restore both from version control, or review the change and run crvs stack lock --version ${version} --update`,
      );
    return { file, text };
  });
}

function countryFiles(spec: Spec, specFile: string, environment: string): ComposeInputs {
  const countryDir = resolve(specPaths(specFile).dir, spec.stack.compose.country);
  const files = ['docker-compose.deploy.yml', `docker-compose.${environment}-deploy.yml`].map((name) => {
    const file = join(countryDir, name);
    if (!existsSync(file))
      throw input(
        `${file} is missing: the opencrvs preset renders the country's own compose files`,
        `put the infrastructure folder of your country configuration repository (opencrvs-countryconfig) beside crvs.yaml, or point stack.compose.country at it`,
      );
    return { file, text: readFileSync(file, 'utf8') };
  });
  return { files, countryDir };
}

export function readComposeInputs(
  spec: Spec,
  specFile: string,
  environment: string,
  version: string,
): ComposeInputs {
  const country = countryFiles(spec, specFile, environment);
  return { files: [...coreFiles(spec, specFile, version), ...country.files], countryDir: country.countryDir };
}
