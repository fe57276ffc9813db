import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { validateSpecText } from '../../../src/config/load.js';
import type { Spec } from '../../../src/config/schema.js';

/** A spec from a file, validated; a test fails loudly on an invalid one. */
export function specFrom(file: string): Spec {
  const r = validateSpecText(readFileSync(file, 'utf8'), file);
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.problems)}`);
  return r.spec;
}

/** One of the shipped examples: lab, poc, pilot or national. */
export const exampleSpec = (name: 'lab' | 'poc' | 'pilot' | 'national') =>
  specFrom(`examples/${name}/crvs.yaml`);
export const labExample = () => exampleSpec('lab');

/** The lab spec with qa restoring production's backups on demand (and so without test 2FA codes). */
export const LAB_QA_RESTORE = readFileSync('examples/lab/crvs.yaml', 'utf8').replace(
  '  qa:\n    testTwoFactorCodes: true\n',
  '  qa:\n    restore: { source: production }\n',
);
/** A spec from text, validated; a test fails loudly on an invalid one. */
export function specFromText(text: string): Spec {
  const r = validateSpecText(text, 'crvs.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.spec;
}
export const labWithQaRestore = () => specFromText(LAB_QA_RESTORE);

/** The lab spec with the encrypted data volume turned on or off for one environment (production and staging have it). */
export const labEncrypting = (environment: 'production' | 'staging' | 'qa', on = true) => {
  const doc = parseDocument(readFileSync('examples/lab/crvs.yaml', 'utf8'));
  if (!doc.hasIn(['environments', environment]))
    throw new Error(`examples/lab/crvs.yaml has no ${environment}`);
  doc.setIn(['environments', environment, 'encryptData'], on);
  // A size is refused where there is no volume to size.
  if (!on) doc.deleteIn(['environments', environment, 'dataVolumeGiB']);
  return specFromText(doc.toString());
};

/** A valid pilot spec, as text: tests break it one place at a time. */
export const PILOT_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDQrOxq4kMeJOzLiaQaAGeJCs0ZgMy1KwJ6gwoR4BZFB alice@laptop';
export const PILOT_SPEC = `version: 1
country: FAR
domain: farajaland.gov.example
admins:
  - name: alice
    sshKeys: ['${PILOT_KEY}']
environments:
  qa:
    testTwoFactorCodes: true
    servers:
      - { name: qa-1, address: 10.0.0.5 }
  production:
    servers:
      - name: prod-1
        address: 10.0.0.10
  staging:
    servers:
      - name: staging-1
        address: 10.0.0.20
    restore:
      source: production
  backup:
    servers:
      - name: backup-1
        address: 10.0.0.30
smtp:
  host: smtp.farajaland.gov.example
  sender: noreply@farajaland.gov.example
backups:
  schedule: '0 0 * * *'
stack:
  version: v1.9.0
`;

/** The lab example copied into a fresh folder, with the identity and known hosts a use case reads beside it. */
export function labSpecContext(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const specFile = join(dir, 'crvs.yaml');
  writeFileSync(specFile, readFileSync('examples/lab/crvs.yaml', 'utf8'));
  return {
    spec: specFrom(specFile),
    specFile,
    identity: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
  };
}
