import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selfSource } from '../../../src/ci/self-source.js';
import { RecordingExecutor } from '../../../src/remote/executor.js';

const root = (pkg: Record<string, unknown>) => {
  const dir = mkdtempSync(join(tmpdir(), 'crvs-self-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'crvs-deploy', version: '0.1.0', ...pkg }));
  return dir;
};
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

describe('the source the generated workflows install crvs from, by default', () => {
  it('is the one a release recorded in its package.json', async () => {
    const source = { tarball: 'https://example.org/crvs-deploy-1.0.0.tgz', sha512: 'cd'.repeat(64) };
    const exec = new RecordingExecutor();
    expect(await selfSource(exec, root({ crvsSource: source }))).toEqual(source);
    expect(exec.commands).toEqual([]);
  });

  it("is a clean git checkout's origin at its commit", async () => {
    const dir = root({});
    const exec = new RecordingExecutor([
      { match: /remote get-url origin$/, result: { stdout: 'https://github.com/example/crvs-deploy.git\n' } },
      { match: /rev-parse HEAD$/, result: { stdout: `${COMMIT}\n` } },
    ]);
    expect(await selfSource(exec, dir)).toEqual({
      git: 'https://github.com/example/crvs-deploy.git',
      commit: COMMIT,
    });
    expect(exec.lines()).toEqual([
      `git -C ${dir} remote get-url origin`,
      `git -C ${dir} rev-parse HEAD`,
      `git -C ${dir} status --porcelain --untracked-files=no`,
    ]);
  });

  it('is never a guessed package name: an unknown source stops with what to write in crvs.yaml', async () => {
    const e = selfSource(new RecordingExecutor([{ match: /origin$/, result: { code: 2 } }]), root({}));
    await expect(e).rejects.toMatchObject({
      code: 'E_SPEC',
      message: 'crvs cannot tell which pinned source the workflows should install it from',
    });
    const dirty = new RecordingExecutor([
      { match: /origin$/, result: { stdout: 'https://github.com/example/crvs-deploy.git' } },
      { match: /rev-parse HEAD$/, result: { stdout: COMMIT } },
      { match: /status --porcelain/, result: { stdout: ' M src/x.ts\n' } },
    ]);
    await expect(selfSource(dirty, root({}))).rejects.toMatchObject({
      hint: expect.stringContaining('uncommitted changes'),
    });
  });
});
