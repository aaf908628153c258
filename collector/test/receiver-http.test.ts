// serve's /v1/logs endpoint: every documented status (200, partial success, 400, 401, 405, 413, 415, 429, 503),
// the bad-input corpus, drain on shutdown. After each bad request the server still serves, and what it
// acknowledged is stored.

import { request as httpRequest } from 'node:http';
import { deflateRawSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { AuditStore } from '@otel-audit/clickhouse';
import { AUDIT_MARKER_ATTRIBUTE, AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobufResponse, decodeProtobufStatus } from '../src/index.js';
import {
  type JsonObject,
  logsRequest,
  logsRequestHead,
  type Posted,
  post,
  protobufBody,
  rawConnection,
  startTestServe,
  str,
  type TestServe,
} from './receiver-support.js';

const T = '1732300000123456789';
let seq = 0;
/** A record tagged with a unique `n` attribute, so each test can count exactly its own rows. */
const record = (run: string, extra: JsonObject = {}): JsonObject => ({
  timeUnixNano: T,
  body: { stringValue: 'hello' },
  attributes: [str('run', run), str('n', String(seq++))],
  ...extra,
});
const records = (run: string, n: number) => Array.from({ length: n }, () => record(run));

async function storedCount(t: TestServe, run: string): Promise<number> {
  const [row] = await t.serve.store.query<{ c: string }>(
    `SELECT count() AS c FROM {db}.${AUDIT_TABLES.logs} WHERE LogAttributes['run'] = {run:String}`,
    { run },
  );
  return Number(row?.c);
}

/** The server still answers a good request after a bad one. */
async function stillServes(t: TestServe): Promise<void> {
  const run = `alive-${seq++}`;
  const ok = await t.send(logsRequest(records(run, 2)));
  expect(ok.status).toBe(200);
  expect(await storedCount(t, run)).toBe(2);
}

const proto = { 'content-type': 'application/x-protobuf' };
const json = { 'content-type': 'application/json' };

describe('POST /v1/logs', () => {
  let t: TestServe;
  const url = () => `${t.serve.url}/v1/logs`;
  const postWithAuth = (body: Uint8Array | string, headers: Record<string, string>) =>
    post(url(), body, { ...t.auth, ...headers });

  beforeAll(async () => {
    t = await startTestServe({ limits: { maxRecordSize: 100_000, maxBodyBytes: 16 * 1024 * 1024 } });
  }, 60_000);
  afterAll(async () => t?.close());

  it('acknowledges protobuf, JSON and gzip bodies with 200 after the rows are stored', async () => {
    for (const [encoding, gzip] of [
      ['protobuf', false],
      ['json', false],
      ['protobuf', true],
      ['json', true],
    ] as const) {
      const run = `ok-${encoding}-${gzip}`;
      const res = await t.send(logsRequest(records(run, 3)), encoding, gzip);
      expect(res.status, run).toBe(200);
      if (encoding === 'json') expect(res.json).toEqual({});
      else expect(decodeProtobufResponse(res.bytes)).toEqual({ rejectedLogRecords: 0, errorMessage: '' });
      // Acknowledged means committed: readable right away.
      expect(await storedCount(t, run), run).toBe(3);
    }
  });

  it("acknowledges deflate, zlib and zstd bodies (the collector exporter's compressions but snappy and lz4), and answers 400 to one that is not deflate data", async () => {
    const compress = { deflate: deflateSync, zlib: deflateSync, zstd: zstdCompressSync };
    for (const [coding, compressed] of Object.entries(compress))
      for (const encoding of ['protobuf', 'json'] as const) {
        const run = `${coding}-${encoding}`;
        const request = logsRequest(records(run, 3));
        const raw = encoding === 'json' ? Buffer.from(JSON.stringify(request)) : protobufBody(request);
        const res = await postWithAuth(compressed(raw), {
          ...(encoding === 'json' ? json : proto),
          'content-encoding': coding,
        });
        expect(res.status, run).toBe(200);
        expect(await storedCount(t, run), run).toBe(3);
      }
    // Two zstd frames (an encoder may write one per block): both are read (Node's decoder stops after one).
    const framed = protobufBody(logsRequest(records('zstd-frames', 4)));
    const half = Math.floor(framed.length / 2);
    const frames = Buffer.concat([
      zstdCompressSync(framed.subarray(0, half)),
      zstdCompressSync(framed.subarray(half)),
    ]);
    const twoFrames = await postWithAuth(frames, { ...proto, 'content-encoding': 'zstd' });
    expect(twoFrames.status).toBe(200);
    expect(await storedCount(t, 'zstd-frames')).toBe(4);
    const notZstd = await postWithAuth(gzipSync(protobufBody(logsRequest(records('zstd-bad', 1)))), {
      ...proto,
      'content-encoding': 'zstd',
    });
    expect(notZstd.status).toBe(400);
    expect(decodeProtobufStatus(notZstd.bytes).message).toMatch(/body is not valid zstd data/);
    // Raw (headerless) deflate is not what HTTP's `deflate` means: zlib format, RFC 9110 section 8.4.1.2.
    const raw = await postWithAuth(deflateRawSync(protobufBody(logsRequest(records('deflate-raw', 1)))), {
      ...proto,
      'content-encoding': 'deflate',
    });
    expect(raw.status).toBe(400);
    expect(decodeProtobufStatus(raw.bytes).message).toMatch(/body is not valid deflate data/);
    expect(await storedCount(t, 'deflate-raw')).toBe(0);
    await stillServes(t);
  });

  it('answers 401 without the bearer token or with a wrong one, and stores nothing', async () => {
    const body = protobufBody(logsRequest(records('unauth', 1)));
    const none = await post(url(), body, proto);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(decodeProtobufStatus(none.bytes).code).toBe(16);
    const wrong = await post(url(), body, { ...proto, authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    // Who may send is checked before what was sent: no 415 (which tells a stranger what is accepted).
    const typed = await post(url(), 'hello', { 'content-type': 'text/plain' });
    expect(typed.status).toBe(401);
    expect(await storedCount(t, 'unauth')).toBe(0);
  });

  it('/health does not count itself in flight', async () => {
    const res = await fetch(`${t.serve.url}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { inFlight: number }).inFlight).toBe(0);
  });

  it('answers 415 to other content types and encodings', async () => {
    const text = await postWithAuth('hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.json?.message).toMatch(/application\/x-protobuf/);
    for (const coding of ['br', 'snappy', 'lz4', 'constructor']) {
      const res = await postWithAuth(protobufBody(logsRequest(records(coding, 1))), {
        ...proto,
        'content-encoding': coding,
      });
      expect(res.status, coding).toBe(415);
      expect(decodeProtobufStatus(res.bytes).message).toMatch(
        `content-encoding "${coding}" is not supported`,
      );
      expect(await storedCount(t, coding)).toBe(0);
    }
    await stillServes(t);
  });

  it('answers 405 to GET /v1/logs', async () => {
    const res = await fetch(url(), { headers: t.auth });
    expect(res.status).toBe(405);
  });

  it('answers 413 over the body limit, also when only the decompressed body is over it (gzip bomb)', async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 1);
    const res = await postWithAuth(big, proto);
    expect(res.status).toBe(413);
    // 64 MiB of zeros gzip to ~64 KiB: the limit applies after decompression too.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const bombed = await postWithAuth(bomb, { ...proto, 'content-encoding': 'gzip' });
    expect(bombed.status).toBe(413);
    expect(decodeProtobufStatus(bombed.bytes).message).toMatch(/decompressed body is larger than the limit/);
    const zstdBomb = zstdCompressSync(Buffer.alloc(64 * 1024 * 1024));
    expect(zstdBomb.length).toBeLessThan(1024 * 1024);
    const zstdBombed = await postWithAuth(zstdBomb, { ...proto, 'content-encoding': 'zstd' });
    expect(zstdBombed.status).toBe(413);
    expect(decodeProtobufStatus(zstdBombed.bytes).message).toMatch(
      /decompressed body is larger than the limit/,
    );
    // Chunked (no Content-Length): the limit is found while reading, and is still a 413 (it was a 500).
    for (const [path, headers] of [
      ['/v1/logs', proto],
      ['/v1/audit/events', { 'content-type': 'application/x-www-form-urlencoded' }],
    ] as const) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${t.serve.url}${path}`, {
          method: 'POST',
          headers: { ...t.auth, ...headers, 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        let sent = 0;
        const more = () => {
          while (sent < 20 && !req.destroyed) {
            sent += 1;
            if (!req.write(chunk)) return void req.once('drain', more);
          }
          req.end();
        };
        more();
      });
      expect(status, path).toBe(413);
    }
    await stillServes(t);
  }, 30_000);

  it('answers 413 to a small body whose rows would repeat large resource attributes (memory bound)', async () => {
    // 100 records under a 1 MiB resource attribute: ~100 MiB of rows from a ~1 MiB body (gzip: a few KiB).
    const run = `resource-${seq++}`;
    const body = gzipSync(
      protobufBody(
        logsRequest(records(run, 100), [str('service.name', 'svc'), str('big', 'x'.repeat(1024 * 1024))]),
      ),
    );
    expect(body.length).toBeLessThan(64 * 1024);
    const res = await postWithAuth(body, { ...proto, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(decodeProtobufStatus(res.bytes).message).toMatch(
      /resource and scope attributes \(repeated on every row\)/,
    );
    expect(await storedCount(t, run)).toBe(0);
    // Scope name and schema URLs repeat on every row too.
    const scoped = logsRequest(records(run, 100), [str('service.name', 'svc')], {
      name: 'n'.repeat(1024 * 1024),
      version: '1',
    });
    const viaScope = await postWithAuth(gzipSync(protobufBody(scoped)), {
      ...proto,
      'content-encoding': 'gzip',
    });
    expect(viaScope.status).toBe(413);
    // The same records under a small resource: stored.
    const ok = await t.send(logsRequest(records(run, 100), [str('service.name', 'svc')]));
    expect(ok.status).toBe(200);
    expect(await storedCount(t, run)).toBe(100);
  }, 30_000);

  it('answers 400 to values nested deeper than 31 levels (JSON and protobuf), not a 500 or a crash', async () => {
    const run = `deep-${seq++}`;
    const deep = (value: JsonObject) =>
      logsRequest([record(run, { attributes: [str('run', run), { key: 'deep', value }] })]);
    // Text built by hand: JSON.stringify of 5,000 levels would overflow this test's own stack.
    const deepText = (levels: number) =>
      JSON.stringify(deep({ stringValue: 'x' })).replace(
        '"value":{"stringValue":"x"}',
        `"value":${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(levels)}{"stringValue":"x"}${'}]}}'.repeat(levels)}`,
      );
    for (const levels of [32, 5000]) {
      const res = await postWithAuth(deepText(levels), json);
      expect(res.status, `json ${levels}`).toBe(400);
      expect(JSON.parse(Buffer.from(res.bytes).toString()).message).toMatch(/nested deeper than 31 levels/);
    }
    let arrays: JsonObject = { stringValue: 'x' };
    for (let i = 0; i < 32; i++) arrays = { arrayValue: { values: [arrays] } };
    const pb = await postWithAuth(protobufBody(deep(arrays)), proto);
    expect(pb.status).toBe(400);
    expect(decodeProtobufStatus(pb.bytes).message).toMatch(/nested deeper than 31 levels/);
    expect(await storedCount(t, run)).toBe(0);
    // 31 levels are taken, over JSON and over protobuf (whose decoder would refuse a 32nd map level itself).
    const ok = await postWithAuth(deepText(31), json);
    expect(ok.status).toBe(200);
    let maps: JsonObject = { stringValue: 'x' };
    for (let i = 0; i < 31; i++) maps = { kvlistValue: { values: [{ key: 'k', value: maps }] } };
    expect((await postWithAuth(protobufBody(deep(maps)), proto)).status).toBe(200);
    expect(await storedCount(t, run)).toBe(2);
  }, 30_000);

  describe('bad input corpus: 400 naming what is wrong, nothing stored, still serving', () => {
    const valid = protobufBody(logsRequest(records('truncated', 5)));
    const cases: [string, Uint8Array | string, Record<string, string>, RegExp][] = [
      ['truncated protobuf', valid.subarray(0, valid.length - 7), proto, /not a valid protobuf/],
      [
        // A string that is not UTF-8, then a bad wire type: still a 400, not a 500 (the wire types are checked
        // before the decoder reads any string).
        'malformed protobuf after a string that is not UTF-8',
        Buffer.from('ChkSFxIJKgcKBWH/UVFiEgovCAoGc2Vjb25k', 'base64'),
        proto,
        /LogRecord: field body \(5\) has wire type 7, its schema says length-delimited/,
      ],
      [
        'random bytes as protobuf',
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
        proto,
        /not a valid protobuf/,
      ],
      ['invalid JSON', '{"resourceLogs": [', json, /not valid JSON/],
      ['empty JSON body', '', json, /not valid JSON/],
      ['JSON body that is not an object', '[1,2]', json, /expected an object/],
      [
        // The message describes the bad value by type and size: printing it whole overflowed the stack (a 500).
        'JSON nested 5,000 levels where an object belongs',
        `{"resourceLogs":[${'['.repeat(5000)}${']'.repeat(5000)}]}`,
        json,
        /resourceLogs\[0\]: expected an object, got an array of 1 item$/,
      ],
      [
        'wrong type: severityNumber as a word',
        JSON.stringify(logsRequest([{ severityNumber: 'loud' }])),
        json,
        /resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.severityNumber: expected a SeverityNumber/,
      ],
      [
        'wrong type: timeUnixNano not a number',
        JSON.stringify(logsRequest([{ timeUnixNano: 'yesterday' }])),
        json,
        /logRecords\[0\]\.timeUnixNano: expected an unsigned 64-bit integer/,
      ],
      [
        'wrong type: attributes as an object',
        JSON.stringify(logsRequest([{ attributes: { a: 1 } }])),
        json,
        /logRecords\[0\]\.attributes: expected an array/,
      ],
      [
        'wrong type: nested value',
        JSON.stringify(
          logsRequest([
            {
              attributes: [
                { key: 'k', value: { kvlistValue: { values: [{ key: 'x', value: { intValue: 'nope' } }] } } },
              ],
            },
          ]),
        ),
        json,
        /attributes\[0\]\.value\.kvlistValue\.values\[0\]\.value\.intValue: expected a signed 64-bit integer/,
      ],
      [
        'trace id of the wrong length (JSON)',
        JSON.stringify(logsRequest([{ traceId: 'abcd' }])),
        json,
        /traceId: expected 32 hex characters/,
      ],
      [
        'trace id of the wrong length (protobuf)',
        protobufBody(logsRequest([{ traceId: 'abcdef' }])),
        proto,
        /logRecords\[0\]\.traceId: must be 16 bytes, got 3/,
      ],
      [
        'gzip header on a body that is not gzip',
        Buffer.from('not gzip'),
        { ...proto, 'content-encoding': 'gzip' },
        /not valid gzip/,
      ],
    ];
    it.each(cases)('%s', async (_name, body, headers, message) => {
      const res = await postWithAuth(body, headers);
      expect(res.status).toBe(400);
      const text = res.json ? String(res.json.message) : decodeProtobufStatus(res.bytes).message;
      expect(text).toMatch(message);
      await stillServes(t);
    });

    it('stored nothing of the rejected requests', async () => {
      expect(await storedCount(t, 'truncated')).toBe(0);
    });
  });

  it('keeps a record whose strings are not valid UTF-8, the bad bytes as U+FFFD (as the collector forwards it)', async () => {
    // One sender's bad string must not cost a forwarded batch the other records (a 400 is never retried).
    const run = 'badutf8';
    const invalid = (body: Uint8Array) =>
      Buffer.from(Buffer.from(body).toString('latin1').replaceAll('hello', 'he\xff\xfeo'), 'latin1');
    const request = logsRequest([
      record(run),
      record(run, { attributes: [str('run', run), str('note', 'hello')] }),
      record(run),
    ]);
    for (const [body, headers] of [
      [invalid(protobufBody(request)), proto],
      [invalid(Buffer.from(JSON.stringify(request))), json],
    ] as const) {
      const res = await postWithAuth(body, headers);
      expect(res.status).toBe(200);
    }
    const rows = await t.serve.store.query<{ body: string; note: string }>(
      `SELECT Body AS body, LogAttributes['note'] AS note FROM {db}.${AUDIT_TABLES.logs}
       WHERE LogAttributes['run'] = {run:String} ORDER BY LogAttributes['n']`,
      { run },
    );
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => r.body === 'he\ufffd\ufffdo')).toBe(true);
    expect(rows.filter((r) => r.note === 'he\ufffd\ufffdo')).toHaveLength(2);
    await stillServes(t);
  });

  it('takes OTLP/JSON with the proto field names (resource_logs, string_value), as the collector does', async () => {
    const run = 'snake';
    const camel = JSON.stringify(logsRequest(records(run, 2)));
    // Every field name in proto form: resourceLogs -> resource_logs, timeUnixNano -> time_unix_nano, ...
    const snake = camel.replace(
      /"([a-z]+(?:[A-Z][a-z]*)+)":/g,
      (_, name: string) => `"${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}":`,
    );
    expect(snake).toContain('"resource_logs":');
    expect(snake).toContain('"string_value":');
    const res = await postWithAuth(snake, json);
    expect(res.status).toBe(200);
    expect(await storedCount(t, run)).toBe(2);
    // Either name wherever it appears: camelCase at the top, proto names below.
    const mixed = snake.replace('"resource_logs":', '"resourceLogs":');
    expect((await postWithAuth(mixed, json)).status).toBe(200);
    expect(await storedCount(t, run)).toBe(4);
    const [row] = await t.serve.store.query<{ ts: string; body: string }>(
      `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ts, Body AS body FROM {db}.${AUDIT_TABLES.logs}
       WHERE LogAttributes['run'] = {run:String} LIMIT 1`,
      { run },
    );
    expect(row).toEqual({ ts: T, body: 'hello' });
    // camelCase first and proto names only past the body's first 16 KiB (a large resource attribute): each field
    // is read by either name (this request was answered 200 and its records dropped).
    const late = logsRequest(records(run, 2), [str('service.name', 'svc'), str('pad', 'p'.repeat(20_000))]);
    const lateText = JSON.stringify(late)
      .replace('"scopeLogs":', '"scope_logs":')
      .replace(/"timeUnixNano":/g, '"time_unix_nano":');
    expect(lateText.indexOf('"scope_logs":')).toBeGreaterThan(16_384);
    expect((await postWithAuth(lateText, json)).status).toBe(200);
    expect(await storedCount(t, run)).toBe(6);
  });

  it('accepts an empty protobuf body (a valid empty request) and stores nothing', async () => {
    const res = await postWithAuth(Buffer.alloc(0), proto);
    expect(res.status).toBe(200);
    expect(decodeProtobufResponse(res.bytes).rejectedLogRecords).toBe(0);
  });

  it('rejects only the offending records with OTLP partial success (huge attribute, time past 2262)', async () => {
    const run = 'partial';
    const request = logsRequest([
      record(run),
      record(run, { attributes: [str('run', run), str('huge', 'x'.repeat(200_000))] }),
      record(run),
      record(run, { timeUnixNano: '18446744073709551615' }),
    ]);
    for (const encoding of ['protobuf', 'json'] as const) {
      const res = await t.send(request, encoding);
      expect(res.status).toBe(200);
      const partial =
        encoding === 'json'
          ? (res.json?.partialSuccess as { rejectedLogRecords: string; errorMessage: string })
          : decodeProtobufResponse(res.bytes);
      expect(Number(partial.rejectedLogRecords)).toBe(2);
      expect(partial.errorMessage).toMatch(
        /logRecords\[1\]: record is 2000\d\d characters.*over the limit of 100000/,
      );
      expect(partial.errorMessage).toMatch(
        /logRecords\[3\]: timestamp 18446744073709551615 ns is after 2262/,
      );
    }
    // The two good records of each request landed; the rejected ones did not.
    expect(await storedCount(t, run)).toBe(4);
  });

  it('stores 100,000 records sent in one request, all of them', async () => {
    const run = 'big';
    const res = await t.send(logsRequest(records(run, 100_000)), 'protobuf', true);
    expect(res.status).toBe(200);
    expect(await storedCount(t, run)).toBe(100_000);
  }, 60_000);

  it('group commit: concurrent requests share inserts, and each is acknowledged with all its rows', async () => {
    const before = t.serve.server.stats();
    const runs = Array.from({ length: 20 }, (_, i) => `group-${i}`);
    const bodies = runs.map((run) => protobufBody(logsRequest(records(run, 500))));
    const statuses = await Promise.all(bodies.map((body) => postWithAuth(body, proto).then((r) => r.status)));
    expect(statuses).toEqual(runs.map(() => 200));
    const after = t.serve.server.stats();
    expect(after.committedRows - before.committedRows).toBe(20 * 500);
    // Fewer inserts than requests: rows of requests that arrived during an insert went into the next one together.
    expect(after.batches - before.batches).toBeLessThan(20);
    for (const run of runs) expect(await storedCount(t, run), run).toBe(500);
  });

  it('answers 503 with Retry-After when the store fails, acknowledges nothing, and recovers', async () => {
    const logs = `{db}.${AUDIT_TABLES.logs}`;
    await t.serve.store.command(`RENAME TABLE ${logs} TO {db}.otel_logs_away`);
    const health = async () =>
      (await fetch(`${t.serve.url}/health`)).json() as Promise<Record<string, unknown>>;
    const failedLines = () => t.logs.filter((line) => line.includes('"insert failed"')).length;
    const linesBefore = failedLines();
    try {
      for (let i = 0; i < 3; i += 1) {
        const res = await t.send(logsRequest(records('down', 3)));
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(decodeProtobufStatus(res.bytes).message).toMatch(/writing to the store failed/);
      }
      // /health says the store is failing, and why; the log has one line for the three (a full disk failed every
      // batch: hundreds of lines with stacks).
      expect(await health()).toMatchObject({
        status: 'ok',
        store: 'failing',
        storeError: { message: expect.stringMatching(/otel_logs/) },
      });
      expect(failedLines() - linesBefore).toBe(1);
    } finally {
      await t.serve.store.command(`RENAME TABLE {db}.otel_logs_away TO ${logs}`);
    }
    expect(await storedCount(t, 'down')).toBe(0);
    await stillServes(t);
    expect(await health()).toMatchObject({ store: 'ok' });
    expect(await health()).not.toHaveProperty('storeError');
    const recoveredLines = () => t.logs.filter((line) => line.includes('"inserts commit again"')).length;
    expect(recoveredLines()).toBe(1);
    expect(t.logs.some((line) => /"inserts commit again".*"failedSinceLastLine":[1-9]/.test(line))).toBe(
      true,
    );
    // Failing again within the interval: no new lines (a store failing and recovering in turn flooded the log).
    await t.serve.store.command(`RENAME TABLE ${logs} TO {db}.otel_logs_away`);
    try {
      expect((await t.send(logsRequest(records('down-again', 1)))).status).toBe(503);
      expect(await health()).toMatchObject({ store: 'failing' });
    } finally {
      await t.serve.store.command(`RENAME TABLE {db}.otel_logs_away TO ${logs}`);
    }
    await stillServes(t);
    expect(failedLines() - linesBefore).toBe(1);
    expect(recoveredLines()).toBe(1);
  });
});

describe('the store failing while the wall clock steps back (NTP correcting a fast clock)', () => {
  it('still logs the failure once per interval: the interval is measured on the monotonic clock', async () => {
    const t = await startTestServe({ limits: { refusalLogIntervalMs: 300 } });
    const logs = `{db}.${AUDIT_TABLES.logs}`;
    const failedLines = () => t.logs.filter((line) => line.includes('"insert failed"')).length;
    await t.serve.store.command(`RENAME TABLE ${logs} TO {db}.otel_logs_away`);
    const wall = Date.now;
    try {
      expect((await t.send(logsRequest(records('step', 1)))).status).toBe(503);
      expect(failedLines()).toBe(1);
      const stepped = wall() - 3_600_000;
      Date.now = () => stepped + performance.now();
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await t.send(logsRequest(records('step', 1)))).status).toBe(503);
      expect(failedLines()).toBe(2);
    } finally {
      Date.now = wall;
      await t.serve.store.command(`RENAME TABLE {db}.otel_logs_away TO ${logs}`);
      await t.close();
    }
  }, 60_000);
});

describe('overload: 429 with Retry-After, nothing refused is stored, everything acknowledged is', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ limits: { maxPendingRows: 500, maxBatchRows: 500 } });
  }, 60_000);
  afterAll(async () => t?.close());

  it('refuses requests over the pending-rows limit and keeps every acknowledged one', async () => {
    const sent: { run: string; res: Posted }[] = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const run = `load-${i}`;
        return { run, res: await t.send(logsRequest(records(run, 400))) };
      }),
    );
    const statuses = sent.map((s) => s.res.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    for (const { run, res } of sent) {
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('1');
      expect(await storedCount(t, run), run).toBe(res.status === 200 ? 400 : 0);
    }
  });
});

