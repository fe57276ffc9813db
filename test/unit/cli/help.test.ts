import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPaths, crvs } from '../helpers/cli.js';

// The help of every command, as printed to a pipe: commander wraps help to the width of a terminal.
describe('help texts', () => {
  const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
  beforeAll(() => {
    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
  });
  afterAll(() => {
    if (tty) Object.defineProperty(process.stdout, 'isTTY', tty);
    else Reflect.deleteProperty(process.stdout, 'isTTY');
  });

  it('lists every command and subcommand', async () => {
    const paths = (await commandPaths()).map((p) => p.join(' '));
    expect(paths).toContain('deploy log');
    expect(paths).toContain('secrets init');
    expect(paths).toContain('lab up');
    expect(paths.length).toBeGreaterThan(30);
  });

  it('prints the same help for crvs and every command as recorded', async () => {
    const texts: Record<string, string> = {};
    for (const path of await commandPaths()) {
      const r = await crvs([...path, '--help']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      texts[['crvs', ...path].join(' ')] = r.stdout;
    }
    const help = await crvs(['help', 'lab']);
    expect(help.stdout).toBe(texts['crvs lab']);
    expect(texts).toMatchSnapshot();
  });
});
