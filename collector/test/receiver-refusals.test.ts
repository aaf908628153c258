// Refused logs requests are seen by the operator: counted per status on /health and stats(), logged as a warning
// at most once per reason and interval with how many were refused since (a service started without the token
// loses every event: OTel exporters drop a 401 and go on).
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JsonObject,
  logsRequest,
  post,
  protobufBody,
  startTestServe,
  type TestServe,
} from './receiver-support.js';

const proto = { 'content-type': 'application/x-protobuf' };
const INTERVAL_MS = 400;

describe('refused logs requests', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ limits: { refusalLogIntervalMs: INTERVAL_MS, maxBodyBytes: 64 * 1024 } });
  }, 60_000);
  afterAll(async () => t?.close());

  const refusedLines = (reason: string) =>
    t.logs
      .map((l) => JSON.parse(l) as JsonObject)
      .filter((l) => l.msg === 'logs requests refused' && l.reason === reason);
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
    const deadline = Date.now() + 5_000;
    while (lines().length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines().map((l) => l.refused)).toEqual([1, 4]);
    expect(t.serve.server.stats().refused[401]).toBe(7);
  });
});
