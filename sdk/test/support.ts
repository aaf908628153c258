import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
// Real OTel JS SDK pieces for the tests: a LoggerProvider whose records land in memory.
import { ExportResultCode } from '@opentelemetry/core';
import {
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll } from 'vitest';
import { AUDIT_ATTRIBUTES as A, createAuditLogger, type UndeliveredEvent } from '../src/index.js';

/** Keeps every emitted record, synchronously (the SDK's SimpleLogRecordProcessor exports on a later tick). */
export class MemoryProcessor implements LogRecordProcessor {
  readonly records: ReadableLogRecord[] = [];
  onEmit(record: ReadableLogRecord): void {
    this.records.push(record);
  }
  getFinishedLogRecords(): ReadableLogRecord[] {
    return this.records;
  }
  forceFlush = async (): Promise<void> => {};
  shutdown = async (): Promise<void> => {};
}

export function memoryProvider(): { provider: LoggerProvider; exporter: MemoryProcessor } {
  const exporter = new MemoryProcessor();
  return { provider: new LoggerProvider({ processors: [exporter] }), exporter };
}

/**
 * An exporter under the test's control: each export waits until the test settles it (`succeed`, `fail`),
 * like an endpoint that is slow, down or refusing.
 */
export class ControlledExporter implements LogRecordExporter {
  readonly delivered: ReadableLogRecord[] = [];
  readonly waiting: {
    records: ReadableLogRecord[];
    done: (code: ExportResultCode, error?: Error) => void;
  }[] = [];
  exportCalls = 0;
  /** When set, exports settle at once with this outcome instead of waiting. */
  auto: { code: ExportResultCode; error?: Error } | undefined;

  export(
    records: ReadableLogRecord[],
    done: (result: { code: ExportResultCode; error?: Error }) => void,
  ): void {
    this.exportCalls += 1;
    const settle = (code: ExportResultCode, error?: Error) => {
      if (code === ExportResultCode.SUCCESS) this.delivered.push(...records);
      done({ code, ...(error && { error }) });
    };
    if (this.auto) settle(this.auto.code, this.auto.error);
    else this.waiting.push({ records, done: settle });
  }

  /** Settles every waiting export. */
  settleAll(code: ExportResultCode, error?: Error): void {
    for (const w of this.waiting.splice(0)) w.done(code, error);
  }

  shutdown = async (): Promise<void> => {};
  forceFlush = async (): Promise<void> => {};
}

/** An error as the OTLP HTTP exporter reports an HTTP status. */
export function httpError(status: number): Error & { code: number } {
  return Object.assign(new Error(`Unexpected HTTP status ${status}`), { code: status });
}

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface Capture {
  url: string;
  port: number;
  requests: { path: string; headers: IncomingMessage['headers']; body: OtlpJson }[];
  close: () => Promise<void>;
}

interface OtlpJson {
  resourceLogs: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeLogs: {
      scope: { name: string };
      logRecords: { eventName: string; attributes: { key: string; value: { stringValue?: string } }[] }[];
    }[];
  }[];
}

/** An OTLP/HTTP endpoint that records what it is sent (on a fixed port, so it can go down and come back). */
export async function capture(port = 0): Promise<Capture> {
  const requests: Capture['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      requests.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(body.toString()) as OtlpJson,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const eventIds = (c: Capture) =>
  c.requests.flatMap((r) =>
    r.body.resourceLogs.flatMap((rl) =>
      rl.scopeLogs.flatMap((sl) =>
        sl.logRecords.map((lr) => lr.attributes.find((a) => a.key === A.eventId)?.value.stringValue),
      ),
    ),
  );

/** Registers an async context manager for the file's tests (trace context must follow record() calls). */
export function useAsyncContextManager(): void {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    context.disable();
  });
}

/** An audit logger on `provider` (tenant acme, no exit hook) that keeps what onDrop and onError report. */
export function hookedLogger(provider: LoggerProvider) {
  const drops: { events: readonly UndeliveredEvent[]; reason: string }[] = [];
  const errors: { error: Error; events: readonly UndeliveredEvent[] }[] = [];
  const audit = createAuditLogger({
    loggerProvider: provider,
    tenant: 'acme',
    flushOnExit: false,
    onDrop: (events, reason) => drops.push({ events, reason }),
    onError: (error, events) => errors.push({ error, events }),
  });
  return { audit, drops, errors };
}

export interface HeldEndpoint {
  url: string;
  /** Requests received so far. */
  received: number;
  /** Requests received and not answered yet. */
  readonly open: number;
  /** Answers every open request 200 (an OTLP success). */
  answerAll: () => void;
  close: () => Promise<void>;
}

/** An OTLP/HTTP endpoint that takes each request and answers it only when told: an endpoint slower than any timeout. */
export async function heldEndpoint(): Promise<HeldEndpoint> {
  const waiting: ServerResponse[] = [];
  const endpoint = { received: 0 } as HeldEndpoint;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      endpoint.received += 1;
      waiting.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(endpoint, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get open() {
      return waiting.filter((res) => !res.writableEnded && !res.destroyed).length;
    },
    answerAll: () => {
      for (const res of waiting.splice(0))
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
