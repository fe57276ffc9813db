#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import { runMain } from '../dist/cli/main.js';
import { stopRunningCommands } from '../dist/remote/executor.js';

// A reader that stops early (`crvs --help | head -1`) closes the pipe: nothing more is wanted, so end quietly,
// as other command-line tools do, instead of dying on EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });

// Stopped (Ctrl-C, a CI job's timeout): the commands crvs runs stop with it, then crvs exits as a shell would.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
])
  process.on(signal, () => {
    const n = stopRunningCommands('SIGTERM');
    if (n) process.stderr.write(`\ncrvs: stopped by ${signal}; ended ${n} running command(s)\n`);
    process.exit(code);
  });

process.exitCode = await runMain(process.argv.slice(2));
