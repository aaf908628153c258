// What record() does when the OTel pipeline throws while emitting: a processor that throws in onEmit, a
// hand-written global provider behind the API's ProxyLogger. record() never throws it; the event is counted.
import { type Logger, type LoggerProvider as LoggerProviderApi, logs } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_ATTRIBUTES as A, createAuditLogger, type UndeliveredEvent } from '../src/index.js';
import { AuditLogRecordProcessor } from '../src/node.js';
import { ControlledExporter } from './support.js';

/** A processor that throws in onEmit for the records `throwsOn` picks. */
function throwing(throwsOn: (n: number) => boolean): LogRecordProcessor {
  let n = 0;
  return {
    onEmit() {
      n += 1;
      if (throwsOn(n)) throw new TypeError("Cannot read properties of undefined (reading 'user')");
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

function setup(processors: (audit: LogRecordProcessor) => LogRecordProcessor[]) {
  const exporter = new ControlledExporter();
  exporter.auto = { code: ExportResultCode.SUCCESS };
  const provider = new LoggerProvider({ processors: processors(new AuditLogRecordProcessor({ exporter })) });
  const drops: { events: readonly UndeliveredEvent[]; reason: string }[] = [];
  const invalid: unknown[] = [];
  const audit = createAuditLogger({
    loggerProvider: provider,
    tenant: 'acme',
    flushOnExit: false,
    onInvalid: (error) => invalid.push(error),
    onDrop: (events, reason) => drops.push({ events, reason }),
  });
  return { exporter, provider, audit, drops, invalid };
}

describe('a processor that throws in onEmit', () => {
  it('before the audit processor: record() does not throw, the event is dropped (not_emitted), none pending', async () => {
    const { exporter, provider, audit, drops, invalid } = setup((a) => [throwing((n) => n === 2), a]);
    const events = [0, 1, 2].map(() => audit.record({ action: 'a.b.created' }));
    expect(events.every((e) => e !== undefined)).toBe(true);
    expect(invalid).toEqual([]);
    expect(drops).toHaveLength(1);
    expect(drops[0]?.reason).toBe('not_emitted');
    expect(drops[0]?.events.map((e) => e.id)).toEqual([events[1]?.id]);
    await provider.shutdown();
    expect(audit.stats()).toMatchObject({ recorded: 3, exported: 2, dropped: 1, failed: 0, pending: 0 });
    expect(exporter.delivered.map((r) => r.attributes[A.eventId])).toEqual([events[0]?.id, events[2]?.id]);
  });

  it('before the audit processor on the very first record: dropped once the audit processor shows up', async () => {
    const { exporter, provider, audit, drops } = setup((a) => [throwing((n) => n === 1), a]);
    const first = audit.record({ action: 'a.b.created' });
    // Nothing tracked yet: an earlier processor may have taken it, so it is not counted lost yet.
    expect(audit.stats()).toMatchObject({ recorded: 1, dropped: 0, pending: 1, tracked: false });
    const second = audit.record({ action: 'a.b.created' });
    expect(drops.map((d) => d.events.map((e) => e.id))).toEqual([[first?.id]]);
    await provider.shutdown();
    expect(audit.stats()).toMatchObject({ recorded: 2, exported: 1, dropped: 1, pending: 0, tracked: true });
    expect(exporter.delivered.map((r) => r.attributes[A.eventId])).toEqual([second?.id]);
  });

  it('without a tracking processor: not counted dropped (an earlier processor exported it)', async () => {
    const delivered: string[] = [];
    const memory: LogRecordExporter = {
      export: (records, done) => {
        for (const r of records) delivered.push(String(r.attributes[A.eventId]));
        done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const provider = new LoggerProvider({
      processors: [new SimpleLogRecordProcessor({ exporter: memory }), throwing(() => true)],
    });
    const drops: string[] = [];
    const audit = createAuditLogger({
      loggerProvider: provider,
      tenant: 'acme',
      flushOnExit: false,
      onDrop: (_events, reason) => drops.push(reason),
    });
    const event = audit.record({ action: 'a.b.created' });
    await provider.shutdown();
    expect(delivered).toEqual([event?.id]);
    expect(drops).toEqual([]);
    expect(audit.stats()).toMatchObject({ recorded: 1, dropped: 0, pending: 1, tracked: false });
  });

  it('after the audit processor: the record is tracked there, counted once (exported), not also dropped', async () => {
    const { exporter, provider, audit, drops } = setup((a) => [a, throwing(() => true)]);
    const event = audit.record({ action: 'a.b.created' });
    await provider.shutdown();
    expect(drops).toEqual([]);
    expect(audit.stats()).toMatchObject({ recorded: 1, exported: 1, dropped: 0, failed: 0, pending: 0 });
    expect(exporter.delivered.map((r) => r.attributes[A.eventId])).toEqual([event?.id]);
  });
});

describe('a hand-written global provider whose Logger has no enabled()', () => {
  afterEach(() => logs.disable());

  it('registered after the audit logger was created: record() emits through it without throwing', () => {
    const seen: unknown[] = [];
    const logger = { emit: (record: unknown) => seen.push(record) } as unknown as Logger;
    const handWritten: LoggerProviderApi = { getLogger: () => logger };
    const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false }); // created at import time
    logs.setGlobalLoggerProvider(handWritten); // telemetry set up later
    const event = audit.record({ action: 'a.b.created' });
    expect(seen).toHaveLength(1);
    expect(event.action).toBe('a.b.created');
    // No tracking processor: only `recorded` is known; emitted, so not counted dropped.
    expect(audit.stats()).toMatchObject({ recorded: 1, dropped: 0, pending: 1, tracked: false });
  });

  it('whose emit() throws: record() does not throw; untracked, so only recorded (it may have been taken)', () => {
    const logger = {
      emit: () => {
        throw new Error('backend gone');
      },
    } as unknown as Logger;
    const drops: string[] = [];
    const audit = createAuditLogger({
      tenant: 'acme',
      flushOnExit: false,
      onDrop: (events, reason) => drops.push(`${events[0]?.action}:${reason}`),
    });
    logs.setGlobalLoggerProvider({ getLogger: () => logger });
    expect(() => audit.record({ action: 'a.b.created' })).not.toThrow();
    expect(drops).toEqual([]);
    expect(audit.stats()).toMatchObject({ recorded: 1, dropped: 0, pending: 1, tracked: false });
  });
});

describe('a hand-written global provider whose getLogger() throws', () => {
  afterEach(() => logs.disable());

  it('record() does not throw, the event is dropped (not_emitted), none pending', () => {
    const drops: string[] = [];
    const audit = createAuditLogger({
      tenant: 'acme',
      flushOnExit: false,
      onDrop: (events, reason) => drops.push(`${events[0]?.action}:${reason}`),
    });
    logs.setGlobalLoggerProvider({
      getLogger: () => {
        throw new Error('x');
      },
    });
    expect(() => audit.record({ action: 'a.b.created' })).not.toThrow();
    expect(() => audit.record({ action: 'a.b.updated' })).not.toThrow();
    expect(drops).toEqual(['a.b.created:not_emitted', 'a.b.updated:not_emitted']);
    expect(audit.stats()).toMatchObject({ recorded: 2, dropped: 2, pending: 0 });
    // Created after the registration: createAuditLogger() does not throw either.
    const later = createAuditLogger({ tenant: 'acme', flushOnExit: false });
    expect(() => later.record({ action: 'a.b.created' })).not.toThrow();
    expect(later.stats()).toMatchObject({ recorded: 1, dropped: 1, pending: 0 });
  });
});
