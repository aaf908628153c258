// --shutdown-timeout bounds the whole shutdown, also when an insert never returns (a ClickHouse server that
// stopped answering): connections are closed, what was not acknowledged is logged and reported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore, type OtelLogRow } from '@otel-audit/clickhouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger, receiverLimits, startReceiverServer } from '../src/index.js';
import { type JsonObject, logsRequest, post, protobufBody } from './receiver-support.js';

describe('shutdown with an insert that never returns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-shutdown-'));
  let store: AuditStore;
  beforeAll(async () => {
    store = await AuditStore.open({ path: join(dir, 'data') });
    await store.migrate({});
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(insert: (rows: OtelLogRow[]) => Promise<void>) {
    const lines: JsonObject[] = [];
    const s = await startReceiverServer({
      host: '127.0.0.1',
      port: 0,
      token: 't'.repeat(32),
      ingestAuth: 'none',
      records: 'all',
      limits: receiverLimits({ shutdownTimeoutMs: 1000 }),
      insert: [insert],
      reader: store,
      log: jsonLogger((line) => lines.push(JSON.parse(line) as JsonObject)),
    });
    return { s, lines };
  }
  const body = () => protobufBody(logsRequest([{ body: { stringValue: 'x' } }]));
  const proto = { 'content-type': 'application/x-protobuf' };

  it('resolves at the timeout, cuts the waiting request off unacknowledged, and reports its rows', async () => {
    let inserts = 0;
    const { s, lines } = await server(() => {
      inserts += 1;
      return new Promise<void>(() => undefined);
    });
    const sent = post(`${s.url}/v1/logs`, body(), proto).then(
      (r) => r.status,
      (error: Error) => error.name,
    );
    const deadline = Date.now() + 10_000;
    while (inserts === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    const report = await Promise.race([
      s.close(),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000)),
    ]);
    expect(report).toEqual({ clean: false, unacknowledgedRows: 1 });
    expect(performance.now() - started).toBeLessThan(2_500);
    // The sender saw its connection closed, never a 200: it sends the records again.
    expect(await sent).toBe('TypeError');
    expect(
      lines.find((l) => l.msg === 'shutdown timeout: inserts still running, their rows not acknowledged'),
    ).toMatchObject({ level: 'error', unacknowledgedRows: 1 });
  }, 20_000);

  it('reports a clean shutdown when every insert finished', async () => {
    const { s } = await server((rows) => store.insertLogs(rows));
    expect((await post(`${s.url}/v1/logs`, body(), proto)).status).toBe(200);
    expect(await s.close()).toEqual({ clean: true, unacknowledgedRows: 0 });
  });
});