describe('overload: 429 with Retry-After beyond --max-concurrent-requests', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ limits: { maxConcurrentRequests: 2, retryAfterSeconds: 3 } });
  }, 60_000);
  afterAll(async () => t?.close());

  it('refuses a third request while two are in flight, stores nothing of it, and serves again once they end', async () => {
    // Two requests held in flight: headers sent, body not yet.
    const held = await Promise.all(
      ['held-0', 'held-1'].map(async (run) => ({
        body: protobufBody(logsRequest(records(run, 2))),
        connection: await rawConnection(t.serve.port),
      })),
    );
    for (const { body, connection } of held)
      connection.socket.write(logsRequestHead(t.serve.token, body.length));
    const deadline = Date.now() + 10_000;
    while (t.serve.server.stats().inFlight < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    expect(t.serve.server.stats().inFlight).toBe(2);
    try {
      for (const encoding of ['protobuf', 'json'] as const) {
        const run = `refused-${encoding}`;
        const res = await t.send(logsRequest(records(run, 2)), encoding);
        expect(res.status, run).toBe(429);
        expect(res.headers.get('retry-after')).toBe('3');
        const message = encoding === 'json' ? res.json?.message : decodeProtobufStatus(res.bytes).message;
        expect(message).toMatch(/the receiver is busy: retry later/);
        expect(await storedCount(t, run)).toBe(0);
      }
    } finally {
      for (const { body, connection } of held) connection.socket.write(body);
    }
    // The held requests complete and are stored; then a new request is admitted again.
    for (const { connection } of held) {
      expect(await connection.waitFor(/^HTTP\/1\.1 \d+/)).toMatch(/^HTTP\/1\.1 200 /);
      connection.socket.destroy();
    }
    expect(await storedCount(t, 'held-0')).toBe(2);
    expect(await storedCount(t, 'held-1')).toBe(2);
    await stillServes(t);
  });
});

