#!/usr/bin/env node
// Entry point of the `bobsync` command. Runs the TypeScript sources directly through tsx,
// so there is no build step between a checkout and a running connector.
'use strict';
require('tsx/cjs');
require('../src/cli/main.ts')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`bobsync: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
