#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the prepare script).
import { runMain } from '../dist/cli/main.js';

process.exitCode = await runMain(process.argv.slice(2));