describe('--ingest-auth none on loopback', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ ingestAuth: 'none' });
  }, 60_000);
  afterAll(async () => t?.close());

  /** A POST with a Host header of our choosing (fetch does not let a caller set Host). */
  const postAs = (host: string, body: Uint8Array) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: t.serve.port,
          path: '/v1/logs',
          method: 'POST',
          headers: { host, 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('takes records without a token from loopback names, and refuses another Host (DNS rebinding)', async () => {
    const run = `host-${seq++}`;
    const body = Buffer.from(JSON.stringify(logsRequest(records(run, 1))));
    for (const host of [`127.0.0.1:${t.serve.port}`, `localhost:${t.serve.port}`, 'localhost'])
      expect((await postAs(host, body)).status, host).toBe(200);
    for (const host of [
      `evil.example:${t.serve.port}`,
      'attacker.test',
      `127.0.0.1.evil.example:${t.serve.port}`,
    ]) {
      const refused = await postAs(host, body);
      expect(refused.status, host).toBe(403);
      expect(refused.text).toContain('DNS rebinding');
    }
    expect(await storedCount(t, run)).toBe(3);
    // The query API still needs the token.
    expect((await fetch(`${t.serve.url}/v1/audit/events?tenant=x`)).status).toBe(401);
  });
});

