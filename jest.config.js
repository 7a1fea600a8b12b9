// Unit tests are pure and fast; integration and contract tests start real HTTP servers and
// talk to one real Temporal dev server, started once for the whole run (test/support/global-setup).
// Workflow tests run workflows with stub activities on Temporal's time-skipping test server, one
// per test file; their own global setup fetches it when missing (test/support/workflow-setup).
const transform = { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] };
module.exports = {
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'],
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/contract/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
      ],
      slowTestThreshold: 30,
    },
    {
      displayName: 'workflow',
      testEnvironment: 'node',
      transform,
      globalSetup: '<rootDir>/test/support/workflow-setup.ts',
      setupFiles: ['<rootDir>/test/support/time-skipping-runtime.ts'],
      testMatch: ['<rootDir>/test/workflow/**/*.test.ts'],
    },
  ],
};
