/**
 * Two projects, as the anchors split them: `unit` (pure functions, the state machine, replay of recorded
 * histories, the LLM boundary: no server, seconds) and `integration` (one real Temporal dev server and one
 * workflow bundle for the whole run, see test/global-setup.ts). `npm test` runs both; `npm run test:unit` the
 * first alone.
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

module.exports = {
  testTimeout: 60_000,
  maxWorkers: 2,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/unit'],
      testMatch: ['**/*.test.ts'],
      transform,
      setupFiles: ['<rootDir>/test/setup-env.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/integration'],
      testMatch: ['**/*.test.ts'],
      transform,
      setupFiles: ['<rootDir>/test/setup-env.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};
