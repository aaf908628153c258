import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:docker`: the suites that need a Docker engine (testcontainers), never part of `npm test`.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['*/test/**/*.docker.test.ts'],
      exclude: ['**/node_modules/**'],
      testTimeout: 300_000,
      hookTimeout: 600_000,
    },
  }),
);
