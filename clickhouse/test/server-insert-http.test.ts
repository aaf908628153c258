import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedClient } from '../src/connection.js';
import { insertLogs, OTEL_LOG_COLUMNS } from '../src/otel-logs.js';
import { logRow } from './support.js';

// The HTTP request insertLogs sends to a ClickHouse server. No server runs on this machine, so a node:http
// listener records what arrives; how the engine stores these bytes is tested on chDB (otel-logs.test.ts).

interface Received {
  query: URLSearchParams;
  body: string;
}

let server: Server;
let client: ClickHouseClient;
let opened: OpenedClient;
const received: Received[] = [];
let answer: 'ok' | 'error' = 'ok';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        query: new URL(req.url ?? '/', 'http://server').searchParams,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (answer === 'ok') {
        res.writeHead(200, { 'X-ClickHouse-Summary': '{"written_rows":"2"}' }).end();
        return;
      }
      res
        .writeHead(500, { 'X-ClickHouse-Exception-Code': '27' })
        .end(
          "Code: 27. DB::Exception: Cannot parse input: expected '['. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)\n",
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = createClient({
    url: `http://127.0.0.1:${port}`,
    request_timeout: 5_000,
    log: { level: ClickHouseLogLevel.OFF },
  });
  opened = { client, database: 'audit', db: '`audit`' };
});
afterAll(async () => {
  await client.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('insertLogs to a ClickHouse server (HTTP)', () => {
  it('sends one INSERT … FORMAT JSONCompactEachRow with the settings in the URL and the rows as the body', async () => {
    answer = 'ok';
    const rows = [
      logRow({ id: '0193a5b0-0000-7000-8000-000000000001', attributes: { '10': 'ten', '2': 'two' } }),
      logRow({ id: '0193a5b0-0000-7000-8000-000000000002' }),
    ];
    await insertLogs(opened, rows);
    const request = received.at(-1);
    expect(request?.query.get('query')).toBe(
      `INSERT INTO \`audit\`.otel_logs (${OTEL_LOG_COLUMNS.join(', ')}) FORMAT JSONCompactEachRow`,
    );
    // The settings every insert relies on (BASE_SETTINGS).
    expect(request?.query.get('session_timezone')).toBe('UTC');
    expect(request?.query.get('wait_end_of_query')).toBe('1');
    expect(request?.query.get('async_insert')).toBe('0');
    expect(request?.query.get('optimize_on_insert')).toBe('0');
    const lines = request?.body.split('\n') ?? [];
    expect(lines).toHaveLength(2);
    const cells = JSON.parse(lines[1] ?? '') as unknown[];
    expect(cells).toHaveLength(OTEL_LOG_COLUMNS.length);
    expect(cells[OTEL_LOG_COLUMNS.indexOf('Timestamp')]).toMatch(/^\d{19}$/);
    // Array-index keys in byte order, as the exporter writes them (JSON.parse would reorder them: raw text).
    expect(lines[0]).toContain('{"10":"ten","2":"two","audit.');
  });

  it('rejects with the server error when the server refuses the insert', async () => {
    answer = 'error';
    await expect(insertLogs(opened, [logRow()])).rejects.toThrow(/Cannot parse input/);
    answer = 'ok';
    await insertLogs(opened, [logRow()]);
    expect(received.at(-1)?.body.split('\n')).toHaveLength(1);
  });
});
