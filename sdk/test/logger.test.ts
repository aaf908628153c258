import { context, type DiagLogger, DiagLogLevel, diag, logs, TraceFlags, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  type LogRecordExporter,
} from '@opentelemetry/sdk-logs';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import {
  AUDIT_ATTRIBUTES as A,
  AUDIT_SCOPE_NAME,
  type AuditLogger,
  AuditValidationError,
  CONVENTIONS_VERSION,
  createAuditLogger,
  defineAuditActions,
} from '../src/index.js';
import { memoryProvider, useAsyncContextManager } from './support.js';

useAsyncContextManager();

/** A provider whose batch processor would hold records for a minute: only a flush sends them now. */
function holdingProvider(exporter: LogRecordExporter = new InMemoryLogRecordExporter()): LoggerProvider {
  return new LoggerProvider({
    processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60_000 })],
  });
}

/** Records one event with `provider` as the global provider, then makes `next` the global one. */
function recordThenReplace(
  audit: AuditLogger<Record<never, never>>,
  provider: LoggerProvider,
  next: LoggerProvider = memoryProvider().provider,
): void {
  logs.setGlobalLoggerProvider(provider);
  audit.record({ action: 'settings.sso.enabled' });
  logs.disable();
  logs.setGlobalLoggerProvider(next);
}

