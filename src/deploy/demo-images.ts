// The demo preset's images: built here from the lab's Debian base and pushed to the registry. The app is tagged
// with the release version; the database and proxy with a hash of their recipe, so a release does not restart
// them. A version ending in `-broken` builds a release whose health check never passes (rollback rehearsals).
import { join } from 'node:path';
import { folderDigest, packagePath } from '../paths.js';
import type { CommandSpec } from '../remote/executor.js';

export interface DemoImage {
  name: 'app' | 'db' | 'proxy';
  /** Repository path inside the registry, e.g. crvs-demo-app. */
  repository: string;
  tag: string;
  context: string;
  buildArgs: Record<string, string>;
}

/** The Debian base the demo images build FROM; `crvs lab up` gives its own base image this name. */
export const DEMO_BASE_IMAGE = 'crvs-demo/base:bookworm';

export const demoDir = () => packagePath('stacks', 'demo');

export function demoImages(version: string, dir = demoDir()): DemoImage[] {
  const recipeTag = (name: string) => `r-${folderDigest(join(dir, name))}`;
  return [
    {
      name: 'app',
      repository: 'crvs-demo-app',
      tag: version,
      context: join(dir, 'app'),
      buildArgs: { VERSION: version, BROKEN: version.endsWith('-broken') ? 'true' : 'false' },
    },
    { name: 'db', repository: 'crvs-demo-db', tag: recipeTag('db'), context: join(dir, 'db'), buildArgs: {} },
    {
      name: 'proxy',
      repository: 'crvs-demo-proxy',
      tag: recipeTag('proxy'),
      context: join(dir, 'proxy'),
      buildArgs: {},
    },
  ];
}

export const imageRef = (registry: string, image: DemoImage) =>
  `${registry}/${image.repository}:${image.tag}`;

/** Does the registry already hold this tag? (`docker manifest inspect` asks the registry, not the local cache.) */
export const registryHas = (pushRegistry: string, image: DemoImage): CommandSpec => ({
  argv: ['docker', 'manifest', 'inspect', '--insecure', imageRef(pushRegistry, image)],
  allowFailure: true,
  description: `look for ${image.repository}:${image.tag} in the registry`,
  timeoutMs: 60_000,
});

export function buildAndPush(base: string, pushRegistry: string, image: DemoImage): CommandSpec[] {
  const ref = imageRef(pushRegistry, image);
  const args = Object.entries({ BASE: base, ...image.buildArgs }).flatMap(([k, v]) => [
    '--build-arg',
    `${k}=${v}`,
  ]);
  return [
    {
      argv: ['docker', 'build', '--quiet', ...args, '--tag', ref, image.context],
      env: { DOCKER_BUILDKIT: '0' },
      description: `build ${image.repository}:${image.tag}`,
      timeoutMs: 20 * 60_000,
    },
    {
      argv: ['docker', 'push', '--quiet', ref],
      description: `push ${image.repository}:${image.tag}`,
      timeoutMs: 20 * 60_000,
    },
  ];
}
