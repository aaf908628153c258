import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:docker`: the suites that need a Docker engine (testcontainers), never part of `npm test`.
// Not mergeConfig: it concatenates arrays, so the base's include would run every suite and its exclude would
// drop the Docker ones.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['*/test/**/*.docker.test.ts'],
    exclude: ['**/node_modules/**'],
    // The stack runs in containers: no collector build, no type tests.
    globalSetup: [],
    typecheck: { enabled: false },
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
