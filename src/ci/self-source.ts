// Where the running crvs came from, for workflows that should install the same crvs: a release records its source
// in package.json (`crvsSource`); a git checkout is its origin at its commit. Anything else is refused: a guessed
// package name could be claimed by someone else, who would then run code with the CI key.
import { readFileSync } from 'node:fs';
import { type CrvsSource, crvsSourceSchema } from '../config/sections/ci.js';
import { CrvsError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Executor } from '../remote/executor.js';

export async function selfSource(exec: Executor, root = PACKAGE_ROOT): Promise<CrvsSource> {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { crvsSource?: unknown };
  const recorded = crvsSourceSchema.safeParse(pkg.crvsSource);
  if (recorded.success) return recorded.data;
  const git = (...args: string[]) =>
    exec.run({
      argv: ['git', '-C', root, ...args],
      allowFailure: true,
      description: `git ${args.join(' ')}`,
    });
  const origin = (await git('remote', 'get-url', 'origin')).stdout.trim();
  const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
  const dirty = (await git('status', '--porcelain', '--untracked-files=no')).stdout.trim();
  const source = crvsSourceSchema.safeParse({ git: origin, commit });
  if (source.success && !dirty) return source.data;
  throw new CrvsError('E_SPEC', 'crvs cannot tell which pinned source the workflows should install it from', {
    hint: `name it in crvs.yaml: ci.crvs (npm name@version with integrity, git URL with commit, or tarball URL with sha512)${source.success && dirty ? '; this checkout has uncommitted changes' : ''}`,
  });
}
