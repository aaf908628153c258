// A query API client that stops reading (a pager left open, a peer gone silent): its export must not hold a
// request slot ingest counts, nor hold shutdown, nor stay open for good. Found in a 30-minute soak: two stalled
// exports kept inFlight up and every SIGTERM waited the whole shutdown timeout.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { AUDIT_ATTRIBUTES as A } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JsonObject,
  logsRequest,
  query,
  startTestServe,
  str,
  type TestServe,
} from './receiver-support.js';

const TENANT = 'stall';
// ~130 MB of NDJSON: far more than the kernel's socket buffers on both ends hold (up to 32 + 4 MB on loopback
// here), so the export's writes wait.
const EVENTS = 4_000;
const PAD = 'x'.repeat(32_000);

function auditRecord(i: number): JsonObject {
  return {
    timeUnixNano: `${BigInt(Date.UTC(2026, 10, 1) + i) * 1_000_000n}`,
    body: { stringValue: JSON.stringify({ i, pad: PAD }) },
    attributes: [
      str(A.eventId, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
      str(A.action, 'docs.page.viewed'),
      str(A.tenant, TENANT),
      str(A.actorId, `user-${i % 7}`),
      str(A.actorType, 'user'),
      str(A.targets, '[]'),
    ],
  };
}

/** A GET on a raw connection, so the test decides how the answer is read (paused: never). */
async function rawGet(t: TestServe, path: string, { paused }: { paused: boolean }): Promise<Socket> {
  const socket = connect(t.serve.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  if (paused) socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.serve.token}\r\n\r\n`);
  return socket;
}

const EXPORT_PATH = `/v1/audit/export?tenant=${TENANT}&format=ndjson`;

/** Requests a whole-tenant export and never reads the answer. */
async function stalledExport(t: TestServe): Promise<{ socket: Socket }> {
  return { socket: await rawGet(t, EXPORT_PATH, { paused: true }) };
}

async function health(t: TestServe): Promise<{ inFlight: number; queriesInFlight: number }> {
  return (await (await fetch(`${t.serve.url}/health`)).json()) as {
    inFlight: number;
    queriesInFlight: number;
  };
}

async function inFlight(t: TestServe): Promise<number> {
  return (await health(t)).inFlight;
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('a query client that stops reading', () => {
  let dir: string;
  let seeded: TestServe;
  beforeAll(async () => {
    seeded = await startTestServe();
    dir = seeded.dir;
    for (let from = 0; from < EVENTS; from += 250) {
      const records = Array.from({ length: 250 }, (_, k) => auditRecord(from + k));
      expect((await seeded.send(logsRequest(records))).status).toBe(200);
    }
    await seeded.serve.close();
  }, 120_000);
  afterAll(async () => {
    await seeded.close().catch(() => undefined);
  });

  it('does not count against ingest, and is cut after the send stall timeout', async () => {
    const t = await startTestServe({
      store: { path: join(dir, 'data') },
      limits: { maxConcurrentRequests: 1, sendStallTimeoutMs: 1_500 },
    });
    try {
      const reader = await stalledExport(t);
      expect(await until(async () => (await inFlight(t)) === 1, 10_000)).toBe(true);
      // /health tells the query responses apart: they are what ingest's admission leaves out.
      expect(await health(t)).toMatchObject({ inFlight: 1, queriesInFlight: 1 });
      // The stalled export holds the only slot --max-concurrent-requests gives: ingest still answers 200.
      expect((await t.send(logsRequest([auditRecord(EVENTS)]))).status).toBe(200);
      // Cut by serve (the client, paused, cannot see it behind the data its kernel holds).
      expect(await until(async () => (await inFlight(t)) === 0, 10_000)).toBe(true);
      expect(t.logs.some((line) => line.includes('query reader stalled: connection cut'))).toBe(true);
      reader.socket.destroy();
      // A reader that keeps up gets the whole export.
      const whole = await query(t.serve, `/v1/audit/events?tenant=${TENANT}&limit=1`);
      expect(whole.status).toBe(200);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('runs exports in at most half of the query slots: another export gets 429, everything else its own answer', async () => {
    const t = await startTestServe({
      store: { path: join(dir, 'data') },
      limits: { maxConcurrentQueries: 4, retryAfterSeconds: 1 },
    });
    const held: Socket[] = [];
    try {
      for (const _ of [1, 2]) held.push((await stalledExport(t)).socket);
      expect(await until(async () => (await health(t)).queriesInFlight === 2, 10_000)).toBe(true);
      const send = async (method: string, path: string, headers: Record<string, string> = {}) => {
        const res = await fetch(`${t.serve.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${t.serve.token}`, ...headers },
          ...(method === 'POST' && { body: 'x' }),
        });
        await res.arrayBuffer();
        return [method, path, res.status, res.headers.get('retry-after')];
      };
      // However the path is spelt, what the router runs as an export is counted as one.
      for (const path of ['/export', '/export/', '//export', '/%65xport', '/export//']) {
        expect(await send('GET', `/v1/audit${path}?tenant=${TENANT}`)).toEqual([
          'GET',
          `/v1/audit${path}?tenant=${TENANT}`,
          429,
          '1',
        ]);
      }
      // Requests the router refuses get their own answer, not the cap's 429.
      // (A raw request: fetch would remove the dot segment itself.)
      const dotted = await rawGet(t, `/v1/audit/./export?tenant=${TENANT}`, { paused: false });
      const [statusLine] = await once(dotted, 'data');
      dotted.destroy();
      expect(String(statusLine).split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect((await send('DELETE', '/v1/audit/export'))[2]).toBe(405);
      expect((await send('POST', '/v1/audit/export', { 'content-type': 'text/plain' }))[2]).toBe(415);
      expect((await send('GET', `/v1/audit/export?tenant=${TENANT}&format=xml`))[2]).toBe(400);
      // So does a filter the store refuses (a reversed range, an action wildcard it does not take).
      const reversed = '&from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z';
      expect((await send('GET', `/v1/audit/export?tenant=${TENANT}${reversed}`))[2]).toBe(400);
      expect((await send('GET', `/v1/audit/export?tenant=${TENANT}&action=docs*`))[2]).toBe(400);
      // Page reads keep the other half.
      expect((await send('GET', `/v1/audit/events?tenant=${TENANT}&limit=1`))[2]).toBe(200);
      expect(t.logs.some((line) => line.includes('exports hold their half of the query slots'))).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await t.close();
    }
  }, 60_000);

  it('shutdown cuts an export whose client is not reading, and answers the requests that are read', async () => {
    const t = await startTestServe({
      store: { path: join(dir, 'data') },
      limits: { shutdownTimeoutMs: 20_000, shutdownStallMs: 1_000 },
    });
    const counts = (await query(t.serve, `/v1/audit/counts/actions?tenant=${TENANT}`)).body as {
      count: number;
    }[];
    const stored = counts.reduce((sum, c) => sum + c.count, 0);
    const stalled = await stalledExport(t);
    expect(await until(async () => (await inFlight(t)) === 1, 10_000)).toBe(true);
    // Another export, read as it comes, in flight at SIGTERM: it is answered whole, not cut.
    const read = fetch(`${t.serve.url}/v1/audit/export?tenant=${TENANT}&format=ndjson`, {
      headers: { authorization: `Bearer ${t.serve.token}` },
    }).then(async (res) => (await res.text()).split('\n').filter((line) => line !== '').length);
    expect(await until(async () => (await inFlight(t)) === 2, 10_000)).toBe(true);
    const started = Date.now();
    const report = await t.serve.close();
    // Without the fix: the whole 20 s shutdown timeout, then "closing connections with requests still in flight".
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(report.clean).toBe(true);
    expect(await read).toBe(stored);
    stalled.socket.destroy();
    expect(
      t.logs.some((line) => line.includes('shutdown: cutting a query response its client is not reading')),
    ).toBe(true);
    expect(t.logs.some((line) => line.includes('shutdown timeout'))).toBe(false);
    await t.close();
  }, 60_000);

  it('does not cut a client that keeps reading (~3 MB/s; the stall timeout once timed a whole 4 MB page)', async () => {
    const t = await startTestServe({
      store: { path: join(dir, 'data') },
      limits: { sendStallTimeoutMs: 1_000 },
    });
    try {
      const socket = await rawGet(t, EXPORT_PATH, { paused: false });
      let bytes = 0;
      let closed = false;
      socket.on('close', () => {
        closed = true;
      });
      // ~64 KB every 20 ms (~3 MB/s): it cut a page whose 4 MB took longer than the stall timeout to drain.
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        socket.pause();
        setTimeout(() => socket.resume(), 20);
      });
      await until(async () => closed || bytes > 24 * 1024 * 1024, 45_000);
      socket.destroy();
      expect(t.logs.some((line) => line.includes('query reader stalled'))).toBe(false);
      expect(closed).toBe(false);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('writes an export in byte pieces: characters across a piece boundary arrive whole (emoji, CJK)', async () => {
    const t = await startTestServe({ store: { path: join(dir, 'data') } });
    try {
      // 4-byte and 3-byte characters after an odd-length prefix: boundaries fall inside characters and, for a
      // string cut by UTF-16 units, between the halves of a surrogate pair.
      const text = (i: number) => `${'a'.repeat(i)}${'😀漢'.repeat(30_000)}`;
      const records = Array.from({ length: 5 }, (_, i) => ({
        ...auditRecord(EVENTS + 10 + i),
        body: { stringValue: JSON.stringify({ text: text(i) }) },
        attributes: [
          ...(auditRecord(EVENTS + 10 + i).attributes as JsonObject[]).filter((a) => a.key !== A.tenant),
          str(A.tenant, 'emoji'),
        ],
      }));
      expect((await t.send(logsRequest(records))).status).toBe(200);
      const res = await fetch(`${t.serve.url}/v1/audit/export?tenant=emoji&format=ndjson`, {
        headers: { authorization: `Bearer ${t.serve.token}` },
      });
      const lines = (await res.text()).split('\n').filter((line) => line !== '');
      const texts = lines.map((line) => (JSON.parse(line) as { metadata: { text: string } }).metadata.text);
      expect(texts.sort()).toEqual(Array.from({ length: 5 }, (_, i) => text(i)).sort());
    } finally {
      await t.close();
    }
  }, 60_000);

  it('cuts a page of events its client does not read, as an export (a 10,000-event page can be tens of MB)', async () => {
    const t = await startTestServe({
      store: { path: join(dir, 'data') },
      limits: { sendStallTimeoutMs: 1_000 },
    });
    try {
      const socket = await rawGet(t, `/v1/audit/events?tenant=${TENANT}&limit=4000`, { paused: true });
      expect(
        await until(async () => t.logs.some((line) => line.includes('query reader stalled')), 15_000),
      ).toBe(true);
      expect(await until(async () => (await inFlight(t)) === 0, 5_000)).toBe(true);
      socket.destroy();
    } finally {
      await t.close();
    }
  }, 60_000);
});
