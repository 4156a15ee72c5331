// Jest projects: unit (pure code, no server), integration (real database), workflow (time-skipping
// Temporal test server), fuzz (generated abuse cases, real database), e2e (the local dev stack), faults (the local
// stack with processes killed). `npm test` (scripts/test.ts) starts the servers and passes their addresses through
// environment variables; see test/helpers/.
const transform = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
// @marcbachmann/cel-js and cookie (used by fastify's inject and @fastify/cookie) ship ES modules only; let swc turn it into CommonJS for jest (Node 20 has no require(esm) in jest),
// and @fastify/cookie's dynamic import('cookie') into a require.
const transformIgnorePatterns = ['/node_modules/(?!(@marcbachmann/cel-js|cookie|@fastify/cookie|@noble/hashes|content-disposition)/)'];
const common = { transform, transformIgnorePatterns, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

// Server-backed tests share a 2-core box with the servers they drive: jest's 5 s default fails them under
// load, not on behaviour. A test that hangs still fails, after 30 s.
module.exports = {
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'workflow', setupFiles: ['<rootDir>/test/helpers/quiet-temporal.ts'], testMatch: ['<rootDir>/test/workflow/**/*.test.ts', '<rootDir>/test/replay/**/*.test.ts'] },
    // Fuzz and abuse suite (test/fuzz): generated inputs against the real parsers and the real HTTP app.
    { ...common, displayName: 'fuzz', testMatch: ['<rootDir>/test/fuzz/**/*.test.ts'] },
    { ...common, displayName: 'e2e', setupFiles: ['<rootDir>/test/helpers/quiet-temporal.ts'], testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    // The fault suite (test/faults): the stack as real processes, killed and restarted. `npm run faults` runs full-length outages.
    { ...common, displayName: 'faults', setupFiles: ['<rootDir>/test/helpers/quiet-temporal.ts'], testMatch: ['<rootDir>/test/faults/**/*.test.ts'] },
  ],
};
