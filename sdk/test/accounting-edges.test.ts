// Accounting in pipelines the simple case does not cover: two tracking processors, a provider with attribute
// limits, a provider shut down before the first record, retry options, coalesced events' trace context and
// OTLP partial success.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, TraceFlags, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AUDIT_ATTRIBUTES as A,
  AuditOptionError,
  AuditRejectedError,
  createAuditLogger,
} from '../src/index.js';
import { AuditLogRecordProcessor, AuditOTLPLogExporter, createAuditLoggerProvider } from '../src/node.js';
import { ControlledExporter, hookedLogger, httpError, useAsyncContextManager } from './support.js';

useAsyncContextManager();

function exporter(result: { code: ExportResultCode; error?: Error }) {
  const e = new ControlledExporter();
  e.auto = result;
  return e;
}
const ok = () => exporter({ code: ExportResultCode.SUCCESS });
const refusing = () => exporter({ code: ExportResultCode.FAILED, error: httpError(400) });

describe('two tracking processors (two backends)', () => {
  it('two working: each record is counted once', async () => {
    const [a, b] = [ok(), ok()];
    const provider = new LoggerProvider({
      processors: [
        new AuditLogRecordProcessor({ exporter: a }),
        new AuditLogRecordProcessor({ exporter: b }),
      ],
    });
    const { audit } = hookedLogger(provider);
    for (let i = 0; i < 3; i++) audit.record({ action: 'a.b.created' });
    expect(await audit.flush()).toMatchObject({ recorded: 3, exported: 3, failed: 0, pending: 0 });
    expect([a.delivered.length, b.delivered.length]).toEqual([3, 3]);
  });

  it('one working + one refusing: the first processor accounts, the other one only sends', async () => {
    for (const order of ['ok-first', 'refusing-first'] as const) {
      const exporters = order === 'ok-first' ? [ok(), refusing()] : [refusing(), ok()];
      const provider = new LoggerProvider({
        processors: exporters.map((exporter) => new AuditLogRecordProcessor({ exporter })),
      });
      const { audit, errors } = hookedLogger(provider);
      audit.record({ action: 'a.b.created' });
      const stats = await audit.flush();
      expect(stats.pending).toBe(0);
      expect(stats.exported + stats.failed).toBe(1);
      if (order === 'ok-first') expect(stats).toMatchObject({ exported: 1, failed: 0 });
      else {
        expect(stats).toMatchObject({ exported: 0, failed: 1 });
        expect(errors).toHaveLength(1);
      }
    }
  });
});

describe('attribute limits of the LoggerProvider', () => {
  it('counts a record whose audit attributes the provider truncated as failed, with the reason', async () => {
    const out = ok();
    const provider = new LoggerProvider({
      logRecordLimits: { attributeValueLengthLimit: 64 },
      processors: [new AuditLogRecordProcessor({ exporter: out })],
    });
    const { audit, errors } = hookedLogger(provider);
    const short = audit.record({ action: 'a.b.created' });
    const long = audit.record({
      action: 'a.b.updated',
      targets: [
        { type: 'invoice', id: 'inv_1', name: 'Invoice #1' },
        { type: 'customer', id: 'cus_1' },
      ],
    });
    const stats = await audit.flush();
    expect(stats).toMatchObject({ recorded: 2, exported: 1, failed: 1, pending: 0 });
    expect(out.delivered.map((r) => r.attributes[A.eventId])).toEqual([short.id]);
    expect(errors[0]?.events.map((e) => e.id)).toEqual([long.id]);
    expect(errors[0]?.error.message).toMatch(/changed attribute audit\.targets .*attributeValueLengthLimit/);
  });
});

