// The processor's export timeout against the OTLP exporter's own (createAuditLoggerProvider): the processor must
// not give up on an export whose request is still open, or the batch is sent twice and counted failed.

import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditOptionError } from '../src/index.js';
import { AuditLogRecordProcessor, AuditOTLPLogExporter, createAuditLoggerProvider } from '../src/node.js';
import { ControlledExporter, type HeldEndpoint, heldEndpoint, hookedLogger } from './support.js';

const TIMEOUT_VARIABLES = ['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'];
const realSetTimeout = globalThis.setTimeout;
const realDelay = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));
/** Waits in real time (I/O goes on) until `done()`, at most `most` ms. */
async function until(done: () => boolean, most = 2_000): Promise<void> {
  for (let waited = 0; !done() && waited < most; waited += 5) await realDelay(5);
}

const open: HeldEndpoint[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const name of TIMEOUT_VARIABLES) delete process.env[name];
  for (const e of open.splice(0)) await e.close();
});

describe('exportTimeoutMillis of createAuditLoggerProvider', () => {
  it('by default outlasts the exporter: an answer after 35 s within timeoutMillis 60 s is one request, exported', async () => {
    const endpoint = await heldEndpoint();
    open.push(endpoint);
    // Only the processor's timers are simulated; the exporter's request timeout is Node's own (not reached).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const provider = createAuditLoggerProvider({
      endpoint: endpoint.url,
      timeoutMillis: 60_000,
      processor: { scheduledDelayMillis: 0, retryInitialDelayMillis: 100 },
    });
    const { audit, errors } = hookedLogger(provider);
    audit.record({ action: 'a.b.created' });
    await vi.advanceTimersByTimeAsync(1);
    await until(() => endpoint.received > 0);
    // 35 s without an answer: past the processor's old 30 s, then its retry backoff.
    await vi.advanceTimersByTimeAsync(35_000);
    await until(() => endpoint.received > 1, 300); // a second request came within ~40 ms when it was sent
    expect(endpoint.received).toBe(1);
    endpoint.answerAll();
    await until(() => audit.stats().pending === 0);
    expect(audit.stats()).toMatchObject({ recorded: 1, exported: 1, failed: 0 });
    expect(errors).toEqual([]);
  });

  it('refuses an exportTimeoutMillis shorter than the exporter timeout (option or variable) + 1 s, naming it', () => {
    // The message names where the exporter's timeout came from: the option, a variable, or the default.
    const check = (options: Parameters<typeof createAuditLoggerProvider>[0], timeout: string) => {
      expect(() => createAuditLoggerProvider(options)).toThrow(AuditOptionError);
      expect(() => createAuditLoggerProvider(options)).toThrow(
        `createAuditLoggerProvider: processor.exportTimeoutMillis must be at least the exporter's ${timeout} + 1000 ms`,
      );
    };
    const endpoint = 'http://127.0.0.1:9';
    check(
      { endpoint, timeoutMillis: 60_000, processor: { exportTimeoutMillis: 30_000 } },
      'timeoutMillis (60000 ms)',
    );
    check({ endpoint, processor: { exportTimeoutMillis: 10_500 } }, 'timeout (10000 ms, the default)');
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '20000';
    check(
      { endpoint, processor: { exportTimeoutMillis: 20_000 } },
      'timeout (20000 ms, OTEL_EXPORTER_OTLP_TIMEOUT)',
    );
    process.env.OTEL_EXPORTER_OTLP_LOGS_TIMEOUT = '40000';
    check(
      { endpoint, processor: { exportTimeoutMillis: 30_000 } },
      'timeout (40000 ms, OTEL_EXPORTER_OTLP_LOGS_TIMEOUT)',
    );
    expect(() =>
      createAuditLoggerProvider({ endpoint, processor: { exportTimeoutMillis: 41_000 } }),
    ).not.toThrow();
    // An exporter of the application's own: its timeout is not known here.
    expect(() =>
      createAuditLoggerProvider({
        exporter: new ControlledExporter(),
        processor: { exportTimeoutMillis: 500 },
      }),
    ).not.toThrow();
    for (const timeoutMillis of [0, -1, Number.NaN, 2 ** 31]) {
      expect(() => createAuditLoggerProvider({ endpoint, timeoutMillis })).toThrow(
        expect.objectContaining({ name: 'AuditOptionError', option: 'timeoutMillis' }),
      );
      // The exporter alone too (its base class threw a plain Error for 0, negatives and NaN).
      expect(() => new AuditOTLPLogExporter({ url: `${endpoint}/v1/logs`, timeoutMillis })).toThrow(
        expect.objectContaining({ name: 'AuditOptionError', option: 'timeoutMillis' }),
      );
    }
    // The same range for the value the exporter would read from the environment (0.5 timed every export out;
    // past 2^31 - 1 Node's timer fires at once).
    for (const [name, value] of [
      ['OTEL_EXPORTER_OTLP_TIMEOUT', '0.5'],
      ['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', '3000000000'],
    ] as const) {
      for (const other of TIMEOUT_VARIABLES) delete process.env[other];
      process.env[name] = value;
      try {
        expect(() => createAuditLoggerProvider({ endpoint })).toThrow(
          expect.objectContaining({ name: 'AuditOptionError', option: name }),
        );
        // Also an exporter built by hand (given to the provider or to an AuditLogRecordProcessor).
        expect(() => new AuditOTLPLogExporter({ url: `${endpoint}/v1/logs` })).toThrow(
          expect.objectContaining({ name: 'AuditOptionError', option: name }),
        );
      } finally {
        delete process.env[name];
      }
    }
  });
});

