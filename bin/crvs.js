#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import { runMain } from '../dist/cli/main.js';

// A reader that stops early (`crvs --help | head -1`) closes the pipe: nothing more is wanted, so end quietly,
// as other command-line tools do, instead of dying on EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });

process.exitCode = await runMain(process.argv.slice(2));
