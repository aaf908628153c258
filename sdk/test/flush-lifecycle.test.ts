// flush() and shutdown() against OTel's LoggerProvider, which cuts a processor's flush at 30 s unless told
// otherwise, and hooks written as async functions.
import { type DiagLogger, DiagLogLevel, diag, logs } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_ATTRIBUTES as A, createAuditLogger } from '../src/index.js';
import { AuditLogRecordProcessor } from '../src/node.js';
import {
  ControlledExporter,
  hookedLogger,
  httpError,
  type MemoryProcessor,
  memoryProvider,
  tick,
} from './support.js';

function diagSpy() {
  const logger: DiagLogger = {
    error: vi.fn(),
    warn: vi.fn(),
    info: vi.fn(),
    debug: vi.fn(),
    verbose: vi.fn(),
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
  const said = (level: 'error' | 'warn') =>
    vi.mocked(logger[level]).mock.calls.map((call) => call.map(String).join(' '));
  return said;
}

/** A processor of someone else's pipeline (no delivery tracking) whose flush never ends, or fails. */
function foreignProcessor(forceFlush: () => Promise<void>): LogRecordProcessor {
  return { onEmit() {}, forceFlush, shutdown: async () => {} };
}

afterEach(() => {
  vi.useRealTimers();
  diag.disable();
});

describe('flush() and shutdown() past the provider timeout', () => {
  it('waits for a delivery-tracking processor past OTel’s 30 s cut, and counts what it exported', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const exporter = new ControlledExporter();
    // An endpoint that takes 40 s to answer, within the processor's own timeout.
    const processor = new AuditLogRecordProcessor({ exporter, exportTimeoutMillis: 120_000 });
    const { audit } = hookedLogger(new LoggerProvider({ processors: [processor] }));
    for (let i = 0; i < 3; i++) audit.record({ action: 'a.b.created' });
    const flushed = audit.flush();
    const outcome = flushed.then(
      (stats) => stats,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(40_000);
    expect(exporter.waiting).toHaveLength(1);
    exporter.settleAll(ExportResultCode.SUCCESS);
    expect(await outcome).toMatchObject({ recorded: 3, exported: 3, pending: 0 });
  });

  it('does not wait for another processor of the same provider that never settles (30 s, then its own only)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const exporter = new ControlledExporter();
    exporter.auto = { code: ExportResultCode.SUCCESS };
    const processor = new AuditLogRecordProcessor({ exporter });
    const hanging = foreignProcessor(() => new Promise(() => {}));
    const { audit } = hookedLogger(new LoggerProvider({ processors: [processor, hanging] }));
    audit.record({ action: 'a.b.created' });
    let outcome: unknown = 'still waiting';
    void audit.flush().then(
      (stats) => {
        outcome = stats;
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await vi.advanceTimersByTimeAsync(31_000);
    expect(outcome).toMatchObject({ recorded: 1, exported: 1, pending: 0 });
    // Nothing left that would hold the process (a 2^31 ms timer did, through the hanging processor).
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits past the cut for a replaced global provider’s tracking processor too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const exporter = new ControlledExporter();
    const processor = new AuditLogRecordProcessor({ exporter, exportTimeoutMillis: 120_000 });
    logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [processor] }));
    try {
      const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false });
      for (let i = 0; i < 3; i++) audit.record({ action: 'a.b.created' });
      logs.disable();
      logs.setGlobalLoggerProvider(memoryProvider().provider);
      const settled = (promise: Promise<unknown>) =>
        promise.then(
          (stats) => stats,
          (error: unknown) => error,
        );
      const outcome = settled(audit.flush());
      await vi.advanceTimersByTimeAsync(1_000);
      // A shutdown() overlapping that flush, which started the replaced provider's flush: it waits too.
      const shutdown = settled(audit.shutdown());
      await vi.advanceTimersByTimeAsync(39_000);
      exporter.settleAll(ExportResultCode.SUCCESS);
      expect(await outcome).toMatchObject({ recorded: 3, exported: 3, pending: 0 });
      expect(await shutdown).toMatchObject({ recorded: 3, exported: 3, pending: 0 });
      // One export: the wait past the cut starts no attempt of its own.
      expect(exporter.exportCalls).toBe(1);
    } finally {
      logs.disable();
    }
  });

  it('resolves with the counts when an untracked pipeline’s flush is cut at 30 s, and says so', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const said = diagSpy();
    const provider = new LoggerProvider({ processors: [foreignProcessor(() => new Promise(() => {}))] });
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    audit.record({ action: 'a.b.created' });
    const outcome = audit.flush().then(
      (stats) => stats,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(31_000);
    expect(await outcome).toMatchObject({ recorded: 1, tracked: false });
    expect(said('warn')).toContainEqual(expect.stringContaining('did not finish flushing in time'));
  });

  it('knows OTel’s timeout in a minified bundle too (its class renamed, its message kept)', async () => {
    const said = diagSpy();
    class sp extends Error {} // what esbuild --minify made of TimeoutError
    const provider = new LoggerProvider({
      processors: [foreignProcessor(() => Promise.reject(new sp('Operation timed out.')))],
    });
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    audit.record({ action: 'a.b.created' });
    await expect(audit.flush()).resolves.toMatchObject({ recorded: 1 });
    expect(said('warn')).toContainEqual(expect.stringContaining('did not finish flushing in time'));
  });

  it('stops the logger even when the provider’s flush fails: a later record is dropped, not accepted unseen', async () => {
    const provider = new LoggerProvider({
      processors: [foreignProcessor(() => Promise.reject(new Error('disk full')))],
    });
    const { audit, drops } = hookedLogger(provider);
    audit.record({ action: 'a.b.created' });
    await expect(audit.shutdown()).rejects.toThrow('disk full');
    audit.record({ action: 'a.b.updated' });
    expect(drops.map((d) => d.reason)).toEqual(['shutdown']);
    expect(audit.stats()).toMatchObject({ recorded: 2, dropped: 1 });
  });
});

