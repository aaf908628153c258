// Refused logs requests are seen by the operator: counted per status on /health and stats(), logged as a warning
// at most once per reason and interval with how many were refused since (a service started without the token
// loses every event: OTel exporters drop a 401 and go on). So are records rejected from accepted requests (OTLP
// partial success, never retried) and query requests without the token.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobufResponse } from '../src/index.js';
import {
  type JsonObject,
  logsRequest,
  post,
  protobufBody,
  startTestServe,
  type TestServe,
} from './receiver-support.js';

const proto = { 'content-type': 'application/x-protobuf' };
// Long enough that a test's few requests fit in one interval on a loaded machine (400 ms did not: 4 protobuf
// requests, each committed to chDB, took longer under a CI run with other work, and the lines split [2, 4, 2]).
const INTERVAL_MS = 1_500;

describe('refused logs requests', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({
      limits: { refusalLogIntervalMs: INTERVAL_MS, maxBodyBytes: 64 * 1024, maxRecordSize: 1_000 },
    });
  }, 60_000);
  afterAll(async () => t?.close());

  const lines = (msg: string) => t.logs.map((l) => JSON.parse(l) as JsonObject).filter((l) => l.msg === msg);
  const refusedLines = (reason: string) => lines('logs requests refused').filter((l) => l.reason === reason);
  /** Waits until `get()` has `n` entries (or the interval and 5 s): lines held back are told when their interval is over. */
  async function until<T>(get: () => T[], n: number): Promise<T[]> {
    const deadline = Date.now() + INTERVAL_MS + 5_000;
    while (get().length < n && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return get();
  }
  const health = async () => (await (await fetch(`${t.serve.url}/health`)).json()) as JsonObject;
  const url = () => `${t.serve.url}/v1/logs`;
  const body = () => protobufBody(logsRequest([{ body: { stringValue: 'x' } }]));

  it('counts each refusal by status on /health and stats(), and logs each reason', async () => {
    const statuses = [
      (await post(url(), body(), proto)).status,
      (await post(url(), body(), { ...proto, authorization: 'Bearer wrong-token-wrong-token' })).status,
      (await post(url(), body(), { ...t.auth, 'content-type': 'text/plain' })).status,
      (await post(url(), Buffer.alloc(65 * 1024), { ...t.auth, ...proto })).status,
      (
        await post(url(), gzipSync(Buffer.alloc(1024 * 1024)), {
          ...t.auth,
          ...proto,
          'content-encoding': 'gzip',
        })
      ).status,
      (await post(url(), Buffer.from([0xff, 0xff]), { ...t.auth, ...proto })).status,
    ];
    expect(statuses).toEqual([401, 401, 415, 413, 413, 400]);
    const refused = { 400: 1, 401: 2, 403: 0, 413: 2, 415: 1, 429: 0, 503: 0 };
    expect(t.serve.server.stats().refused).toEqual(refused);
    const health = (await (await fetch(`${t.serve.url}/health`)).json()) as JsonObject;
    expect(health.refused).toEqual(Object.fromEntries(Object.entries(refused).map(([k, v]) => [k, v])));
    for (const [reason, status] of [
      ['unsupported media type', 415],
      ['body too large', 413],
      ['decompressed body too large', 413],
      ['malformed request', 400],
    ] as const) {
      const [line] = refusedLines(reason);
      expect(line, reason).toMatchObject({ level: 'warn', status, refused: 1 });
      expect(String(line?.lastRemoteAddress)).toMatch(/127\.0\.0\.1/);
    }
  });

  it('logs at most one line per reason and interval, then how many came since', async () => {
    // The earlier test's second 401 is told after its interval: wait that out for a clean start.
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2));
    const before = refusedLines('missing or wrong token').length;
    for (let i = 0; i < 5; i++) expect((await post(url(), body(), proto)).status).toBe(401);
    const lines = () => refusedLines('missing or wrong token').slice(before);
    // The first at once, the four after it held back...
    expect(lines().map((l) => l.refused)).toEqual([1]);
    expect(lines()[0]?.lastMessage).toMatch(/missing or wrong bearer token/);
    // ...and told once the interval is over, though no more came.
    const deadline = Date.now() + INTERVAL_MS + 5_000;
    while (lines().length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines().map((l) => l.refused)).toEqual([1, 4]);
    expect(t.serve.server.stats().refused[401]).toBe(7);
  });

  it('counts records rejected from accepted requests, and logs them at most once per interval', async () => {
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2));
    const refusedBefore = t.serve.server.stats().refused;
    const committedBefore = t.serve.server.stats().committedRows;
    const request = () =>
      protobufBody(
        logsRequest([
          { body: { stringValue: 'kept' } },
          { body: { stringValue: 'x'.repeat(2_000) } },
          { body: { stringValue: 'y'.repeat(3_000) } },
        ]),
      );
    for (let i = 0; i < 4; i++) {
      const res = await post(url(), request(), { ...t.auth, ...proto });
      expect(res.status).toBe(200);
      expect(decodeProtobufResponse(res.bytes).rejectedLogRecords).toBe(2);
    }
    const stats = t.serve.server.stats();
    expect(stats).toMatchObject({
      rejectedRecords: 8,
      committedRows: committedBefore + 4,
      refused: refusedBefore,
    });
    expect(await health()).toMatchObject({ rejectedRecords: 8, committedRows: committedBefore + 4 });
    // The first request's at once, the three after it held back and told after the interval.
    const rejected = () => lines('records rejected');
    expect(rejected().map((l) => l.rejected)).toEqual([2]);
    expect((await until(rejected, 2)).map((l) => l.rejected)).toEqual([2, 6]);
    expect(rejected()[1]).toMatchObject({ level: 'warn', lastAccepted: 1 });
    expect(String(rejected()[1]?.lastMessage)).toMatch(/over the limit of 1000/);
    expect(String(rejected()[1]?.lastRemoteAddress)).toMatch(/127\.0\.0\.1/);
  });

  it('counts query requests without the token, and logs them at most once per interval', async () => {
    const events = `${t.serve.url}/v1/audit/events?tenant=t`;
    const statuses = [
      (await fetch(events)).status,
      (await fetch(events, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status,
      (await fetch(events, { headers: { authorization: `Bearer ${t.serve.ingestToken}` } })).status,
      (await fetch(events, { headers: t.auth })).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 200]);
    expect(t.serve.server.stats().queryUnauthorized).toBe(3);
    expect((await health()).queryUnauthorized).toBe(3);
    // Not logs requests: their 401 count is not changed.
    expect(t.serve.server.stats().refused[401]).toBe(7);
    const refused = () => lines('query requests refused');
    expect(refused().map((l) => l.refused)).toEqual([1]);
    expect((await until(refused, 2)).map((l) => l.refused)).toEqual([1, 2]);
    expect(refused()[0]).toMatchObject({ level: 'warn', status: 401, reason: 'missing or wrong token' });
  });
});
