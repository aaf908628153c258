// What one logs request may cost serve: a bound on its records (a few KB of gzipped empty records decoded to
// gigabytes), the decoded request let go while the request waits for its insert, and protobuf fields whose wire
// type is not their schema's refused as pdata refuses them.
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { AuditStore, type OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_MARKER_ATTRIBUTE, AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeJsonRequest,
  decodeProtobufStatus,
  jsonLogger,
  receiverLimits,
  startReceiverServer,
} from '../src/index.js';
import { maxJsonObjects } from '../src/receiver/decode-json.js';
import { BODY_BYTES_PER_PROTOBUF_MESSAGE } from '../src/receiver/decode-protobuf.js';
import {
  type JsonObject,
  logsRequest,
  post,
  protobufBody,
  startTestServe,
  str,
  type TestServe,
} from './receiver-support.js';

const proto = { 'content-type': 'application/x-protobuf' };

async function storedCount(t: TestServe, run: string): Promise<number> {
  const [row] = await t.serve.store.query<{ c: string }>(
    `SELECT count() AS c FROM {db}.${AUDIT_TABLES.logs} WHERE LogAttributes['run'] = {run:String}`,
    { run },
  );
  return Number(row?.c);
}

describe('--max-records-per-request', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ limits: { maxRecordsPerRequest: 1000 } });
  }, 60_000);
  afterAll(async () => t?.close());

  const records = (run: string, n: number): JsonObject[] =>
    Array.from({ length: n }, (_, i) => ({ attributes: [str('run', run), str('n', String(i))] }));

  it('answers 413 to a request over the limit, protobuf or JSON, saying to send smaller requests; stores nothing', async () => {
    // 1,001 empty records: 2 bytes each on the wire.
    const bomb = gzipSync(protobufBody(logsRequest(Array.from({ length: 1001 }, () => ({})))));
    const res = await post(`${t.serve.url}/v1/logs`, bomb, {
      ...t.auth,
      ...proto,
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(413);
    expect(decodeProtobufStatus(res.bytes).message).toMatch(
      /more than 1000 log records \(--max-records-per-request\): send smaller requests/,
    );
    for (const encoding of ['protobuf', 'json'] as const) {
      const run = `over-${encoding}`;
      const over = await t.send(logsRequest(records(run, 1001)), encoding);
      expect(over.status, encoding).toBe(413);
      expect(await storedCount(t, run)).toBe(0);
      // At the limit: taken whole.
      const at = await t.send(logsRequest(records(run, 1000)), encoding);
      expect(at.status, encoding).toBe(200);
      expect(await storedCount(t, run)).toBe(1000);
    }
  });

  it('answers 413 to a protobuf body of more messages than a body at the limit holds at 8 bytes each (empty attributes), before decoding it', async () => {
    // One record of 4.3M empty attributes (2 bytes each on the wire, 8.6 MB, ~8 KB gzipped): 8M of them took 3.9 s
    // and 1.1 GB to decode.
    const n = 4_300_000;
    const attributes = Buffer.alloc(2 * n);
    for (let i = 0; i < n; i++) attributes[2 * i] = 0x32; // LogRecord.attributes (6), length-delimited, length 0
    const varint = (x: number) => {
      const out: number[] = [];
      for (; x > 127; x >>>= 7) out.push((x & 127) | 128);
      out.push(x);
      return Buffer.from(out);
    };
    const field = (tag: number, bytes: Buffer) =>
      Buffer.concat([Buffer.from([tag]), varint(bytes.length), bytes]);
    // ExportLogsServiceRequest.resource_logs (1) > ResourceLogs.scope_logs (2) > ScopeLogs.log_records (2).
    const body = field(0x0a, field(0x12, field(0x12, attributes)));
    const res = await post(`${t.serve.url}/v1/logs`, gzipSync(body), {
      ...t.auth,
      ...proto,
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(413);
    expect(decodeProtobufStatus(res.bytes).message).toBe(
      'the protobuf body holds more than 4194304 messages (one per 4 bytes of --max-body-bytes, at least 16 MiB of it): send smaller requests',
    );
    // Ordinary protobuf requests are taken as before; so is a dense one: int arrays at 4 bytes an element, as a
    // collector's batch with array attributes holds (1,000 records x 1,000 small ints, 4 MB, ~4.1 bytes a message).
    const run = 'after-protobuf-bomb';
    expect((await t.send(logsRequest(records(run, 3)))).status).toBe(200);
    expect(await storedCount(t, run)).toBe(3);
    const ints = {
      arrayValue: { values: Array.from({ length: 1000 }, (_, i) => ({ intValue: String(i % 100) })) },
    };
    const dense = 'dense-int-arrays';
    const denseRecords = Array.from({ length: 1000 }, (_, i) => ({
      attributes: [str('run', dense), str('n', String(i)), { key: 'delays', value: ints }],
    }));
    // Each such element is 4 bytes on the wire, what the bound allows per message: a body of them at the size limit
    // is never refused (per record: the LogRecord, 3 attributes of 2 messages, the ArrayValue, 1,000 values).
    const denseBody = protobufBody(logsRequest(denseRecords));
    expect(denseBody.length / (1000 * (1 + 3 * 2 + 1 + 1000))).toBeGreaterThanOrEqual(
      BODY_BYTES_PER_PROTOBUF_MESSAGE,
    );
    expect(BODY_BYTES_PER_PROTOBUF_MESSAGE).toBe(4);
    expect((await t.send(logsRequest(denseRecords))).status).toBe(200);
    expect(await storedCount(t, dense)).toBe(1000);
  });

  it('answers 400 to a JSON body of bare objects or arrays (or nested past any request) before parsing it; braces in strings are text', async () => {
    const json = { ...t.auth, 'content-type': 'application/json', 'content-encoding': 'gzip' };
    // 6.6 MB of `{},` in an ignored field: 2.2M objects (JSON.parse would build them all), more than a body at
    // the 16 MiB limit can hold at 8 bytes each.
    const bare = `{"resourceLogs":[],"x":[${'{},'.repeat(2_200_000)}{}]}`;
    const wide = await post(`${t.serve.url}/v1/logs`, gzipSync(bare), json);
    // 413, as for too many records: a sender that splits the batch gets each half taken.
    expect(wide.status).toBe(413);
    expect(wide.json?.message).toBe(
      'the JSON body holds more than 2097152 objects and arrays (one per 8 bytes of --max-body-bytes, at least 16 MiB of it): send smaller requests',
    );
    const deep = await post(
      `${t.serve.url}/v1/logs`,
      // Padded to 8 bytes per array, so the nesting bound, not the count, is what refuses it.
      gzipSync(`{"resourceLogs":[],"x":${'[       '.repeat(200_000)}${']'.repeat(200_000)}}`),
      json,
    );
    expect(deep.status).toBe(400);
    expect(deep.json?.message).toMatch(/deeper than 100000 levels/);
    // An attribute array of 20,000 nulls, as OTel exporters write it (`{}` each, 3 bytes): taken.
    const nulls = 'array-of-nulls';
    const values = Array.from({ length: 20_000 }, () => ({}));
    const withNulls = { attributes: [str('run', nulls), { key: 'arr', value: { arrayValue: { values } } }] };
    expect((await t.send(logsRequest([withNulls]), 'json')).status).toBe(200);
    expect(await storedCount(t, nulls)).toBe(1);
    // A smaller --max-body-bytes never refuses what its bodies can hold: 64 KiB of nulls is ~21k objects.
    const small = Buffer.from(
      JSON.stringify(
        logsRequest([
          {
            attributes: [
              { key: 'arr', value: { arrayValue: { values: Array.from({ length: 21_000 }, () => ({})) } } },
            ],
          },
        ]),
      ),
    );
    expect(small.length).toBeLessThan(65_536);
    expect(() => decodeJsonRequest(small, 1000, maxJsonObjects(65_536))).not.toThrow();
    // A record whose body is JSON text full of braces (an audit event's metadata): taken, stored.
    const run = 'braces-in-strings';
    const metadata = JSON.stringify({ nested: Array.from({ length: 20_000 }, () => ({ a: [{}] })) });
    const record = { attributes: [str('run', run)], body: { stringValue: metadata } };
    const taken = await t.send(logsRequest([record]), 'json');
    expect(taken.status).toBe(200);
    expect(await storedCount(t, run)).toBe(1);
  });

  it('answers 400 to a protobuf LogRecord field sent with another wire type than its schema (as pdata does)', async () => {
    // resourceLogs { scopeLogs { logRecords { severity_number (2, varint) sent length-delimited: "AB" } } }
    const body = Buffer.from([0x0a, 0x08, 0x12, 0x06, 0x12, 0x04, 0x12, 0x02, 0x41, 0x42]);
    const res = await post(`${t.serve.url}/v1/logs`, body, { ...t.auth, ...proto });
    expect(res.status).toBe(400);
    expect(decodeProtobufStatus(res.bytes).message).toMatch(
      /LogRecord: field severityNumber \(2\) has wire type length-delimited, its schema says varint/,
    );
  });
});

// The heap is measured after a full GC: V8 lets a test start one once the flag is set.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('a request waiting for its insert', () => {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-bounds-'));
  let store: AuditStore;
  beforeAll(async () => {
    store = await AuditStore.open({ path: join(dir, 'data') });
    await store.migrate({ logsEngine: 'MergeTree', rawLogsRetentionDays: 60 * 365 });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds its rows only, not its decoded body (four bodies of 90k ordinary records held 46 MB)', async () => {
    // The insert waits for the test to let it go, as one behind a slow store does; then it writes to chDB.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let waiting = 0;
    const server = await startReceiverServer({
      host: '127.0.0.1',
      port: 0,
      token: 't'.repeat(32),
      ingestAuth: 'none',
      records: 'audit',
      limits: receiverLimits(),
      insert: [
        async (rows: OtelLogRow[]) => {
          waiting += 1;
          await gate;
          await store.insertLogs(rows);
        },
      ],
      reader: store,
      log: jsonLogger(() => undefined),
    });
    try {
      // Each: 90,000 ordinary records (dropped, --records audit) and one audit record (one row to insert).
      const audit = { attributes: [str(AUDIT_MARKER_ATTRIBUTE, 'a.b.c'), str('run', 'held')] };
      const body = gzipSync(
        protobufBody(logsRequest([...Array.from({ length: 90_000 }, () => ({})), audit])),
      );
      gc();
      const before = process.memoryUsage().heapUsed;
      const sent = Array.from({ length: 4 }, () =>
        post(`${server.url}/v1/logs`, body, { ...proto, 'content-encoding': 'gzip' }),
      );
      const deadline = Date.now() + 20_000;
      // The first request's row is in the insert, the three others' wait in the queue.
      while ((waiting < 1 || server.stats().pendingRows < 4) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(server.stats().pendingRows).toBe(4);
      gc();
      const held = process.memoryUsage().heapUsed - before;
      release();
      expect((await Promise.all(sent)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
      // Held while each request's decoded tree stayed alive across its wait: 46 MB (~128 bytes a decoded empty
      // record); since: none (below what the test began with).
      expect(held).toBeLessThan(16 * 1024 * 1024);
    } finally {
      release();
      await server.close();
    }
  }, 60_000);
});

// What other local users can take: connections (each a file descriptor the engine needs too), and a data
// directory they may enter (its files are every tenant's events, without the token).
describe('--max-connections, and a data directory open to others', () => {
  let t: TestServe;
  const open = mkdtempSync(join(tmpdir(), 'receiver-open-data-'));
  beforeAll(async () => {
    chmodSync(open, 0o755);
    t = await startTestServe({
      limits: { maxConnections: 3 },
      store: { path: open },
      stateDir: mkdtempSync(join(tmpdir(), 'receiver-state-')),
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(open, { recursive: true, force: true });
  });

  it('logs a warning naming the data directory and the chmod that closes it', () => {
    const warning = t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.level === 'warn');
    expect(warning).toMatchObject({
      msg: 'the data directory is open to other users: they can copy the events without the token',
      dataDir: open,
      mode: '0755',
      fix: `chmod 700 ${open}`,
    });
  });

  it('closes connections past the limit as they come; serves again once the held ones go', async () => {
    const { port } = new URL(t.serve.url);
    // Sockets that never finish their headers (each would be held up to the 30 s headers timeout).
    const held = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const socket = connect(Number(port), '127.0.0.1');
        await once(socket, 'connect');
        socket.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\n');
        return socket;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server has taken all three
    await expect(fetch(`${t.serve.url}/health`)).rejects.toThrow();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`${t.serve.url}/health`)).status).toBe(200);
  });
});