describe('flush() and shutdown() while the service keeps recording', () => {
  /** Records `n` events; a flag tells whether a promise has settled yet. */
  const settledFlag = (promise: Promise<unknown>) => {
    const state = { settled: false };
    promise.then(
      () => {
        state.settled = true;
      },
      () => {
        state.settled = true;
      },
    );
    return state;
  };

  for (const call of ['flush', 'shutdown'] as const) {
    it(`${call}() ends once what was held when it was called is exported, not when recording stops`, async () => {
      const exporter = new ControlledExporter();
      const processor = new AuditLogRecordProcessor({ exporter });
      const { audit } = hookedLogger(new LoggerProvider({ processors: [processor] }));
      for (let i = 0; i < 3; i++) audit.record({ action: 'a.b.created' });
      const done = audit[call]();
      const state = settledFlag(done);
      await tick();
      expect(exporter.waiting.map((w) => w.records.length)).toEqual([3]);
      // Requests keep coming: each export finds more records queued meanwhile (it waited for all of them).
      for (let round = 0; round < 3 && !state.settled; round++) {
        for (let i = 0; i < 2; i++) audit.record({ action: 'a.b.updated' });
        exporter.settleAll(ExportResultCode.SUCCESS);
        await tick();
        await tick();
      }
      expect(state.settled).toBe(true);
      // What the call held is exported; the 2 records made during it are the background drain's.
      expect(await done).toMatchObject({ recorded: 5, exported: 3, pending: 2 });
      exporter.auto = { code: ExportResultCode.SUCCESS };
      exporter.settleAll(ExportResultCode.SUCCESS);
      await processor.forceFlush();
      expect(audit.stats()).toMatchObject({ recorded: 5, exported: 5, pending: 0 });
    });
  }

  it('a coalesced occurrence given while shutdown() flushes is delivered, not dropped, and its counts say so', async () => {
    const exporter = new ControlledExporter();
    const processor = new AuditLogRecordProcessor({ exporter });
    const provider = new LoggerProvider({ processors: [processor] });
    const { audit, drops } = hookedLogger(provider);
    const saves = audit.coalesce({ idleMs: 60_000 });
    audit.record({ action: 'a.b.created' });
    const done = audit.shutdown();
    await tick();
    for (let i = 0; i < 2; i++) saves.record({ action: 'a.doc.saved', targets: [{ type: 'doc', id: 'd1' }] });
    exporter.auto = { code: ExportResultCode.SUCCESS };
    exporter.settleAll(ExportResultCode.SUCCESS);
    const stats = await done;
    expect(drops).toEqual([]);
    // The session is emitted before the logger stops: held by the pipeline, which the provider's shutdown delivers.
    expect(stats).toMatchObject({ recorded: 2, dropped: 0, coalescing: 0 });
    await provider.shutdown();
    expect(audit.stats()).toMatchObject({ recorded: 2, exported: 2, dropped: 0, pending: 0 });
    const saved = exporter.delivered.find((r) => r.attributes[A.action] === 'a.doc.saved');
    expect(saved?.attributes[A.count]).toBe(2);
  });
});

