// What deploy, rollback and seed share: the store's values, the rendered stack of a release with the secrets
// its preset derives, the demo preset's images, the running release, and Swarm secrets created once each.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readComposeInputs } from '../config/compose-inputs.js';
import { STACK, specPaths } from '../config/environment.js';
import type { Spec } from '../config/schema.js';
import { bindSecrets } from '../deploy/bind.js';
import {
  buildAndPush,
  DEMO_BASE_IMAGE,
  type DemoImage,
  demoImages,
  registryHas,
} from '../deploy/demo-images.js';
import type { DerivedSecret } from '../deploy/opencrvs/derived.js';
import type { UploadedFile } from '../deploy/opencrvs/files.js';
import { renderDemoStack } from '../deploy/stack-demo.js';
import { renderOpenCrvsStack } from '../deploy/stack-opencrvs.js';
import { createSecret, listSecrets, type Release, readRelease } from '../deploy/swarm.js';
import { tlsFileSecrets } from '../deploy/tls.js';
import { PreconditionError } from '../errors.js';
import type { RemoteHost } from '../remote/host.js';
import { type Sensitive, sensitive } from '../secrets/sensitive.js';
import { SecretStore } from '../secrets/store.js';
import type { Effects, EnvironmentContext } from './context.js';

export type SecretValues = Record<string, Sensitive<string>>;

/** Every value in the environment's encrypted store, opened with the operator's key. */
export async function storeValues(fx: Effects, c: EnvironmentContext): Promise<SecretValues> {
  const store = new SecretStore(fx.exec, specPaths(c.specFile).store(c.environment), c.environment);
  if (!store.exists())
    throw new PreconditionError(
      `${c.environment} has no secrets store yet`,
      `crvs secrets init ${c.environment}`,
    );
  const secrets = await store.load(c.identity);
  return Object.fromEntries([...secrets].map(([k, v]) => [k, v.value]));
}

export interface Rendered {
  compose: string;
  /** Files the stack file's configs point at, uploaded beside it on the manager. */
  files: UploadedFile[];
  /** The store's values plus what the preset derives from them (env files, key halves, configs). */
  secrets: SecretValues;
}

/** The stack file of one release, and every secret value it needs. Pure but for reading the spec's TLS files. */
export function renderRelease(
  spec: Spec,
  specFile: string,
  environment: string,
  version: string,
  values: SecretValues,
): Rendered {
  const read = (p: string) => readFileSync(resolve(dirname(specFile), p), 'utf8');
  if (spec.stack.preset === 'demo')
    return {
      compose: renderDemoStack(spec, environment, version),
      files: [],
      secrets: deriveSecrets(values, tlsFileSecrets(spec), read),
    };
  const inputs = readComposeInputs(spec, specFile, environment, version);
  const stack = renderOpenCrvsStack(spec, environment, version, inputs, (n) => n in values);
  return { compose: stack.compose, files: stack.files, secrets: deriveSecrets(values, stack.derived, read) };
}

/** The store's values plus the derived ones, in order: a derived secret may be made from one derived before it. */
function deriveSecrets(
  values: SecretValues,
  derived: DerivedSecret[],
  read: (path: string) => string,
): SecretValues {
  const secrets = { ...values };
  for (const d of derived) {
    if (d.from.some((n) => !secrets[n])) continue; // bindSecrets names what is missing
    secrets[d.key] = sensitive(
      d.derive((n) => secrets[n]?.reveal(), read),
      d.key,
    );
  }
  return secrets;
}

/** Where this machine pushes images: `registry.pushVia` when the servers' registry address is not reachable here. */
export const pushRegistry = (spec: Spec) => spec.registry.pushVia ?? spec.registry.host;

/** The demo preset's images of a release that the registry does not hold yet (the opencrvs preset's are pulled). */
export async function missingImages(fx: Effects, spec: Spec, version: string): Promise<DemoImage[]> {
  if (spec.stack.preset !== 'demo') return [];
  const missing: DemoImage[] = [];
  for (const image of demoImages(version))
    if ((await fx.exec.run(registryHas(pushRegistry(spec), image))).code !== 0) missing.push(image);
  return missing;
}

/** Builds and pushes images from the demo base image that `crvs lab up` provides. */
export async function buildImages(fx: Effects, spec: Spec, images: DemoImage[]): Promise<void> {
  if (!images.length) return;
  const base = await fx.exec.run({
    argv: ['docker', 'image', 'inspect', DEMO_BASE_IMAGE],
    allowFailure: true,
    description: 'look for the demo base image',
  });
  if (base.code !== 0)
    throw new PreconditionError(
      `the demo images build from ${DEMO_BASE_IMAGE}, which is missing`,
      'crvs lab up',
    );
  const push = pushRegistry(spec);
  for (const image of images) {
    fx.progress(`building ${image.repository}:${image.tag} and pushing it to ${push}`);
    for (const c of buildAndPush(DEMO_BASE_IMAGE, push, image)) await fx.exec.run(c);
  }
}

export async function currentRelease(fx: Effects, m: RemoteHost): Promise<Partial<Release>> {
  return JSON.parse((await fx.exec.run(readRelease(m))).stdout || '{}') as Partial<Release>;
}

/** Docker secret names that exist on the manager. */
export async function existingSecrets(fx: Effects, m: RemoteHost): Promise<Set<string>> {
  return new Set((await fx.exec.run(listSecrets(m))).stdout.split('\n').filter(Boolean));
}

export interface BoundSecret {
  key: string;
  name: string;
  value: Sensitive<string>;
}

/** Creates the Swarm secrets that do not exist yet (their names carry a digest of the value, so never twice). */
export async function createMissingSecrets(
  fx: Effects,
  m: RemoteHost,
  bound: BoundSecret[],
  say: (s: BoundSecret) => string | undefined = () => undefined,
): Promise<void> {
  const existing = await existingSecrets(fx, m);
  for (const s of bound) {
    if (existing.has(s.name)) continue;
    const line = say(s);
    if (line) fx.progress(line);
    await fx.exec.run(createSecret(m, s.name, s.key, s.value));
  }
}

/** Store secrets a one-off job reads, as Swarm secrets (created when missing); returns their bindings. */
export async function jobSecrets(fx: Effects, c: EnvironmentContext, keys: string[]): Promise<BoundSecret[]> {
  const { bound } = bindSecrets(
    `secrets:\n${keys.map((n) => `  ${n}: { external: true }`).join('\n')}\n`,
    STACK,
    await storeValues(fx, c),
  );
  await createMissingSecrets(fx, c.manager, bound);
  return bound;
}