describe('exportTimeoutMillis of an AuditLogRecordProcessor given an AuditOTLPLogExporter (own provider)', () => {
  it('by default outlasts the exporter: with OTEL_EXPORTER_OTLP_TIMEOUT=60000, an answer after 35 s is one request, exported', async () => {
    const endpoint = await heldEndpoint();
    open.push(endpoint);
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '60000';
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // The README's snippet for a service with its own LoggerProvider.
    const exporter = new AuditOTLPLogExporter({ url: `${endpoint.url}/v1/logs` });
    expect(exporter.timeoutMillis).toBe(60_000);
    const processor = new AuditLogRecordProcessor({
      exporter,
      scheduledDelayMillis: 0,
      retryInitialDelayMillis: 100,
    });
    const { audit, errors } = hookedLogger(new LoggerProvider({ processors: [processor] }));
    audit.record({ action: 'a.b.created' });
    await vi.advanceTimersByTimeAsync(1);
    await until(() => endpoint.received > 0);
    await vi.advanceTimersByTimeAsync(35_000); // past the processor's fixed 30 s default, then its backoff
    await until(() => endpoint.received > 1, 300);
    expect(endpoint.received).toBe(1);
    endpoint.answerAll();
    await until(() => audit.stats().pending === 0);
    expect(audit.stats()).toMatchObject({ recorded: 1, exported: 1, failed: 0 });
    expect(errors).toEqual([]);
  });

  it('refuses an exportTimeoutMillis shorter than that exporter timeout + 1 s, naming it', () => {
    const exporter = new AuditOTLPLogExporter({ url: 'http://127.0.0.1:9/v1/logs', timeoutMillis: 60_000 });
    expect(() => new AuditLogRecordProcessor({ exporter, exportTimeoutMillis: 30_000 })).toThrow(
      "AuditLogRecordProcessor: exportTimeoutMillis must be at least the exporter's timeoutMillis (60000 ms) + 1000 ms",
    );
    expect(() => new AuditLogRecordProcessor({ exporter, exportTimeoutMillis: 61_000 })).not.toThrow();
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '45000';
    const fromVariable = new AuditOTLPLogExporter({ url: 'http://127.0.0.1:9/v1/logs' });
    expect(
      () => new AuditLogRecordProcessor({ exporter: fromVariable, exportTimeoutMillis: 30_000 }),
    ).toThrow(
      "AuditLogRecordProcessor: exportTimeoutMillis must be at least the exporter's timeout (45000 ms, OTEL_EXPORTER_OTLP_TIMEOUT) + 1000 ms",
    );
    // The same exporter class from another copy of this package (a library's bundle): instanceof fails, the brand
    // (Symbol.for) does not.
    const otherCopy = {
      [Symbol.for('otel-audit.otlp-log-exporter')]: true,
      timeoutMillis: 60_000,
      timeoutDescribed: 'timeoutMillis (60000 ms)',
      export: exporter.export.bind(exporter),
      shutdown: exporter.shutdown.bind(exporter),
      forceFlush: exporter.forceFlush.bind(exporter),
    };
    expect(otherCopy instanceof AuditOTLPLogExporter).toBe(false);
    expect(() => new AuditLogRecordProcessor({ exporter: otherCopy, exportTimeoutMillis: 30_000 })).toThrow(
      "AuditLogRecordProcessor: exportTimeoutMillis must be at least the exporter's timeoutMillis (60000 ms) + 1000 ms",
    );
    // An exporter whose timeout the processor cannot know: any valid value.
    expect(
      () => new AuditLogRecordProcessor({ exporter: new ControlledExporter(), exportTimeoutMillis: 500 }),
    ).not.toThrow();
  });
});
