#!/usr/bin/env node
// Entry point of the `bobsync` command. In a checkout it runs the TypeScript sources through tsx
// (no build step between an edit and a run); the production image carries only the compiled
// code of `npm run build` (dist/) and production dependencies.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const source = join(__dirname, '..', 'src', 'cli', 'main.ts');
let cli;
if (existsSync(source)) {
  require('tsx/cjs');
  cli = require(source);
} else {
  cli = require(join(__dirname, '..', 'dist', 'cli', 'main.js'));
}
cli.main(process.argv).catch((err) => {
  process.stderr.write(`bobsync: ${err && err.message ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
