// Import rules for src, checked by `npm run deps:check` (and CI): no runtime import cycle, and
// no layer imports one above it. Lower layers first: domain (pure planning logic), clients
// (vendor HTTP), workflows (Temporal's deterministic sandbox); above them activities, api,
// reports, config; on top the entry points (cli, processes.ts, worker.ts). src/dev holds the
// Temporal tooling `bobsync dev` and `bobsync temporal ensure` use. The vendor emulators and the
// local stack are the workspace package packages/local (@bobsync/local), outside the product:
// it builds on src, never the other way round.

// `import type` and `import('…').T` are erased by tsc: they exist for the type checker only.
const TYPE_ONLY = ['type-only', 'type-import'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'This import closes a cycle of imports that survives compilation. Break it: move the shared ' +
        'part down a layer, or import only types from the other side. Cycles made only of ' +
        '`import type` edges vanish at runtime and are allowed (workflows name activity types, ' +
        'activities start workflows).',
      from: { path: '^(src|packages)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: TYPE_ONLY } },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'This import does not resolve, so no other rule can judge it. Fix the path or add the package.',
      from: { path: '^(src|packages)/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'src/domain is pure planning logic every layer builds on; it imports nothing else from src ' +
        '(not even types). Move what it needs into src/domain, or pass it in.',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'workflows-value-imports',
      severity: 'error',
      comment:
        "Workflow code runs in Temporal's deterministic sandbox and is bundled on its own: values come " +
        'from @temporalio/workflow and other files in src/workflows only. Anything else is `import type` ' +
        '(activities go through proxyActivities); I/O belongs in an activity.',
      from: { path: '^src/workflows/' },
      to: {
        pathNot: ['^src/workflows/', '^node_modules/@temporalio/workflow/'],
        dependencyTypesNot: TYPE_ONLY,
      },
    },
    {
      name: 'workflows-type-imports',
      severity: 'error',
      comment:
        'Workflows name the types of what they call and what they return: activities, reports, the ' +
        'blob store, clients and the domain. Nothing above those (api, cli, config, entry points).',
      from: { path: '^src/workflows/' },
      to: {
        path: '^src/',
        pathNot: '^src/(workflows|domain|activities|reports|blobstore|clients)/',
      },
    },
    {
      name: 'clients-stay-low',
      severity: 'error',
      comment:
        'Vendor clients know HTTP and their vendor only; activities, workflows, the api, the cli and ' +
        'the entry points use them, never the other way round.',
      from: { path: '^src/clients/' },
      to: { path: ['^src/(activities|workflows|api|cli|dev)/', '^src/(processes|worker)\\.ts$', '^packages/'] },
    },
    {
      name: 'entry-points-on-top',
      severity: 'error',
      comment: 'cli, processes.ts and worker.ts wire the product together; nothing below them imports them.',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/(processes|worker)\\.ts$'] },
      to: { path: ['^src/cli/', '^src/(processes|worker)\\.ts$'] },
    },
    {
      name: 'product-not-to-local',
      severity: 'error',
      comment:
        'The emulators and the local stack (packages/local, @bobsync/local) are for local runs, tests ' +
        'and benchmarks, and the production image leaves them out. Product code never imports them; ' +
        'src/cli/main.ts loads them by name at run time for `bobsync dev` and `bobsync emulators`, ' +
        'naming their types only.',
      from: { path: '^src/' },
      to: { path: ['^packages/', '^node_modules/@bobsync/'], dependencyTypesNot: TYPE_ONLY },
    },
    {
      name: 'product-not-to-dev',
      severity: 'error',
      comment:
        'src/dev is the Temporal tooling of the command line (the dev server, the CLI download, the ' +
        'time-skipping test server). Only src/cli/main.ts, which parses the arguments of `bobsync ' +
        'temporal ensure` and friends, and the local stack may import it.',
      from: { path: '^src/', pathNot: ['^src/dev/', '^src/cli/main\\.ts$'] },
      to: { path: '^src/dev/' },
    },
    {
      name: 'emulators-apart-from-product',
      severity: 'error',
      comment:
        'The emulators stand in for the vendors: they follow the published contracts, not bobsync. ' +
        "Types of a vendor's own API (the generated 360Learning spec types) are the only thing they take from src.",
      from: { path: '^packages/local/emulators/' },
      to: { path: '^src/', pathNot: '^src/clients/learning360/core-api' },
    },
  ],
  options: {
    // src and packages are checked; packages are recorded as leaves (so the workflow rule sees them) but not read.
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Read type-only imports too, and mark them `type-only`: the rules above tell them apart.
    tsPreCompilationDeps: true,
  },
};
