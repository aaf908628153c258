import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the "@otel-audit/source" condition,
// so tests run against src/ without a build step.
const conditions = ['@otel-audit/source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    // chDB allows one data directory per process: every test file gets its own process.
    pool: 'forks',
    include: ['*/test/**/*.test.ts'],
    globalSetup: ['./scripts/vitest-global-setup.ts'],
    exclude: ['**/node_modules/**', '**/*.docker.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    typecheck: { enabled: true, include: ['*/test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
