// `npm run test:docker` must run the Docker suites and nothing else (mergeConfig once concatenated the base's
// include and exclude: every ordinary suite ran and the Docker one was excluded).
import { describe, expect, it } from 'vitest';
import base from '../../vitest.config.js';
import docker from '../../vitest.docker.config.js';

describe('vitest.docker.config.ts', () => {
  it('includes only the Docker suites, which the base config leaves out', () => {
    expect(docker.test?.include).toEqual(['*/test/**/*.docker.test.ts']);
    expect(docker.test?.exclude).toEqual(['**/node_modules/**']);
    expect(base.test?.exclude).toContain('**/*.docker.test.ts');
    // The stack runs in containers: no collector build, no type tests; the rest of the base stays.
    expect(docker.test?.globalSetup).toEqual([]);
    expect(docker.test?.typecheck).toEqual({ enabled: false });
    expect(docker.test?.pool).toBe(base.test?.pool);
    expect(docker.resolve).toEqual(base.resolve);
  });
});
