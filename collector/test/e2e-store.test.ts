// SDK -> the real collector running gateway.yaml -> its deliveries replayed into chDB -> the query module.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '@otel-audit/clickhouse';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
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
import { replayIntoStore } from './e2e-replay.js';
import {
  auditEvents,
  collectorEndpoints,
  deliveredById,
  emit,
  waitFor,
  writeLastHopOverlay,
} from './e2e-support.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED collector end-to-end tests: ${go.reason}`);

describe.skipIf(!go.available)('gateway.yaml to the store and the query module', () => {
  const token = randomUUID();
  let dir = '';
  let sink: OtlpJsonSink | undefined;
  let collector: RunningCollector | undefined;
  let store: AuditStore | undefined;
  let otlpHttpUrl = '';

  beforeAll(async () => {
    const built = await ensureCollector();
    if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'e2e-store-'));
    store = await AuditStore.open({ path: join(dir, 'chdb') });
    // Keep the raw rows too, to check no ordinary log reached the table the exporter writes.
    await store.migrate({ logsEngine: 'MergeTree' });
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
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('returns every audit event with actor, targets and metadata intact, and stores no ordinary log', async () => {
    if (!store || !sink) throw new Error('not set up');
    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 40);
    const ordinary = Array.from({ length: 40 }, (_, i) => `ordinary log ${i} of ${runId}`);
    await emit(otlpHttpUrl, runId, events, ordinary);
    await waitFor(`${events.length} audit events at the last hop`, () =>
      events.every((event) => deliveredById(sink?.logs ?? []).has(event.id)),
    );
    await replayIntoStore(store, sink.logs);

    const tenant = events[0]?.tenant ?? '';
    for (const event of events) {
      const stored = await store.getEvent(tenant, event.id);
      expect(stored, event.id).toBeDefined();
      expect(stored?.action).toBe(event.action);
      expect(stored?.occurredAt.getTime()).toBe(event.occurredAt.getTime());
      expect(stored?.actor).toEqual(event.actor);
      expect(stored?.targets).toEqual(event.targets);
      expect(stored?.metadata).toEqual(event.metadata);
      expect(stored?.serviceName).toBe('e2e-service');
      expect(stored?.malformed).toEqual([]);
    }
    const page = await store.search({ tenant }, { limit: 1000 });
    expect(page.events.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    // The raw table holds this run's audit records only (at least once each), never an ordinary log.
    const raw = await store.query<{ body: string }>(
      `SELECT Body AS body FROM {db}.${AUDIT_TABLES.logs} WHERE ResourceAttributes['e2e.run'] = {run:String}`,
      { run: runId },
    );
    expect(raw.length).toBeGreaterThanOrEqual(events.length);
    expect(raw.filter((row) => ordinary.includes(row.body))).toEqual([]);
  }, 60_000);
});
