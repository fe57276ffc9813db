// A country configuration repository made from the v1.9.0 fixtures in a temporary folder: crvs.yaml's folder
// with the country's infrastructure/ (plus a stand-in for the Metabase dump the fixtures lack), opencrvs-core's
// compose files kept under vendor/ and pinned in crvs.lock.json, as `crvs stack lock` leaves them.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CORE_FILES,
  type ComposeLock,
  renderLock,
  sha256,
  vendorPath,
} from '../../src/config/compose-lock.js';
import { envalidVariables } from './envalid.js';

export const FIXTURES = 'test/fixtures/opencrvs/v1.9.0';
export const CORE = `${FIXTURES}/opencrvs-core`;
export const COUNTRY = `${FIXTURES}/opencrvs-countryconfig`;

/** The folder of a crvs.yaml (returned as its path) beside the fixtures' reference files. */
export function countryRepository(o: { core?: string; version?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'crvs-country-'));
  const version = o.version ?? 'v1.9.0';
  cpSync(`${COUNTRY}/infrastructure`, join(dir, 'infrastructure'), { recursive: true });
  // Not in the fixtures (4 MiB); the render only needs it to exist.
  writeFileSync(join(dir, 'infrastructure/metabase/metabase.init.db.sql'), '-- stand-in\n');
  const lock: ComposeLock = { lockVersion: 1, 'opencrvs-core': { [version]: {} } };
  for (const name of CORE_FILES) {
    const text = readFileSync(join(o.core ?? CORE, name), 'utf8');
    const path = vendorPath(version, name);
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
    (lock['opencrvs-core'][version] as Record<string, unknown>)[name] = {
      url: `https://example.invalid/${version}/${name}`,
      sha256: sha256(text),
      path,
    };
  }
  writeFileSync(join(dir, 'crvs.lock.json'), renderLock(lock));
  return join(dir, 'crvs.yaml');
}

/** Core's envalid files: service -> variables it requires in production. */
export function requiredByCore(core = CORE): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const service of readdirSync(`${core}/packages`)) {
    if (service === 'data-seeder') continue; // run by crvs seed, checked there
    for (const file of ['src/environment.ts', 'src/constants.ts']) {
      let text: string;
      try {
        text = readFileSync(`${core}/packages/${service}/${file}`, 'utf8');
      } catch {
        continue;
      }
      if (!text.includes('cleanEnv(')) continue;
      out[service] = envalidVariables(text)
        .filter((v) => v.required)
        .map((v) => v.name);
    }
  }
  out.countryconfig = envalidVariables(readFileSync(`${COUNTRY}/src/environment.ts`, 'utf8'))
    .filter((v) => v.required)
    .map((v) => v.name);
  return out;
}
