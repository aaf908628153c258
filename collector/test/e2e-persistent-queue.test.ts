// The shipped exporter queue (file_storage, retry forever) under outages of the last hop (otel-audit serve),
// through the real collector running gateway.yaml: nothing the collector acknowledged is lost, not even across
// a crash of the collector.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CollectorBinary,
  ensureCollector,
  freePort,
  goToolchain,
  type RunningCollector,
  SHIPPED_CONFIGS,
  startCollector,
} from '../src/otelcol/index.js';
import {
  auditEvents,
  type CollectorEndpoints,
  collectorEndpoints,
  emit,
  expectIntact,
  ReceiverLastHop,
  rowsById,
  type StoredLogRow,
  waitFor,
  waitForStored,
  writeLastHopOverlay,
} from './e2e-support.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED collector end-to-end tests: ${go.reason}`);

const checkIntact = (events: ReturnType<typeof auditEvents>, rows: StoredLogRow[]) => {
  const byId = rowsById(rows);
  for (const event of events) for (const copy of byId.get(event.id) ?? []) expectIntact(event, copy);
};

describe.skipIf(!go.available)('gateway.yaml persistent sending queue', () => {
  const token = randomUUID();
  let dir = '';
  let binary: CollectorBinary = { available: false, reason: 'not built yet' };
  let lastHop: ReceiverLastHop | undefined;
  let endpoints: CollectorEndpoints | undefined;
  let overlay = '';
  let collector: RunningCollector | undefined;

  const start = async () => {
    if (!binary.available || !endpoints) throw new Error('collector not prepared');
    collector = await startCollector({
      binary: binary.path,
      configs: [SHIPPED_CONFIGS.gateway, overlay],
      env: endpoints.env,
      healthUrl: endpoints.healthUrl,
    });
    return collector;
  };

  beforeAll(async () => {
    binary = await ensureCollector();
    if (!binary.available) throw new Error(`Go is on PATH but the collector was not built: ${binary.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'e2e-queue-'));
    // The receiver's port is fixed up front so the collector can point at it while nothing listens there.
    lastHop = new ReceiverLastHop(await freePort(), join(dir, 'chdb'), token);
    endpoints = await collectorEndpoints(dir, lastHop.logsUrl, token);
    overlay = writeLastHopOverlay(dir, {
      encoding: 'proto',
      retryIntervals: { initial_interval: '200ms', max_interval: '1s' },
    });
  }, 30 * 60_000);

  afterAll(async () => {
    await collector?.kill();
    await lastHop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps retrying while the last hop is down and delivers everything once it is back', async () => {
    const running = await start();
    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 50);
    // Resolves only if the collector acknowledged every export: the records are in its queue now.
    await emit(endpoints?.otlpHttpUrl ?? '', runId, events, ['ordinary while down']);
    await waitFor('a failed export attempt in the collector log', () =>
      /connection refused/i.test(running.output()),
    );

    await lastHop?.start();
    if (!lastHop) throw new Error('not set up');
    checkIntact(events, await waitForStored(lastHop, runId, events));
    expect(running.output()).not.toMatch(/dropping data|permanent error/i);
  }, 60_000);

  const refusals = (c: RunningCollector) => c.output().match(/connection refused/gi)?.length ?? 0;

  it.each([
    ['a crash (SIGKILL)', 'SIGKILL'],
    ['a graceful restart (SIGTERM)', 'SIGTERM'],
  ] as const)(
    'keeps what it queued across %s while the last hop is down',
    async (_, signal) => {
      await lastHop?.stop();
      const first = collector ?? (await start());
      const refusedBefore = refusals(first);
      const runId = randomUUID().slice(0, 8);
      const events = auditEvents(runId, 80);
      await emit(endpoints?.otlpHttpUrl ?? '', runId, events, [`ordinary before ${signal}`]);
      // The records were taken from the queue and their export failed: they are in flight when the process ends.
      await waitFor(
        'a failed export attempt after the last hop went down',
        () => refusals(first) > refusedBefore,
      );
      const exit = signal === 'SIGKILL' ? await first.kill() : await first.stop();
      if (signal === 'SIGKILL') expect(exit.signal).toBe('SIGKILL');
      else expect(exit.code).toBe(0);

      await lastHop?.start();
      const second = await start();
      if (!lastHop) throw new Error('not set up');
      // Delivered from the queue the stopped collector left on disk.
      checkIntact(events, await waitForStored(lastHop, runId, events));
      expect(second.output()).not.toMatch(/dropping data|permanent error/i);
    },
    60_000,
  );
});

describe.skipIf(!go.available)('gateway.yaml sending queue when it is full', () => {
  // Small enough that the requests below fill it, big enough for one of them (a request bigger than the whole
  // queue would wait forever) and for the overlay's batch (at least 1 MiB): 500 records of auditEvents are
  // 0.58 MB as OTLP/JSON (measured), less as the protobuf the queue counts.
  const queueBytes = 2 * 1024 * 1024;
  const token = randomUUID();
  let dir = '';
  let lastHop: ReceiverLastHop | undefined;
  let collector: RunningCollector | undefined;
  let otlpHttpUrl = '';

  beforeAll(async () => {
    const binary = await ensureCollector();
    if (!binary.available) throw new Error(`Go is on PATH but the collector was not built: ${binary.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'e2e-full-queue-'));
    lastHop = new ReceiverLastHop(await freePort(), join(dir, 'chdb'), token);
    const endpoints = await collectorEndpoints(dir, lastHop.logsUrl, token);
    otlpHttpUrl = endpoints.otlpHttpUrl;
    collector = await startCollector({
      binary: binary.path,
      configs: [
        SHIPPED_CONFIGS.gateway,
        writeLastHopOverlay(dir, {
          encoding: 'proto',
          retryIntervals: { initial_interval: '200ms', max_interval: '1s' },
        }),
      ],
      env: { ...endpoints.env, OTEL_AUDIT_QUEUE_MAX_BYTES: String(queueBytes) },
      healthUrl: endpoints.healthUrl,
    });
  }, 30 * 60_000);

  afterAll(async () => {
    await collector?.kill();
    await lastHop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds senders back (OTEL_AUDIT_QUEUE_MAX_BYTES) while the last hop is down and drops nothing', async () => {
    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 6000);
    let settled = false;
    // 6.9 MB of JSON in 12 requests, well over the queue; the senders wait up to a minute per request.
    const emitted = emit(otlpHttpUrl, runId, events, [], {
      timeoutMillis: 60_000,
      recordsPerRequest: 500,
    }).finally(() => {
      settled = true;
    });
    emitted.catch(() => {}); // awaited below; no unhandled rejection meanwhile
    await waitFor('a failed export attempt in the collector log', () =>
      /connection refused/i.test(collector?.output() ?? ''),
    );
    // With room for everything the emit ends within a second (the first test above); a full queue holds it.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect(settled).toBe(false);

    await lastHop?.start();
    await emitted; // every request acknowledged, none refused
    if (!lastHop) throw new Error('not set up');
    checkIntact(events, await waitForStored(lastHop, runId, events));
    expect(collector?.output()).not.toMatch(/dropping data|permanent error/i);
  }, 120_000);
});
