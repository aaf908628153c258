// Delivery accounting through the real OTel LoggerProvider and the AuditLogRecordProcessor.
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_ATTRIBUTES as A, createAuditLogger } from '../src/index.js';
import { AuditLogRecordProcessor, type AuditLogRecordProcessorOptions } from '../src/node.js';
import { ControlledExporter, hookedLogger, httpError, MemoryProcessor, tick } from './support.js';

function setup(options: Omit<AuditLogRecordProcessorOptions, 'exporter'> = {}) {
  const exporter = new ControlledExporter();
  const processor = new AuditLogRecordProcessor({ scheduledDelayMillis: 10, ...options, exporter });
  const provider = new LoggerProvider({ processors: [processor] });
  return { exporter, processor, provider, ...hookedLogger(provider) };
}

const ids = (records: readonly { attributes: Record<string, unknown> }[]) =>
  records.map((r) => r.attributes[A.eventId]);

afterEach(() => {
  diag.disable();
});

describe('AuditLogRecordProcessor accounting', () => {
  it('counts exported events and nothing else when the endpoint accepts', async () => {
    const { exporter, audit } = setup({ maxExportBatchSize: 4 });
    exporter.auto = { code: ExportResultCode.SUCCESS };
    const recorded = Array.from({ length: 10 }, (_, i) =>
      audit.record({ action: 'a.b.created', metadata: { i } }),
    );
    const stats = await audit.flush();
    expect(stats).toEqual({
      recorded: 10,
      exported: 10,
      dropped: 0,
      failed: 0,
      pending: 0,
      invalid: 0,
      coalescing: 0,
      tracked: true,
    });
    expect(ids(exporter.delivered)).toEqual(recorded.map((e) => e.id));
    // Batches of at most 4.
    expect(exporter.exportCalls).toBeGreaterThanOrEqual(3);
  });

  it('with a stalled exporter, drops exactly what does not fit the queue and names each dropped event', async () => {
    const { exporter, audit, drops } = setup({ maxQueueSize: 5, maxExportBatchSize: 2 });
    const recorded = Array.from({ length: 12 }, () => audit.record({ action: 'a.b.updated' }));
    await tick();
    // One batch of 2 in flight (stalled), 3 more queued: 5 held, 7 dropped.
    expect(exporter.waiting).toHaveLength(1);
    expect(audit.stats()).toMatchObject({ recorded: 12, exported: 0, dropped: 7, pending: 5 });
    const dropped = drops.flatMap((d) => d.events.map((e) => e.id));
    expect(dropped).toEqual(recorded.slice(5).map((e) => e.id));
    expect(drops.every((d) => d.reason === 'queue_full')).toBe(true);
    expect(drops[0]?.events[0]).toEqual({ id: recorded[5]?.id, action: 'a.b.updated', tenant: 'acme' });
    // The endpoint recovers: everything held arrives.
    exporter.auto = { code: ExportResultCode.SUCCESS };
    exporter.settleAll(ExportResultCode.SUCCESS);
    const stats = await audit.flush();
    expect(stats).toMatchObject({ recorded: 12, exported: 5, dropped: 7, failed: 0, pending: 0 });
    expect(ids(exporter.delivered)).toEqual(recorded.slice(0, 5).map((e) => e.id));
  });

  it('keeps a batch whose export failed for a reason that may pass, and delivers it once the endpoint is back', async () => {
    const { exporter, audit, errors } = setup({ retryInitialDelayMillis: 20, retryMaxDelayMillis: 40 });
    exporter.auto = { code: ExportResultCode.FAILED, error: httpError(503) };
    const recorded = Array.from({ length: 3 }, () => audit.record({ action: 'a.b.deleted' }));
    let stats = await audit.flush();
    expect(stats).toMatchObject({ recorded: 3, exported: 0, failed: 0, dropped: 0, pending: 3 });
    await new Promise((resolve) => setTimeout(resolve, 60)); // a backoff retry or two, still down
    const attempts = exporter.exportCalls;
    expect(attempts).toBeGreaterThanOrEqual(2);
    exporter.auto = { code: ExportResultCode.SUCCESS };
    await vi.waitFor(() => expect(audit.stats().exported).toBe(3), { timeout: 2000 });
    stats = audit.stats();
    expect(stats).toMatchObject({ recorded: 3, exported: 3, failed: 0, pending: 0 });
    expect(ids(exporter.delivered)).toEqual(recorded.map((e) => e.id));
    expect(errors).toHaveLength(0);
  });

  it('counts a batch the endpoint refuses (4xx) as failed and tells onError which events', async () => {
    const { exporter, audit, errors } = setup();
    exporter.auto = { code: ExportResultCode.FAILED, error: httpError(400) };
    const recorded = [audit.record({ action: 'a.b.created' }), audit.record({ action: 'a.b.created' })];
    const stats = await audit.flush();
    expect(stats).toMatchObject({ recorded: 2, exported: 0, failed: 2, pending: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error.message).toContain('400');
    expect(errors[0]?.events.map((e) => e.id)).toEqual(recorded.map((e) => e.id));
  });

  it('treats an export that never answers as a timeout that may pass', async () => {
    const { exporter, audit } = setup({ exportTimeoutMillis: 30 });
    audit.record({ action: 'a.b.created' });
    const stats = await audit.flush();
    expect(exporter.waiting).toHaveLength(1);
    expect(stats).toMatchObject({ recorded: 1, exported: 0, failed: 0, pending: 1 });
  });

  it('on shutdown fails what the endpoint did not take and drops later records, reporting both', async () => {
    const { exporter, audit, provider, drops, errors } = setup();
    exporter.auto = { code: ExportResultCode.FAILED, error: httpError(503) };
    const held = audit.record({ action: 'a.b.created' });
    await provider.shutdown();
    expect(audit.stats()).toMatchObject({ recorded: 1, exported: 0, failed: 1, pending: 0 });
    expect(errors[0]?.events.map((e) => e.id)).toEqual([held.id]);
    expect(errors[0]?.error.message).toContain('undelivered at shutdown');
    // What kept it from the endpoint, not only that it was still held.
    expect(errors[0]?.error.message).toMatch(/\(last export error: .*503/);
    const late = audit.record({ action: 'a.b.created' });
    expect(audit.stats()).toMatchObject({ recorded: 2, dropped: 1, pending: 0 });
    expect(drops.at(-1)).toEqual({
      events: [{ id: late.id, action: 'a.b.created', tenant: 'acme' }],
      reason: 'not_emitted',
    });
  });

  it('after audit.shutdown() a record is counted as dropped, not silently lost', async () => {
    const { exporter, audit, drops } = setup();
    exporter.auto = { code: ExportResultCode.SUCCESS };
    audit.record({ action: 'a.b.created' });
    expect(await audit.shutdown()).toMatchObject({ recorded: 1, exported: 1, pending: 0 });
    audit.record({ action: 'a.b.created' });
    expect(audit.stats()).toMatchObject({ recorded: 2, exported: 1, dropped: 1, pending: 0 });
    expect(drops.at(-1)?.reason).toBe('shutdown');
  });

  it('warns once through diag on the first drop and the first failure', async () => {
    const warn = vi.fn();
    const logger: DiagLogger = { error: vi.fn(), warn, info: vi.fn(), debug: vi.fn(), verbose: vi.fn() };
    diag.setLogger(logger, DiagLogLevel.WARN);
    const { exporter, audit } = setup({ maxQueueSize: 1, maxExportBatchSize: 1 });
    for (let i = 0; i < 5; i++) audit.record({ action: 'a.b.created' });
    await tick();
    exporter.settleAll(ExportResultCode.FAILED, httpError(400));
    await tick();
    exporter.auto = { code: ExportResultCode.FAILED, error: httpError(400) };
    for (let i = 0; i < 3; i++) audit.record({ action: 'a.b.created' });
    await audit.flush();
    const messages = warn.mock.calls.map(([m]) => String(m));
    expect(messages.filter((m) => m.includes('dropped (queue_full)'))).toHaveLength(1);
    expect(messages.filter((m) => m.includes('failed'))).toHaveLength(1);
    expect(audit.stats().dropped).toBeGreaterThan(1);
    expect(audit.stats().failed).toBeGreaterThan(1);
  });

  it('warns once per outage when exports start failing (a wrong endpoint shows before shutdown), again after a recovery', async () => {
    const warn = vi.fn();
    const logger: DiagLogger = { error: vi.fn(), warn, info: vi.fn(), debug: vi.fn(), verbose: vi.fn() };
    diag.setLogger(logger, DiagLogLevel.WARN);
    const { exporter, audit } = setup({ maxExportBatchSize: 2 });
    const outage = () =>
      warn.mock.calls.map(([m]) => String(m)).filter((m) => m.includes('retrying with backoff'));
    exporter.auto = { code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED 127.0.0.1:9') };
    audit.record({ action: 'a.b.created' });
    for (let i = 0; i < 3; i++) await audit.flush();
    expect(outage()).toEqual([expect.stringContaining('connect ECONNREFUSED 127.0.0.1:9')]);
    exporter.auto = { code: ExportResultCode.SUCCESS };
    expect((await audit.flush()).pending).toBe(0);
    exporter.auto = { code: ExportResultCode.FAILED, error: httpError(503) };
    audit.record({ action: 'a.b.created' });
    await audit.flush();
    await audit.flush();
    expect(outage()).toHaveLength(2);
  });

  it('the record() that fills a batch returns before the export starts (the exporter serializes the batch there)', async () => {
    const { exporter, audit } = setup({ maxExportBatchSize: 2 });
    exporter.auto = { code: ExportResultCode.SUCCESS };
    audit.record({ action: 'a.b.created' });
    audit.record({ action: 'a.b.created' });
    expect(exporter.exportCalls).toBe(0);
    await tick();
    expect(exporter.exportCalls).toBe(1);
    expect(audit.stats()).toMatchObject({ exported: 2, pending: 0 });
  });

  it('a drain scheduled before an export failed waits for the backoff (no second retry chain)', async () => {
    const { exporter, audit } = setup({ maxExportBatchSize: 2, retryInitialDelayMillis: 60_000 });
    audit.record({ action: 'a.b.created' });
    audit.record({ action: 'a.b.created' });
    await tick();
    expect(exporter.exportCalls).toBe(1);
    // A full batch schedules a drain; the export in flight fails in the same turn and arms the backoff.
    audit.record({ action: 'a.b.created' });
    audit.record({ action: 'a.b.created' });
    exporter.settleAll(ExportResultCode.FAILED, httpError(503));
    await tick();
    await tick();
    expect(exporter.exportCalls).toBe(1);
    exporter.auto = { code: ExportResultCode.SUCCESS };
    expect(await audit.flush()).toMatchObject({ exported: 4, pending: 0 });
  });

  it('flushes again at exit while a flush delivered something, and stops after one that delivered nothing', async () => {
    // One export in three fails (retryable): each exit flush delivers part of what is held.
    let calls = 0;
    const exporter = {
      export: (_records: unknown[], done: (result: { code: ExportResultCode; error?: Error }) => void) => {
        calls += 1;
        done(
          calls % 3 === 2
            ? { code: ExportResultCode.FAILED, error: httpError(503) }
            : { code: ExportResultCode.SUCCESS },
        );
      },
      shutdown: async () => {},
      forceFlush: async () => {},
    };
    const processor = new AuditLogRecordProcessor({ maxExportBatchSize: 2, exporter });
    const audit = createAuditLogger({
      loggerProvider: new LoggerProvider({ processors: [processor] }),
      tenant: 'acme',
    });
    let flushes = 0;
    const flush = audit.flush;
    audit.flush = () => {
      flushes += 1;
      return flush();
    };
    const exitRound = async () => {
      process.emit('beforeExit', 0);
      for (let i = 0; i < 5; i++) await tick();
    };
    try {
      for (let i = 0; i < 6; i++) audit.record({ action: 'a.b.created' });
      for (let round = 0; round < 4; round++) await exitRound();
      expect(audit.stats()).toMatchObject({ exported: 6, pending: 0 });
      const delivering = flushes;
      expect(delivering).toBeGreaterThan(1);
      // Nothing delivered any more (every export fails): one more try, then no more.
      calls = 1;
      exporter.export = (_records, done) => done({ code: ExportResultCode.FAILED, error: httpError(503) });
      audit.record({ action: 'a.b.created' });
      for (let round = 0; round < 3; round++) await exitRound();
      expect(flushes).toBe(delivering + 1);
      expect(audit.stats().pending).toBe(1);
    } finally {
      await audit.shutdown();
    }
  });

  it('accounts per logger: two audit loggers on one processor keep separate counts', async () => {
    const exporter = new ControlledExporter();
    exporter.auto = { code: ExportResultCode.SUCCESS };
    const provider = new LoggerProvider({ processors: [new AuditLogRecordProcessor({ exporter })] });
    const one = createAuditLogger({ loggerProvider: provider, tenant: 'a', flushOnExit: false });
    const two = createAuditLogger({ loggerProvider: provider, tenant: 'b', flushOnExit: false });
    one.record({ action: 'a.b.created' });
    two.record({ action: 'a.b.created' });
    two.record({ action: 'a.b.created' });
    await provider.forceFlush();
    expect(one.stats()).toMatchObject({ recorded: 1, exported: 1, pending: 0 });
    expect(two.stats()).toMatchObject({ recorded: 2, exported: 2, pending: 0 });
    expect(exporter.delivered).toHaveLength(3);
  });

  it('takes audit records only: a burst of app logs on the same provider neither reaches its endpoint nor pushes audit events out', async () => {
    const exporter = new ControlledExporter();
    exporter.auto = { code: ExportResultCode.SUCCESS };
    const processor = new AuditLogRecordProcessor({ exporter, maxQueueSize: 8 });
    const app = new MemoryProcessor();
    const provider = new LoggerProvider({ processors: [processor, app] });
    const { audit, drops } = hookedLogger(provider);
    for (let i = 0; i < 100; i++) provider.getLogger('app').emit({ body: `debug line ${i}` });
    // An audit record written by other code (the marker attribute, no audit logger) is still taken.
    provider.getLogger('other').emit({ body: 'null', attributes: { [A.action]: 'x.y.created' } });
    const event = audit.record({ action: 'billing.invoice.paid' });
    await provider.forceFlush();
    expect(drops).toEqual([]);
    expect(audit.stats()).toMatchObject({ recorded: 1, exported: 1, dropped: 0, pending: 0, tracked: true });
    expect(ids(exporter.delivered)).toEqual([undefined, event.id]);
    expect(exporter.delivered.map((r) => r.attributes[A.action])).toEqual([
      'x.y.created',
      'billing.invoice.paid',
    ]);
    expect(processor.stats()).toMatchObject({ queued: 2, exported: 2, dropped: 0 });
    // The app's own processor got every record.
    expect(app.records).toHaveLength(102);
  });

  it('is tracked once a tracking processor has seen a record, also when its first record was dropped', async () => {
    const { processor, audit, drops } = setup();
    await processor.shutdown();
    audit.record({ action: 'a.b.created' });
    expect(drops.map((d) => d.reason)).toEqual(['shutdown']);
    expect(audit.stats()).toMatchObject({ recorded: 1, dropped: 1, pending: 0, tracked: true });
  });
});
