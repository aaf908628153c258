// Shared pieces of the receiver tests: OTLP request builders (JSON form ↔ protobuf), a serve in this process
// on a temp data directory, and HTTP helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  encodeProtobufRequest,
  jsonLogger,
  type RunningServe,
  type ServeOptions,
  startServe,
} from '../src/index.js';

export type JsonObject = Record<string, unknown>;

/** OTLP/JSON form → protobufjs object form: hex ids and base64 bytes become Buffers. */
export function toProtoObject(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => toProtoObject(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toProtoObject(v, k)]));
  }
  if (typeof value === 'string' && (key === 'traceId' || key === 'spanId')) return Buffer.from(value, 'hex');
  if (typeof value === 'string' && key === 'bytesValue') return Buffer.from(value, 'base64');
  return value;
}

export function protobufBody(json: JsonObject): Buffer {
  return Buffer.from(encodeProtobufRequest(toProtoObject(json) as JsonObject));
}

/** One request with one resource and one scope holding `records`. */
export function logsRequest(
  records: JsonObject[],
  resourceAttributes: JsonObject[] = [{ key: 'service.name', value: { stringValue: 'svc' } }],
  scope: JsonObject = { name: 'otel-audit', version: '1' },
): JsonObject {
  return {
    resourceLogs: [
      { resource: { attributes: resourceAttributes }, scopeLogs: [{ scope, logRecords: records }] },
    ],
  };
}

export const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

export interface Posted {
  status: number;
  headers: Headers;
  /** Parsed JSON body for JSON responses, raw bytes otherwise. */
  json: JsonObject | undefined;
  bytes: Buffer;
}

export async function post(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<Posted> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  const isJson = res.headers.get('content-type')?.startsWith('application/json') ?? false;
  return {
    status: res.status,
    headers: res.headers,
    json: isJson ? (JSON.parse(bytes.toString()) as JsonObject) : undefined,
    bytes,
  };
}

export interface TestServe {
  serve: RunningServe;
  dir: string;
  logs: string[];
  /** POSTs an OTLP request (JSON object) as JSON or protobuf, optionally gzipped, with the token. */
  send(request: JsonObject, encoding?: 'json' | 'protobuf', gzip?: boolean): Promise<Posted>;
  auth: Record<string, string>;
  close(): Promise<void>;
}

export async function startTestServe(options: Partial<ServeOptions> = {}): Promise<TestServe> {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-test-'));
  const logs: string[] = [];
  const serve = await startServe({
    store: { path: join(dir, 'data') },
    port: 0,
    // Raw rows kept (60 years: neither 1970 nor 2024 rows expire, and 2024 + 60 y fits DateTime) so tests can read what the receiver wrote.
    migrate: { logsEngine: 'MergeTree', rawLogsRetentionDays: 60 * 365 },
    log: jsonLogger((line) => logs.push(line), 'debug'),
    // Most tests send plain log records; the audit-only default has its own test.
    records: 'all',
    ...options,
  });
  const auth = { authorization: `Bearer ${serve.token}` };
  return {
    serve,
    dir,
    logs,
    auth,
    async send(request, encoding = 'protobuf', gzip = false) {
      let body: Buffer = encoding === 'json' ? Buffer.from(JSON.stringify(request)) : protobufBody(request);
      if (gzip) body = gzipSync(body);
      return post(`${serve.url}/v1/logs`, body, {
        ...auth,
        'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
        ...(gzip && { 'content-encoding': 'gzip' }),
      });
    },
    async close() {
      await serve.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET on the query API with the token; returns status and parsed JSON. */
export async function query(
  serve: RunningServe,
  path: string,
  token = serve.token,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${serve.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * A raw HTTP/1.1 connection to serve, e.g. to hold a request open mid-body. `waitFor` resolves with everything
 * received so far once it matches `pattern` (or after 10 s).
 */
export async function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  return {
    socket,
    async waitFor(pattern: RegExp): Promise<string> {
      const deadline = Date.now() + 10_000;
      while (!pattern.test(received) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5));
      return received;
    },
  };
}

/** Headers of a protobuf POST /v1/logs announcing `length` body bytes (the caller writes the body when it wants). */
export function logsRequestHead(token: string, length: number): string {
  return (
    `POST /v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/x-protobuf\r\nContent-Length: ${length}\r\n\r\n`
  );
}
