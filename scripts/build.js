#!/usr/bin/env node
// `npm run build`: compiles src to JavaScript in dist/ and bundles the workflow code once into
// dist/workflow-bundle.js, so a production worker starts from compiled code without bundling
// (or TypeScript) at start-up. The emulators and the local stack are the workspace package packages/local, not compiled here.
'use strict';
const { spawnSync } = require('node:child_process');
const { rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const dist = join(root, 'dist');

async function main() {
  rmSync(dist, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error(`tsc exited with ${tsc.status ?? tsc.signal}`);
  const { bundleWorkflowCode } = require('@temporalio/worker');
  // The failure converter the compiled data converter names, so workflow failures are encrypted too.
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(dist, 'workflows'),
    failureConverterPath: join(dist, 'codec', 'failure-converter.js'),
    logger: quietLogger(),
  });
  writeFileSync(join(dist, 'workflow-bundle.js'), code);
  process.stdout.write(`built ${dist} (workflow bundle ${(code.length / 1024).toFixed(0)} KiB)\n`);
}

/** The bundler logs every module at info; a build only needs warnings. */
function quietLogger() {
  const noop = () => undefined;
  const warn = (message, meta) => process.stderr.write(`${message}${meta ? ` ${JSON.stringify(meta)}` : ''}\n`);
  return { trace: noop, debug: noop, info: noop, log: noop, warn, error: warn };
}

main().catch((err) => {
  process.stderr.write(`build failed: ${err && err.message ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