describe('record() → OTel log record', () => {
  it('maps every field to the conventions', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, flushOnExit: false });
    const occurredAt = new Date('2026-03-04T05:06:07.089Z');
    const event = audit.record({
      id: '0192F2D4-5B6C-7D8E-9F00-112233445566',
      action: 'billing.invoice.paid',
      tenant: 'acme',
      actor: { id: 'u-1', type: 'user', name: 'Ada', fields: { plan: 'pro', since: new Date(0) } },
      targets: [
        { type: 'invoice', id: 'inv-1', name: 'Invoice 1', fields: { total: 10n } },
        { type: 'account', id: 'acct-9' },
      ],
      crud: 'update',
      outcome: 'failure',
      outcomeReason: 'card declined',
      occurredAt,
      version: 3,
      context: { ip: '2001:db8::1', userAgent: 'curl/8', requestId: 'req-7' },
      metadata: { amount: 1299, nested: { list: [1, 'two', null] } },
      changes: { before: { status: 'open' }, after: { status: 'paid' } },
    });
    const [record] = exporter.getFinishedLogRecords();
    expect(exporter.getFinishedLogRecords()).toHaveLength(1);
    expect(record?.instrumentationScope).toMatchObject({
      name: AUDIT_SCOPE_NAME,
      version: CONVENTIONS_VERSION,
    });
    expect(record?.eventName).toBe('billing.invoice.paid');
    expect(record?.hrTime).toEqual([Math.floor(occurredAt.getTime() / 1000), 89_000_000]);
    expect(record?.severityNumber).toBe(13);
    expect(record?.severityText).toBe('WARN');
    expect(JSON.parse(record?.body as string)).toEqual({ amount: 1299, nested: { list: [1, 'two', null] } });
    expect(record?.attributes).toEqual({
      [A.eventId]: '0192f2d4-5b6c-7d8e-9f00-112233445566',
      [A.action]: 'billing.invoice.paid',
      [A.tenant]: 'acme',
      [A.crud]: 'update',
      [A.outcome]: 'failure',
      [A.outcomeReason]: 'card declined',
      [A.actorId]: 'u-1',
      [A.actorType]: 'user',
      [A.actorName]: 'Ada',
      [A.actorFields]: JSON.stringify({ plan: 'pro', since: '1970-01-01T00:00:00.000Z' }),
      [A.targets]: JSON.stringify([
        { type: 'invoice', id: 'inv-1', name: 'Invoice 1', fields: { total: '10' } },
        { type: 'account', id: 'acct-9' },
      ]),
      [A.version]: 3,
      [A.contextIp]: '2001:db8::1',
      [A.contextUserAgent]: 'curl/8',
      [A.contextRequestId]: 'req-7',
      [A.changes]: JSON.stringify({ before: { status: 'open' }, after: { status: 'paid' } }),
    });
    // The returned event is the normalised one the record describes.
    expect(event.id).toBe('0192f2d4-5b6c-7d8e-9f00-112233445566');
    expect(event.targets[0]?.fields).toEqual({ total: '10' });
  });

  it('applies defaults: system actor, no targets, inferred crud, success, version 1, logger tenant, now', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'globex', flushOnExit: false });
    const before = Date.now();
    const event = audit.record({ action: 'members.user.invited' });
    const [record] = exporter.getFinishedLogRecords();
    expect(record?.attributes).toEqual({
      [A.eventId]: event.id,
      [A.action]: 'members.user.invited',
      [A.tenant]: 'globex',
      [A.crud]: 'create',
      [A.outcome]: 'success',
      [A.actorId]: 'system',
      [A.actorType]: 'system',
      [A.targets]: '[]',
      [A.version]: 1,
    });
    expect(record?.body).toBe('null');
    expect(record?.severityNumber).toBe(9);
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.occurredAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(event.occurredAt.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('carries the trace and span ids of the active span', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    };
    context.with(trace.setSpanContext(context.active(), spanContext), () => {
      audit.record({ action: 'auth.session.created' });
    });
    audit.record({ action: 'auth.session.deleted' });
    const [inside, outside] = exporter.getFinishedLogRecords();
    expect(inside?.spanContext).toMatchObject({ traceId: spanContext.traceId, spanId: spanContext.spanId });
    expect(outside?.spanContext).toBeUndefined();
  });

  it('emits through the global provider when none is given', async () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false });
    logs.setGlobalLoggerProvider(provider);
    try {
      audit.record({ action: 'settings.sso.enabled' });
      expect(exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual(['settings.sso.enabled']);
    } finally {
      logs.disable();
    }
  });

  it('flushes what a provider that was global before still holds (the global provider was switched)', async () => {
    const queued = () => {
      const exporter = new InMemoryLogRecordExporter();
      return { provider: holdingProvider(exporter), exporter };
    };
    const first = queued();
    const second = queued();
    const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false });
    try {
      recordThenReplace(audit, first.provider, second.provider);
      audit.record({ action: 'settings.sso.disabled' });
      expect(first.exporter.getFinishedLogRecords()).toHaveLength(0);
      await audit.flush();
      expect(first.exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual([
        'settings.sso.enabled',
      ]);
      expect(second.exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual([
        'settings.sso.disabled',
      ]);
    } finally {
      logs.disable();
      await Promise.all([first.provider.shutdown(), second.provider.shutdown()]);
    }
  });

  it('flushes a replaced provider also when no record came after the switch', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const first = holdingProvider(exporter);
    const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false });
    try {
      recordThenReplace(audit, first);
      let flushes = 0;
      const forceFlush = first.forceFlush.bind(first);
      first.forceFlush = () => {
        flushes += 1;
        return forceFlush();
      };
      await audit.flush();
      expect(exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual(['settings.sso.enabled']);
      // Once: later flushes leave it alone (it was warned about at every flush once shut down).
      await audit.flush();
      await audit.flush();
      expect(flushes).toBe(1);
    } finally {
      logs.disable();
      await first.shutdown();
    }
  });

  it('a flush that starts while another flushes a replaced provider waits for it too (shutdown() during a flush)', async () => {
    const delivered: string[] = [];
    // An exporter that answers after 200 ms: the first flush is still waiting on it when shutdown() starts.
    const slow: LogRecordExporter = {
      export: (records, done) => {
        setTimeout(() => {
          delivered.push(...records.map((r) => r.eventName ?? ''));
          done({ code: ExportResultCode.SUCCESS });
        }, 200);
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const first = holdingProvider(slow);
    const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false });
    try {
      recordThenReplace(audit, first);
      const flushing = audit.flush();
      await audit.shutdown();
      expect(delivered).toEqual(['settings.sso.enabled']);
      await flushing;
    } finally {
      logs.disable();
      await first.shutdown();
    }
  });

  it('reports, not throws, the failed flush of a replaced provider: shutdown() still closes the logger', async () => {
    const errors: unknown[][] = [];
    const quiet = () => {};
    const logger: DiagLogger = {
      error: (...args: unknown[]) => errors.push(args),
      warn: quiet,
      info: quiet,
      debug: quiet,
      verbose: quiet,
    };
    diag.setLogger(logger, DiagLogLevel.ERROR);
    const broken = memoryProvider().provider;
    broken.forceFlush = () => Promise.reject(new Error('cannot flush'));
    const audit = createAuditLogger({ tenant: 'acme', flushOnExit: false });
    try {
      recordThenReplace(audit, broken);
      await audit.shutdown();
      audit.record({ action: 'settings.sso.disabled' });
      expect(audit.stats().dropped).toBe(1); // closed: the record after shutdown() is dropped
      expect(errors.map(([message]) => message)).toEqual([
        'otel-audit: a LoggerProvider replaced as the global one failed to flush',
      ]);
    } finally {
      logs.disable();
      diag.disable();
    }
  });
});

