// crvs.lock.json, beside crvs.yaml: the opencrvs-core compose files of each locked version, where they were
// fetched from, where the copy is kept (relative to crvs.yaml) and its sha256. The render reads the copy and
// refuses one whose checksum differs, so what deploys is what was reviewed when the lock was committed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrvsError } from '../errors.js';
import { specPaths } from './environment.js';

/** The core files the reference deploy merges first, in its order. */
export const CORE_FILES = ['docker-compose.deps.yml', 'docker-compose.yml'] as const;

export interface LockedFile {
  url: string;
  sha256: string;
  /** The kept copy, relative to crvs.yaml. */
  path: string;
}

export interface ComposeLock {
  lockVersion: 1;
  'opencrvs-core': Record<string, Record<string, LockedFile>>;
}

export const lockPath = (specFile: string) => join(specPaths(specFile).dir, 'crvs.lock.json');
export const vendorPath = (version: string, file: string) => `vendor/opencrvs-core/${version}/${file}`;
export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

export function readLock(specFile: string): ComposeLock {
  const file = lockPath(specFile);
  if (!existsSync(file)) return { lockVersion: 1, 'opencrvs-core': {} };
  try {
    const lock = JSON.parse(readFileSync(file, 'utf8')) as ComposeLock;
    if (lock.lockVersion !== 1 || typeof lock['opencrvs-core'] !== 'object')
      throw new Error('unknown layout');
    return lock;
  } catch (e) {
    throw new CrvsError('E_COMPOSE_INPUT', `${file} is not a crvs lock file (${(e as Error).message})`, {
      hint: `restore it from version control, or delete it and run: crvs stack lock`,
    });
  }
}

export const renderLock = (lock: ComposeLock) => `${JSON.stringify(lock, null, 2)}\n`;