describe('processors that edit audit records (redaction, enrichment) are not limit damage', () => {
  const redactor: LogRecordProcessor = {
    onEmit(record) {
      if (record.attributes[A.contextIp] !== undefined) record.setAttribute(A.contextIp, '10.0.0.x');
      // Emptied, not cut: limits never leave '' (OTel ignores attributeValueLengthLimit <= 0).
      if (record.attributes[A.contextUserAgent] !== undefined) record.setAttribute(A.contextUserAgent, '');
      record.setAttribute('deployment.environment', 'prod');
      if (typeof record.body === 'string') record.setBody(record.body.replace('secret', '******'));
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };

  for (const order of ['redactor first', 'audit processor first'] as const) {
    it(`${order}: the edited record is sent and counted exported`, async () => {
      const out = ok();
      const tracking = new AuditLogRecordProcessor({ exporter: out });
      const provider = new LoggerProvider({
        processors: order === 'redactor first' ? [redactor, tracking] : [tracking, redactor],
      });
      const { audit, errors } = hookedLogger(provider);
      audit.record({
        action: 'auth.session.created',
        context: { ip: '10.0.0.7', userAgent: 'curl/8.5' },
        metadata: { password: 'secret' },
      });
      const stats = await audit.flush();
      expect(errors).toEqual([]);
      expect(stats).toMatchObject({ recorded: 1, exported: 1, failed: 0, pending: 0 });
      expect(out.delivered[0]?.attributes[A.contextIp]).toBe('10.0.0.x');
      expect(out.delivered[0]?.attributes[A.contextUserAgent]).toBe('');
      expect(out.delivered[0]?.body).toBe('{"password":"******"}');
    });
  }

  it('a JSON attribute an earlier processor left unparseable is failed, not sent', async () => {
    const out = ok();
    const breaker: LogRecordProcessor = {
      onEmit: (record) => void record.setAttribute(A.targets, '[REDACTED'),
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const provider = new LoggerProvider({
      processors: [breaker, new AuditLogRecordProcessor({ exporter: out })],
    });
    const { audit, errors } = hookedLogger(provider);
    audit.record({ action: 'a.b.created', targets: [{ type: 'invoice', id: 'inv_1' }] });
    expect(await audit.flush()).toMatchObject({ exported: 0, failed: 1, pending: 0 });
    expect(out.delivered).toEqual([]);
    expect(errors[0]?.error.message).toMatch(/attribute audit\.targets is no longer valid JSON/);
  });

  it('attributeCountLimit: a dropped audit attribute is failed, not sent', async () => {
    const out = ok();
    const provider = new LoggerProvider({
      logRecordLimits: { attributeCountLimit: 5 },
      processors: [new AuditLogRecordProcessor({ exporter: out })],
    });
    const { audit, errors } = hookedLogger(provider);
    audit.record({ action: 'a.b.created' });
    expect(await audit.flush()).toMatchObject({ exported: 0, failed: 1, pending: 0 });
    expect(out.delivered).toEqual([]);
    expect(errors[0]?.error.message).toMatch(/dropped attribute .*attributeCountLimit/);
  });
});

describe('a provider shut down before the first record', () => {
  it('counts the records as dropped (not_emitted) instead of pending forever', async () => {
    const provider = new LoggerProvider({ processors: [new AuditLogRecordProcessor({ exporter: ok() })] });
    const { audit, drops } = hookedLogger(provider);
    await provider.shutdown();
    audit.record({ action: 'a.b.created' });
    audit.record({ action: 'a.b.created' });
    expect(audit.stats()).toMatchObject({ recorded: 2, dropped: 2, pending: 0 });
    expect(drops.map((d) => d.reason)).toEqual(['not_emitted', 'not_emitted']);
  });

  it('a working pipeline without a tracking processor is not mistaken for a dead one', () => {
    const provider = new LoggerProvider({
      processors: [{ onEmit() {}, forceFlush: async () => {}, shutdown: async () => {} }],
    });
    const { audit } = hookedLogger(provider);
    audit.record({ action: 'a.b.created' });
    expect(audit.stats()).toMatchObject({ recorded: 1, dropped: 0, pending: 1, tracked: false });
  });
});

describe('processor options', () => {
  function optionError(options: Record<string, number>): unknown {
    try {
      new AuditLogRecordProcessor({ exporter: ok(), ...options });
    } catch (e) {
      return e;
    }
    return undefined;
  }

  it('refuses a misspelt option (JavaScript, or options built in a variable) instead of ignoring it', () => {
    const misspelt = (make: () => unknown, component: string, option: string) => {
      let thrown: unknown;
      try {
        make();
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `${component} ${option}`).toBeInstanceOf(AuditOptionError);
      expect((thrown as AuditOptionError).option).toBe(option);
      expect((thrown as Error).message).toMatch(
        new RegExp(`^${component}: ${option} must be one of the options .*, got an unknown option`),
      );
    };
    const loose = (options: object) => options as never; // as a JavaScript caller passes them
    misspelt(
      () => createAuditLogger(loose({ tenant: 'acme', onErorr: () => {} })),
      'createAuditLogger',
      'onErorr',
    );
    misspelt(
      () => createAuditLoggerProvider(loose({ endpiont: 'http://x:1' })),
      'createAuditLoggerProvider',
      'endpiont',
    );
    misspelt(
      () => createAuditLoggerProvider(loose({ endpoint: 'http://x:1', processor: { maxQueueSise: 10 } })),
      'AuditLogRecordProcessor',
      'maxQueueSise',
    );
    const exporter = new ControlledExporter();
    misspelt(
      () => new AuditLogRecordProcessor(loose({ exporter, batchSize: 1 })),
      'AuditLogRecordProcessor',
      'batchSize',
    );
    const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false });
    misspelt(() => audit.coalesce(loose({ idleMS: 10 })), 'coalesce', 'idleMS');
  });

  it('refuses, at creation, an action strict mode would refuse at every record()', () => {
    expect(() =>
      createAuditLogger({
        strictActions: true,
        actions: { 'billing.paid': z.unknown(), 'a.b.created': z.unknown() },
      }),
    ).toThrow(
      'createAuditLogger: actions must be named <service>.<resource>.<verb_past_tense> with strictActions: true ' +
        '(every record() of another would fail), got "billing.paid"',
    );
    // Without strict mode the same names are fine.
    expect(() => createAuditLogger({ actions: { 'billing.paid': z.unknown() } })).not.toThrow();
  });

  it('rejects a zero, negative, NaN or overflowing timer with a typed error naming the option', () => {
    for (const [option, value] of [
      ['retryInitialDelayMillis', 0],
      ['retryInitialDelayMillis', Number.NaN],
      ['retryMaxDelayMillis', -1],
      ['retryMaxDelayMillis', Number.NaN],
      // setTimeout makes these 1 ms: hot loops, not long waits.
      ['exportTimeoutMillis', 2 ** 31],
      ['retryMaxDelayMillis', 2 ** 31],
      ['scheduledDelayMillis', Number.POSITIVE_INFINITY],
    ] as const) {
      const error = optionError({ [option]: value });
      expect(error).toBeInstanceOf(AuditOptionError);
      expect(error).toMatchObject({ option });
      expect((error as Error).message).toMatch(
        new RegExp(`${option} must be a number of milliseconds from [01] to 2147483647, got ${value}`),
      );
    }
    expect(optionError({ exportTimeoutMillis: 2 ** 31 - 1, scheduledDelayMillis: 0 })).toBeUndefined();
  });

  it('rejects a queue or batch size that is not a whole number >= 1 (a fraction exported empty batches forever)', () => {
    for (const [option, value] of [
      ['maxExportBatchSize', 0.5],
      ['maxExportBatchSize', 0],
      ['maxQueueSize', 0.5],
      ['maxQueueSize', Number.NaN],
    ] as const) {
      const error = optionError({ [option]: value });
      expect(error).toBeInstanceOf(AuditOptionError);
      expect(error).toMatchObject({ option });
      expect((error as Error).message).toContain(`${option} must be a whole number >= 1`);
      expect((error as Error).message).toContain(`got ${value}`);
    }
    // Infinity: one batch per drain, bounded by the queue size (accepted before the checks existed).
    expect(optionError({ maxExportBatchSize: Number.POSITIVE_INFINITY })).toBeUndefined();
  });

  it('a batch size of 1 still delivers', async () => {
    const out = ok();
    const provider = new LoggerProvider({
      processors: [new AuditLogRecordProcessor({ exporter: out, maxExportBatchSize: 1 })],
    });
    const { audit } = hookedLogger(provider);
    audit.record({ action: 'a.b.created' });
    audit.record({ action: 'a.b.created' });
    expect(await audit.flush()).toMatchObject({ exported: 2, pending: 0 });
    expect(out.exportCalls).toBe(2);
    await provider.shutdown();
  });
});