describe('async hooks', () => {
  it('reports an async onDrop, onError or onInvalid that rejects through diag, never as an unhandled rejection', async () => {
    const said = diagSpy();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const exporter = new ControlledExporter();
      exporter.auto = { code: ExportResultCode.FAILED, error: httpError(400) };
      const provider = new LoggerProvider({
        processors: [new AuditLogRecordProcessor({ exporter, scheduledDelayMillis: 0 })],
      });
      const audit = createAuditLogger({
        loggerProvider: provider,
        tenant: 'acme',
        flushOnExit: false,
        onDrop: async () => {
          throw new Error('alerting down (drop)');
        },
        onError: async () => {
          throw new Error('alerting down (error)');
        },
        onInvalid: async () => {
          throw new Error('alerting down (invalid)');
        },
      });
      audit.record({ action: 'a.b.created' }); // fails: 400
      await audit.flush();
      audit.record({ action: 'not an action' }); // invalid
      await audit.shutdown();
      audit.record({ action: 'a.b.updated' }); // dropped: shutdown
      for (let i = 0; i < 5; i++) await tick();
      expect(unhandled).toEqual([]);
      const errors = said('error').join('\n');
      for (const hook of ['drop', 'error', 'invalid']) expect(errors).toContain(`alerting down (${hook})`);
      expect(audit.stats()).toMatchObject({ recorded: 2, failed: 1, dropped: 1, invalid: 1 });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('coalescing recorders hand back a copy', () => {
  it('keeps its own copy of what the caller gave: a later edit of the input, even a cycle, changes and breaks nothing', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const saves = audit.coalesce({ idleMs: 60_000 });
    const doc: Record<string, unknown> = { title: 'v1' };
    const actor = { id: 'u1', type: 'user' };
    const at = new Date('2026-11-20T10:00:00Z');
    const base = { action: 'docs.sheet.saved', actor, targets: [{ type: 'sheet', id: 's1' }] };
    saves.record({ ...base, occurredAt: at, changes: { before: doc, after: { title: 'v2' } } });
    // A Proxy (Vue, MobX, immer) in the metadata: taken as plain data, never a DataCloneError out of record().
    const latest = { title: 'v3' };
    saves.record({ ...base, metadata: new Proxy({ a: 1 }, {}), changes: { after: latest } });
    doc.title = 'EDITED-AFTER-RECORD';
    doc.parent = doc;
    latest.title = 'EDITED-TOO';
    actor.id = 'someone-else';
    at.setTime(0);
    audit.flush();
    const records = (exporter as MemoryProcessor).records;
    expect(records).toHaveLength(1);
    const attributes = records[0]?.attributes ?? {};
    expect(attributes[A.actorId]).toBe('u1');
    expect(attributes[A.count]).toBe(2);
    expect(JSON.parse(String(attributes[A.changes]))).toEqual({
      before: { title: 'v1' },
      after: { title: 'v3' },
    });
    expect(records[0]?.hrTime[0]).toBe(Date.parse('2026-11-20T10:00:00Z') / 1000);
  });

  it('an edit of the returned event changes nothing that is emitted, and cannot break the session', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const saves = audit.coalesce({ idleMs: 60_000 });
    const input = {
      action: 'docs.sheet.saved',
      actor: { id: 'u1', type: 'user' },
      context: { ip: '1.2.3.4' },
      targets: [{ type: 'sheet', id: 's1' }],
      changes: { before: { title: 'a' } },
    };
    const first = saves.record(input);
    const { id } = first;
    Object.assign(first, { tenant: 'other', id: 'not-a-uuid' });
    first.actor.id = 'someone-else';
    first.occurredAt.setTime(0);
    delete (first as { context?: unknown }).context;
    (first.changes?.before as { title: string }).title = 'forged';
    const again = saves.record({ ...input, changes: { after: { title: 'b' } } });
    expect(again.id).toBe(id);
    again.actor.id = 'someone-else';
    audit.flush();
    const records = (exporter as MemoryProcessor).records;
    expect(records).toHaveLength(1);
    const attributes = records[0]?.attributes ?? {};
    expect(attributes[A.eventId]).toBe(id);
    expect(attributes[A.tenant]).toBe('acme');
    expect(attributes[A.actorId]).toBe('u1');
    expect(attributes[A.contextIp]).toBe('1.2.3.4');
    expect(JSON.parse(String(attributes[A.changes]))).toEqual({
      before: { title: 'a' },
      after: { title: 'b' },
    });
    expect(records[0]?.hrTime[0]).toBeGreaterThan(0);
  });
});
