// startCollector's readiness wait, with a stand-in binary that never becomes healthy.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CollectorStartError, startCollector } from '../src/otelcol/index.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startCollector', () => {
  it('waits readyTimeoutMs on the monotonic clock, whatever the wall clock does meanwhile', async () => {
    const binary = join(dir, 'otelcol-never-ready');
    writeFileSync(binary, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(binary, 0o755);
    const wall = Date.now;
    const started = performance.now();
    try {
      const starting = startCollector({
        binary,
        configs: [],
        // Port 9 (discard): nothing answers, so it never becomes ready.
        healthUrl: 'http://127.0.0.1:9/',
        readyTimeoutMs: 1_500,
      });
      // NTP steps the clock an hour forward while it waits: the wait must not end at once (nor, stepped back,
      // last an hour).
      const step = setTimeout(() => {
        const stepped = wall() + 3_600_000 - performance.now();
        Date.now = () => stepped + performance.now();
      }, 300);
      await expect(starting).rejects.toThrow(CollectorStartError);
      clearTimeout(step);
    } finally {
      Date.now = wall;
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_400);
  }, 30_000);
});