describe('coalesced events and trace context', () => {
  it('carry the trace of their first occurrence, not of whoever flushed', async () => {
    const out = ok();
    const provider = new LoggerProvider({ processors: [new AuditLogRecordProcessor({ exporter: out })] });
    const { audit } = hookedLogger(provider);
    const span = (c: string) =>
      trace.setSpanContext(context.active(), {
        traceId: c.repeat(32),
        spanId: c.repeat(16),
        traceFlags: TraceFlags.SAMPLED,
      });
    const saves = audit.coalesce({ idleMs: 60_000 });
    const save = () => saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: '1' }] });
    context.with(span('b'), save);
    context.with(span('c'), save);
    await context.with(span('d'), () => audit.flush());
    expect(out.delivered).toHaveLength(1);
    expect(out.delivered[0]?.attributes[A.count]).toBe(2);
    expect(out.delivered[0]?.spanContext?.traceId).toBe('b'.repeat(32));
  });
});

describe('OTLP partial success', () => {
  it('AuditOTLPLogExporter reports rejected records; each logger counts at most that many of its own as failed', async () => {
    // An endpoint that takes every request and rejects two records of each (OTLP/JSON: int64 as a string).
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"record 0 too big"}}'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
    const provider = new LoggerProvider({
      processors: [new AuditLogRecordProcessor({ exporter: new AuditOTLPLogExporter({ url }) })],
    });
    const one = hookedLogger(provider);
    const two = hookedLogger(provider);
    const a = one.audit.record({ action: 'a.b.created' });
    two.audit.record({ action: 'a.b.created' });
    two.audit.record({ action: 'a.b.created' });
    await one.audit.flush();
    await provider.shutdown();
    server.close();
    // The endpoint does not say whose record it was: neither logger counts a possibly lost one as exported.
    expect(one.audit.stats()).toMatchObject({ recorded: 1, exported: 0, failed: 1, pending: 0 });
    expect(two.audit.stats()).toMatchObject({ recorded: 2, exported: 0, failed: 2, pending: 0 });
    expect(one.errors[0]?.error).toBeInstanceOf(AuditRejectedError);
    expect(one.errors[0]?.error).toMatchObject({ rejected: 1, rejectedInBatch: 2 });
    expect(one.errors[0]?.error.message).toContain('rejected 2 of 3 log record(s)');
    expect(one.errors[0]?.error.message).toContain('record 0 too big');
    expect(one.errors[0]?.events.map((e) => e.id)).toEqual([a.id]);
  });
});
