// SDK -> the real collector running gateway.yaml (last hop switched to OTLP/HTTP protobuf) -> otel-audit serve
// -> the rows it stored.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_ATTRIBUTES as A, AUDIT_MARKER_ATTRIBUTE } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureCollector,
  freePort,
  goToolchain,
  type RunningCollector,
  SHIPPED_CONFIGS,
  startCollector,
} from '../src/otelcol/index.js';
import {
  auditEvents,
  collectorEndpoints,
  emit,
  expectIntact,
  ReceiverLastHop,
  rowsById,
  waitFor,
  waitForStored,
  writeLastHopOverlay,
} from './e2e-support.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED collector end-to-end tests: ${go.reason}`);

describe.skipIf(!go.available)('gateway.yaml through the real collector', () => {
  const token = randomUUID();
  let dir = '';
  let lastHop: ReceiverLastHop | undefined;
  let collector: RunningCollector | undefined;
  let agent: RunningCollector | undefined;
  let binary = '';
  let otlpHttpUrl = '';
  let gatewayGrpc = '';

  beforeAll(async () => {
    const built = await ensureCollector();
    if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
    binary = built.path;
    dir = mkdtempSync(join(tmpdir(), 'e2e-gateway-'));
    lastHop = new ReceiverLastHop(await freePort(), join(dir, 'chdb'), token);
    await lastHop.start();
    const endpoints = await collectorEndpoints(dir, lastHop.logsUrl, token);
    otlpHttpUrl = endpoints.otlpHttpUrl;
    gatewayGrpc = endpoints.env.OTEL_AUDIT_OTLP_GRPC_ENDPOINT ?? '';
    collector = await startCollector({
      binary: built.path,
      configs: [SHIPPED_CONFIGS.gateway, writeLastHopOverlay(dir, { encoding: 'proto' })],
      env: endpoints.env,
      healthUrl: endpoints.healthUrl,
    });
  }, 30 * 60_000);

  afterAll(async () => {
    await agent?.kill();
    await collector?.kill();
    await lastHop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every audit event with actor, targets and metadata intact, and no ordinary log', async () => {
    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 60);
    const ordinary = Array.from({ length: 60 }, (_, i) => `ordinary log ${i} of ${runId}`);
    await emit(otlpHttpUrl, runId, events, ordinary);

    if (!lastHop) throw new Error('not set up');
    const rows = await waitForStored(lastHop, runId, events);
    // Ordinary logs travelled in the same OTLP requests as the audit events, so they had every chance to arrive.
    const byId = rowsById(rows);
    for (const event of events) {
      const copies = byId.get(event.id) ?? [];
      expect(copies.length, event.id).toBeGreaterThanOrEqual(1);
      for (const copy of copies) expectIntact(event, copy);
    }
    expect(rows.every((row) => row.LogAttributes[AUDIT_MARKER_ATTRIBUTE] !== undefined)).toBe(true);
    expect(rows.filter((row) => ordinary.includes(row.Body))).toEqual([]);
    expect(collector?.output()).not.toMatch(/\berror\b/i);
  }, 60_000);

  it('large events: batches towards serve stay under its body limit (a 413 is never retried: all would be lost)', async () => {
    // ~24 MB of records, more than serve's 16 MiB body limit if the queue batched them by count (20,000 items).
    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 6000).map((e, i) => ({
      ...e,
      metadata: { ...e.metadata, blob: `${i}:`.padEnd(4000, 'x') },
    }));
    await emit(otlpHttpUrl, runId, events, []);
    if (!lastHop) throw new Error('not set up');
    const rows = await waitForStored(lastHop, runId, events, 120_000);
    expect(new Set(rows.map((r) => r.LogAttributes[A.eventId])).size).toBe(events.length);
    // The otlp_http exporter reports a refused body as "HTTP Status Code 413" (a bare 413 also matched port numbers).
    expect(collector?.output()).not.toMatch(/Dropping data|Status Code 413/);
  }, 180_000);

  it('accepts OTLP/gRPC: an agent collector forwarding everything to the gateway', async () => {
    // A node agent as platform teams run them: OTLP in, every log forwarded over OTLP/gRPC to the gateway.
    const [http, health] = [await freePort(), await freePort()];
    const agentConfig = join(dir, 'agent.yaml');
    writeFileSync(
      agentConfig,
      JSON.stringify({
        extensions: { health_check: { endpoint: `127.0.0.1:${health}` } },
        receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${http}` } } } },
        exporters: { 'otlp_grpc/gateway': { endpoint: gatewayGrpc, tls: { insecure: true } } },
        service: {
          extensions: ['health_check'],
          telemetry: { metrics: { level: 'none' } },
          pipelines: { logs: { receivers: ['otlp'], exporters: ['otlp_grpc/gateway'] } },
        },
      }),
    );
    agent = await startCollector({
      binary,
      configs: [agentConfig],
      healthUrl: `http://127.0.0.1:${health}/`,
    });

    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 30);
    const ordinary = Array.from({ length: 30 }, (_, i) => `ordinary log ${i} of ${runId} via grpc`);
    await emit(`http://127.0.0.1:${http}`, runId, events, ordinary);
    if (!lastHop) throw new Error('not set up');
    const rows = await waitForStored(lastHop, runId, events);
    const byId = rowsById(rows);
    for (const event of events) for (const copy of byId.get(event.id) ?? []) expectIntact(event, copy);
    expect(rows.filter((row) => ordinary.includes(row.Body))).toEqual([]);
  }, 60_000);

  it('runs the unmodified gateway.yaml: starts with ClickHouse down, acknowledges and keeps records on disk', async () => {
    // No overlay: the real clickhouse exporter, pointed at a port where nothing listens.
    const own = join(dir, 'unmodified');
    mkdirSync(own);
    const endpoints = await collectorEndpoints(own, 'unused', 'unused');
    const unmodified = await startCollector({
      binary,
      configs: [SHIPPED_CONFIGS.gateway],
      env: {
        ...endpoints.env,
        OTEL_AUDIT_CLICKHOUSE_ENDPOINT: `tcp://127.0.0.1:${await freePort()}`,
      },
      healthUrl: endpoints.healthUrl,
    });
    try {
      const runId = randomUUID().slice(0, 8);
      // Resolves only when the collector acknowledged every export (see emit).
      await emit(endpoints.otlpHttpUrl, runId, auditEvents(runId, 10), ['ordinary']);
      await waitFor('a retried ClickHouse export', () =>
        /Exporting failed\. Will retry.*"otelcol\.component\.id": "clickhouse\/audit"/.test(
          unmodified.output(),
        ),
      );
      expect(readdirSync(endpoints.env.OTEL_AUDIT_QUEUE_DIR ?? '')).toContain(
        'exporter_clickhouse_audit_logs',
      );
      expect(unmodified.output()).not.toMatch(/Dropping data/);
    } finally {
      await unmodified.kill();
    }
  }, 60_000);
});
