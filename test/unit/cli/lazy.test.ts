import { describe, expect, it, vi } from 'vitest';
import { commandPaths, crvs } from '../helpers/cli.js';

// Help is declarations only: what a command runs is imported by its action. Each mock below records that its
// module was imported and hands back the real one.
const { loaded, track } = vi.hoisted(() => {
  const loaded = new Set<string>();
  const track =
    (name: string) =>
    async (original: () => Promise<unknown>): Promise<unknown> => {
      loaded.add(name);
      return original();
    };
  return { loaded, track };
});
vi.mock('zod', track('zod'));
vi.mock('yaml', track('yaml'));
vi.mock('@inquirer/prompts', track('@inquirer/prompts'));
vi.mock('../../../src/config/load.js', track('config/load'));
vi.mock('../../../src/github/seal.js', track('github/seal (libsodium)'));

describe('start-up', () => {
  it('crvs --help and every command and subcommand --help load no schema, YAML, prompts or libsodium', async () => {
    const paths = await commandPaths();
    expect(paths.length).toBeGreaterThan(30);
    for (const path of paths) expect((await crvs([...path, '--help'])).code).toBe(0);
    expect([...loaded]).toEqual([]);
  });

  // The control: the mocks do see a command that needs these modules (this test runs after the one above).
  it('a command that reads the spec loads them when it runs', async () => {
    const spec = new URL('../../../examples/pilot/crvs.yaml', import.meta.url).pathname;
    expect((await crvs(['validate', spec])).code).toBe(0);
    expect([...loaded].sort()).toEqual(['config/load', 'yaml', 'zod']);
  });
});
