// Lab images are built here from Debian's archive (no registry can be pulled) and cached by recipe hash:
// a changed recipe gives a new tag, an unchanged one is reused.
import { join } from 'node:path';
import { folderDigest, hashOf, packagePath } from '../paths.js';
import type { CommandSpec } from '../remote/executor.js';

export const DEBIAN_SUITE = 'bookworm';
export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** Bump when the way images are made changes in a way the recipe files do not show. */
const RECIPE_VERSION = '1';

export interface ImageRecipe {
  kind: 'debian' | 'server' | 'services';
  tag: string;
  hash: string;
  /** Docker build context (server and services); the debian image comes from debootstrap. */
  context?: string;
  parent?: string;
  /** Build arguments besides BASE (the parent). */
  args?: Record<string, string>;
}

/**
 * Debian's security archive next to a mirror laid out like deb.debian.org (`.../debian` ->
 * `.../debian-security`); none for other mirrors. A delivered Debian server has it, and security-only
 * unattended upgrades need it.
 */
export function securityArchive(mirror: string): string {
  return /\/debian\/?$/.test(mirror) ? mirror.replace(/\/debian\/?$/, '/debian-security') : '';
}

export interface Recipes {
  debian: ImageRecipe;
  server: ImageRecipe;
  services: ImageRecipe;
}

export function labRecipes(mirror = DEFAULT_MIRROR, imagesDir = packagePath('lab', 'images')): Recipes {
  const debianHash = hashOf(RECIPE_VERSION, 'debootstrap', 'minbase', DEBIAN_SUITE, mirror);
  const debian: ImageRecipe = { kind: 'debian', hash: debianHash, tag: `crvs-lab/debian:${debianHash}` };
  const serverDir = join(imagesDir, 'server');
  const serverHash = hashOf(debianHash, folderDigest(serverDir));
  const server: ImageRecipe = {
    kind: 'server',
    hash: serverHash,
    tag: `crvs-lab/server:${serverHash}`,
    context: serverDir,
    parent: debian.tag,
    args: { SUITE: DEBIAN_SUITE, SECURITY_ARCHIVE: securityArchive(mirror) },
  };
  const servicesDir = join(imagesDir, 'services');
  const servicesHash = hashOf(serverHash, folderDigest(servicesDir));
  const services: ImageRecipe = {
    kind: 'services',
    hash: servicesHash,
    tag: `crvs-lab/services:${servicesHash}`,
    context: servicesDir,
    parent: server.tag,
  };
  return { debian, server, services };
}

/** A second name for an image (idempotent: tagging again moves nothing). */
export const tagImage = (image: string, name: string): CommandSpec => ({
  argv: ['docker', 'tag', image, name],
  description: `tag ${image} as ${name}`,
});

export const imageExists = (tag: string): CommandSpec => ({
  argv: ['docker', 'image', 'inspect', '--format', '{{.Id}}', tag],
  allowFailure: true,
  description: `look for image ${tag}`,
});

export function debootstrap(rootfs: string, mirror = DEFAULT_MIRROR): CommandSpec {
  return {
    argv: ['debootstrap', '--variant=minbase', DEBIAN_SUITE, rootfs, mirror],
    description: `debootstrap Debian ${DEBIAN_SUITE} (minbase)`,
    timeoutMs: 15 * 60_000,
  };
}

export const tarRootfs = (rootfs: string, tarball: string): CommandSpec => ({
  argv: ['tar', '-C', rootfs, '-cf', tarball, '.'],
  description: 'pack the root file system',
});

export const importImage = (tarball: string, recipe: ImageRecipe): CommandSpec => ({
  argv: [
    'docker',
    'import',
    '--change',
    'CMD ["/bin/bash"]',
    '--change',
    `LABEL crvs.lab.recipe=${recipe.hash}`,
    tarball,
    recipe.tag,
  ],
  description: `import ${recipe.tag}`,
  timeoutMs: 10 * 60_000,
});

export function buildImage(recipe: ImageRecipe): CommandSpec {
  if (!recipe.context || !recipe.parent) throw new Error(`${recipe.kind} image has no build context`);
  return {
    argv: [
      'docker',
      'build',
      '--quiet',
      '--build-arg',
      `BASE=${recipe.parent}`,
      ...Object.entries(recipe.args ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      '--label',
      `crvs.lab.recipe=${recipe.hash}`,
      '--tag',
      recipe.tag,
      recipe.context,
    ],
    // The classic builder: Debian's engine has no buildx plugin for newer clients to drive BuildKit.
    env: { DOCKER_BUILDKIT: '0' },
    description: `build ${recipe.tag}`,
    timeoutMs: 20 * 60_000,
  };
}
