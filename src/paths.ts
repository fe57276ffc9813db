import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json, ansible/, stacks/, examples/), from src/ or dist/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const packagePath = (...parts: string[]) => [PACKAGE_ROOT.replace(/\/$/, ''), ...parts].join('/');