describe('a body that stops coming (slow upload)', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ limits: { bodyIdleTimeoutMs: 300, maxConcurrentRequests: 1 } });
  }, 60_000);
  afterAll(async () => t?.close());

  it('is dropped after the body idle timeout, freeing its request slot (it held one for 120 s before)', async () => {
    const body = protobufBody(logsRequest(records('stalled', 2)));
    const connection = await rawConnection(t.serve.port);
    const closed = new Promise<number>((resolve) => {
      const start = Date.now();
      connection.socket.once('close', () => resolve(Date.now() - start));
    });
    connection.socket.write(logsRequestHead(t.serve.token, body.length));
    connection.socket.write(body.subarray(0, 5));
    const ms = await closed;
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5_000);
    const deadline = Date.now() + 5_000;
    while (t.serve.server.stats().inFlight > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    const run = `after-stall-${seq++}`;
    expect((await t.send(logsRequest(records(run, 2)))).status).toBe(200);
    expect(await storedCount(t, run)).toBe(2);
    expect(await storedCount(t, 'stalled')).toBe(0);
    // serve dropped it: a warning, not a client that went away.
    expect(t.logs.join('')).toMatch(/"level":"warn","msg":"request body stalled: connection dropped"/);
  }, 30_000);
});

describe('default: audit records only (as gateway.yaml filters before the exporter)', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ records: 'audit' });
  }, 60_000);
  afterAll(async () => t?.close());

  it('accepts ordinary log records without storing them, and stores the audit records of the same request', async () => {
    const run = 'mixed';
    const audit = (action: string) =>
      record(run, { attributes: [str('run', run), str(AUDIT_MARKER_ATTRIBUTE, action)] });
    const res = await t.send(logsRequest([audit('a.b.c'), record(run), audit('a.b.d'), record(run)]));
    expect(res.status).toBe(200);
    // Dropped on purpose, not rejected: no partial success (the collector's filter reports none either).
    expect(decodeProtobufResponse(res.bytes).rejectedLogRecords).toBe(0);
    expect(await storedCount(t, run)).toBe(2);
  });

  it('takes a record as an audit record when audit.action has a value, as the collector configs do', async () => {
    const run = 'marker';
    const withAction = (value: JsonObject) =>
      record(run, { attributes: [str('run', run), { key: AUDIT_MARKER_ATTRIBUTE, value }] });
    const res = await t.send(
      logsRequest([withAction({ stringValue: 'a.b.c' }), withAction({}), record(run)]),
    );
    expect(res.status).toBe(200);
    // Only the first: an empty value is nil to OTTL (the gateway drops it, the routing fragment keeps it ordinary).
    expect(await storedCount(t, run)).toBe(1);
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests before stopping, then releases the directory', async () => {
    const t = await startTestServe();
    const run = 'drain';
    // Bodies first (encoding 20k records takes a while), then all four requests at once.
    const bodies = Array.from({ length: 4 }, () => protobufBody(logsRequest(records(run, 20_000))));
    const inFlight = bodies.map((body) => post(`${t.serve.url}/v1/logs`, body, { ...t.auth, ...proto }));
    // Stop while the four are being read or written.
    const deadline = Date.now() + 10_000;
    while (t.serve.server.stats().inFlight < 4 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    expect(t.serve.server.stats().inFlight).toBe(4);
    await t.serve.close();
    const statuses = (await Promise.all(inFlight)).map((r) => r.status);
    // Every request that had arrived is finished and acknowledged, none cut off.
    expect(statuses).toEqual([200, 200, 200, 200]);
    const acknowledged = 4;
    // serve let go of the chDB directory: another store opens it and finds every acknowledged row.
    const store = await AuditStore.open({ path: `${t.dir}/data` });
    try {
      const [row] = await store.query<{ c: string }>(
        `SELECT count() AS c FROM {db}.${AUDIT_TABLES.logs} WHERE LogAttributes['run'] = 'drain'`,
      );
      expect(Number(row?.c)).toBe(acknowledged * 20_000);
    } finally {
      await store.close();
    }
    await t.close();
  }, 60_000);
});