describe('validation', () => {
  it('throws AuditValidationError listing every issue with its path, and emits nothing', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, flushOnExit: false });
    let error: unknown;
    try {
      audit.record({
        action: 'Billing Paid',
        actor: { id: ' ', type: 'user' },
        targets: [{ type: 'invoice', id: '' }],
        context: { ip: '999.1.1.1' },
        version: 0,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuditValidationError);
    const issues = (error as AuditValidationError).issues.map((i) => i.path.join('.'));
    expect(issues).toEqual(
      expect.arrayContaining(['action', 'actor.id', 'targets.0.id', 'context.ip', 'version']),
    );
    expect((error as Error).message).toContain('context.ip: must be an IPv4 or IPv6 address');
    expect(exporter.getFinishedLogRecords()).toHaveLength(0);
  });

  it('normalises actor and target fields like the metadata (class instances, Maps), and refuses non-objects', () => {
    const { provider } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    class Facts {
      role = 'admin';
    }
    const event = audit.record({
      action: 'a.b.updated',
      actor: { id: 'u', type: 'user', fields: new Facts() },
      targets: [{ type: 'doc', id: 'd', fields: new Map([['pages', 3]]) }],
    });
    expect(event.actor.fields).toEqual({ role: 'admin' });
    expect(event.targets[0]?.fields).toEqual({ pages: 3 });
    const issues = (fields: object) => {
      try {
        audit.record({ action: 'a.b.updated', targets: [{ type: 'doc', id: 'd', fields }] });
      } catch (error) {
        return (error as AuditValidationError).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      }
      return [];
    };
    expect(issues(new Date(0))).toEqual([
      'targets.0.fields: must be a JSON object (after toJSON and normalisation)',
    ]);
    // One issue per path: an invalid Date is not also "no object".
    expect(issues(new Date(Number.NaN))).toEqual(['targets.0.fields: invalid Date']);
    expect(issues(['a'])).toEqual(['targets.0.fields: must be an object']);
    expect(issues(() => 1)).toEqual(['targets.0.fields: must be an object']);
  });

  it('rejects a misspelt key instead of dropping it', () => {
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: 'a',
      flushOnExit: false,
    });
    expect(() => audit.record({ action: 'a.b.created', actorr: { id: 'x' } } as never)).toThrow(/actorr/);
  });

  it('requires a tenant when the logger has none', () => {
    const audit = createAuditLogger({ loggerProvider: memoryProvider().provider, flushOnExit: false });
    expect(() => audit.record({ action: 'a.b.created' })).toThrow(/tenant: required/);
  });

  it('enforces <service>.<resource>.<verb> in strict mode only', () => {
    const { provider } = memoryProvider();
    const loose = createAuditLogger({ loggerProvider: provider, tenant: 't', flushOnExit: false });
    const strict = createAuditLogger({
      loggerProvider: provider,
      tenant: 't',
      strictActions: true,
      flushOnExit: false,
    });
    expect(loose.record({ action: 'login' }).action).toBe('login');
    expect(() => strict.record({ action: 'login' })).toThrow(/strict mode/);
    expect(strict.record({ action: 'auth.user.logged_in' }).crud).toBe('unknown');
  });

  it('routes invalid events to onInvalid instead of throwing, and counts them', () => {
    const { provider, exporter } = memoryProvider();
    const onInvalid = vi.fn();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 't', onInvalid, flushOnExit: false });
    expect(audit.record({ action: 'NOPE' })).toBeUndefined();
    expect(onInvalid).toHaveBeenCalledOnce();
    expect(onInvalid.mock.calls[0]?.[0]).toBeInstanceOf(AuditValidationError);
    expect(onInvalid.mock.calls[0]?.[1]).toEqual({ action: 'NOPE' });
    expect(audit.stats()).toMatchObject({ recorded: 0, invalid: 1 });
    expect(exporter.getFinishedLogRecords()).toHaveLength(0);
  });

  it('names the event too large with its size and the limit', () => {
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: 't',
      maxEventBytes: 1000,
      flushOnExit: false,
    });
    expect(() =>
      audit.record({ action: 'files.blob.uploaded', metadata: { blob: 'é'.repeat(600) } }),
    ).toThrow(
      /event is 1\d\d\d bytes as a log record \(body \+ attributes\), over the maximum of 1000 bytes/,
    );
    expect(
      audit.record({ action: 'files.blob.uploaded', metadata: { blob: 'x'.repeat(500) } }).id,
    ).toBeTypeOf('string');
  });
});

