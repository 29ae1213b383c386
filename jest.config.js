/**
 * Two projects, as the anchors split them: `unit` (pure functions, the state machine, replay of recorded
 * histories, the LLM boundary: no server, seconds) and `integration` (one real Temporal dev server and one
 * workflow bundle for the whole run, see test/global-setup.ts). `npm test` runs both; `npm run test:unit` the
 * first alone. A third, `cluster`, runs only when asked (`npm run test:cluster`).
 */
/** The integration tests that also run on the cluster: the checkpoint API end to end, export/import, encryption, scale-out, the Web UI. */
const CLUSTER_INTEGRATION_TESTS = ['checkpoints', 'lifecycle', 'encryption', 'scale-out', 'webui'];

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
    {
      // `npm run test:cluster`: the multi-service Temporal cluster on PostgreSQL (tools/cluster/cluster.ts) as the
      // server, for the cluster's own tests (faults, import into it, bench) and the integration tests that matter
      // on a real cluster, run unchanged against it.
      displayName: 'cluster',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testMatch: [
        '<rootDir>/test/cluster/*.test.ts',
        ...CLUSTER_INTEGRATION_TESTS.map((name) => `<rootDir>/test/integration/${name}.test.ts`),
      ],
      transform,
      setupFiles: ['<rootDir>/test/setup-env.ts'],
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
      globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
    },
  ],
};
