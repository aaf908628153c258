// SDK -> the real collector running gateway.yaml (last hop switched to OTLP/HTTP) -> what it delivers.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_MARKER_ATTRIBUTE } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureCollector,
  freePort,
  goToolchain,
  type RunningCollector,
  SHIPPED_CONFIGS,
  startCollector,
} from '../src/otelcol/index.js';
import { OtlpJsonSink } from './e2e-otlp-sink.js';
import {
  auditEvents,
  collectorEndpoints,
  deliveredById,
  emit,
  expectIntact,
  waitFor,
  writeLastHopOverlay,
} from './e2e-support.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED collector end-to-end tests: ${go.reason}`);

describe.skipIf(!go.available)('gateway.yaml through the real collector', () => {
  const token = randomUUID();
  let dir = '';
  let sink: OtlpJsonSink | undefined;
  let collector: RunningCollector | undefined;
  let otlpHttpUrl = '';

  beforeAll(async () => {
    const built = await ensureCollector();
    if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'e2e-gateway-'));
    sink = new OtlpJsonSink(await freePort(), token);
    await sink.start();
    const endpoints = await collectorEndpoints(dir, sink.logsUrl, token);
    otlpHttpUrl = endpoints.otlpHttpUrl;
    collector = await startCollector({
      binary: built.path,
      configs: [SHIPPED_CONFIGS.gateway, writeLastHopOverlay(dir, { encoding: 'json' })],
      env: endpoints.env,
      healthUrl: endpoints.healthUrl,
    });
  }, 30 * 60_000);

  afterAll(async () => {
    await collector?.kill();
    await sink?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every audit event with actor, targets and metadata intact, and no ordinary log', async () => {
    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 60);
    const ordinary = Array.from({ length: 60 }, (_, i) => `ordinary log ${i} of ${runId}`);
    await emit(otlpHttpUrl, runId, events, ordinary);

    const received = () => deliveredById(sink?.logs ?? []);
    await waitFor(`${events.length} audit events at the last hop`, () =>
      events.every((event) => received().has(event.id)),
    );
    // Ordinary logs travelled in the same OTLP requests as the audit events, so they had every chance to arrive.
    const byId = received();
    for (const event of events) {
      const copies = byId.get(event.id) ?? [];
      expect(copies.length, event.id).toBeGreaterThanOrEqual(1);
      for (const copy of copies) expectIntact(event, copy);
    }
    const logs = sink?.logs ?? [];
    expect(logs.every((log) => log.attributes[AUDIT_MARKER_ATTRIBUTE] !== undefined)).toBe(true);
    expect(logs.filter((log) => ordinary.includes(log.body?.stringValue ?? ''))).toEqual([]);
    expect(collector?.output()).not.toMatch(/\berror\b/i);
  }, 60_000);
});