describe('typed actions', () => {
  const actions = defineAuditActions({
    'monitor.check.failed': z.object({ url: z.url(), latencyMs: z.number().int().nonnegative() }),
    'billing.invoice.paid': z.object({ amount: z.number(), paidAt: z.date() }),
    'auth.session.created': z.undefined(),
  });

  it('validates metadata with the action schema and stores its output', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 't', actions, flushOnExit: false });
    const paidAt = new Date('2026-01-01T00:00:00Z');
    audit.record({ action: 'billing.invoice.paid', metadata: { amount: 5, paidAt } });
    expect(JSON.parse(exporter.getFinishedLogRecords()[0]?.body as string)).toEqual({
      amount: 5,
      paidAt: '2026-01-01T00:00:00.000Z',
    });
    audit.record({ action: 'auth.session.created' });
    expect(() =>
      audit.record({ action: 'monitor.check.failed', metadata: { url: 'not a url', latencyMs: -1 } }),
    ).toThrow(AuditValidationError);
    try {
      audit.record({ action: 'monitor.check.failed', metadata: { url: 'not a url', latencyMs: -1 } });
    } catch (error) {
      expect((error as AuditValidationError).issues.map((i) => i.path.join('.'))).toEqual([
        'metadata.url',
        'metadata.latencyMs',
      ]);
    }
  });

  it("lists the metadata's issues with the shape's, not only once the rest is valid", () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({
      loggerProvider: provider,
      tenant: 't',
      actions: defineAuditActions({
        'billing.invoice.paid': z.object({ amount: z.number(), currency: z.string().length(3) }),
      }),
      flushOnExit: false,
    });
    let error: unknown;
    try {
      audit.record({
        action: 'billing.invoice.paid',
        metadata: { amount: 'x', currency: 'EU' },
        targets: [{ type: '', id: 'a' }],
      } as never);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(AuditValidationError);
    expect((error as AuditValidationError).issues.map((i) => i.path.join('.'))).toEqual([
      'targets.0.type',
      'metadata.amount',
      'metadata.currency',
    ]);
    expect((error as AuditValidationError).action).toBe('billing.invoice.paid');
    expect(exporter.getFinishedLogRecords()).toHaveLength(0);
  });

  it('rejects an action the logger does not define', () => {
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: 't',
      actions,
      flushOnExit: false,
    });
    expect(() => audit.record({ action: 'billing.invoice.voided' } as never)).toThrow(
      /is not one of the logger's actions/,
    );
    // The rest of the event is checked too: every problem in one error.
    const error = (() => {
      try {
        audit.record({ action: 'billing.invoice.voided', actor: { id: '' }, targets: 5 } as never);
      } catch (thrown) {
        return thrown as AuditValidationError;
      }
    })();
    expect(error).toBeInstanceOf(AuditValidationError);
    expect(error?.issues.map((i) => i.path.join('.'))).toEqual([
      'action',
      'actor.id',
      'actor.type',
      'targets',
    ]);
    expect(error?.action).toBe('billing.invoice.voided');
  });

  it('takes zod/mini schemas: typed per action and validated like classic ones', () => {
    const seen: unknown[] = [];
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      actions: defineAuditActions({ 'x.y.created': zm.object({ n: zm.number() }) }),
      tenant: 'acme',
      onInvalid: (error) => seen.push(error.issues),
    });
    expect(audit.record({ action: 'x.y.created', metadata: { n: 1 } })?.metadata).toEqual({ n: 1 });
    // @ts-expect-error n is a number
    expect(audit.record({ action: 'x.y.created', metadata: { n: 'one' } })).toBeUndefined();
    expect(seen).toEqual([[expect.objectContaining({ path: ['metadata', 'n'] })]]);
  });

  it('rejects action names that break the convention, and values that are no schema, at definition', () => {
    expect(() => defineAuditActions({ 'Billing.Paid': z.object({}) })).toThrow(AuditValidationError);
    // A JavaScript caller: a value that is no zod schema is named at definition, not at the first record().
    const error = (() => {
      try {
        defineAuditActions({ 'x.y.created': null, 'x.y.deleted': {}, 'X.y': z.object({}) } as never);
      } catch (e) {
        return e as AuditValidationError;
      }
    })();
    expect(error).toBeInstanceOf(AuditValidationError);
    expect(error?.message).toBe(
      'invalid audit actions: 3 issue(s)\n' +
        '  - x.y.created: must be a zod 4 schema of the metadata (z.object({...}), or z.unknown() for any), got null\n' +
        '  - x.y.deleted: must be a zod 4 schema of the metadata (z.object({...}), or z.unknown() for any), got object\n' +
        '  - X.y: action names are lowercase dot-separated segments, e.g. billing.invoice.paid',
    );
    expect(() => defineAuditActions(null as never)).toThrow(/^invalid audit actions: 1 issue/);
    // A zod 3 schema (safeParse, no _zod) is named at definition too, not failed at every record().
    const zod3Like = { safeParse: () => ({ success: true, data: {} }), _def: {} };
    expect(() => defineAuditActions({ 'x.y.created': zod3Like } as never)).toThrow(/must be a zod 4 schema/);
    // The same check when the actions reach createAuditLogger without defineAuditActions.
    expect(() => createAuditLogger({ actions: { 'x.y.created': null } as never })).toThrow(
      /^invalid audit actions: 1 issue\(s\)\n {2}- x\.y\.created: must be a zod 4 schema/,
    );
  });
});

describe('diagnostics', () => {
  it('warns once through diag when no tracking processor sees the records', () => {
    const warn = vi.fn();
    const logger: DiagLogger = { error: vi.fn(), warn, info: vi.fn(), debug: vi.fn(), verbose: vi.fn() };
    diag.setLogger(logger, DiagLogLevel.WARN);
    try {
      const audit = createAuditLogger({
        loggerProvider: memoryProvider().provider,
        tenant: 't',
        flushOnExit: false,
      });
      audit.record({ action: 'a.b.created' });
      audit.record({ action: 'a.b.created' });
      const untracked = warn.mock.calls.filter(([m]) => String(m).includes('no delivery-tracking processor'));
      expect(untracked).toHaveLength(1);
      expect(audit.stats()).toEqual({
        recorded: 2,
        exported: 0,
        dropped: 0,
        failed: 0,
        pending: 2,
        invalid: 0,
        coalescing: 0,
        tracked: false,
      });
    } finally {
      diag.disable();
    }
  });
});
