import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedClient, openClient } from '../src/connection.js';
import { loadMigrations, runMigrations } from '../src/migrations.js';
import { AuditStore } from '../src/store.js';

// What `migrate` sends a ClickHouse server, and that it survives the progress headers a long statement gets.
// No server runs on this machine: a node:http listener answers every statement with an empty 200 (a new
// database: no tables, nothing applied) and the copy of 0006 with 120 progress headers (~25 KB).

interface Received {
  query: URLSearchParams;
  body: string;
}

let server: Server;
let opened: OpenedClient;
const received: Received[] = [];
const isCopy = (body: string) => body.startsWith('INSERT INTO `default`.audit_target_keys');
// The copy fails after its progress headers went out: the status is 200 by then, the error is in the body.
let copyFails = false;
// A statement that answers only when done, silent until then (ON CLUSTER, SYSTEM SYNC REPLICA).
let silentMs = 0;
// What the server says audit_events is (the runner's first look at system.tables), when set.
let eventsEngine: string | undefined;
// Databases that do not exist yet: a request naming one is refused as a server does (404, code 81), until a
// CREATE DATABASE of it arrives.
const missingDatabases = new Set<string>();
const COPY_ERROR =
  'Code: 241. DB::Exception: Memory limit (total) exceeded: would use 9.31 GiB. (MEMORY_LIMIT_EXCEEDED)';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const query = new URL(req.url ?? '/', 'http://server').searchParams;
      received.push({ query, body });
      const named = query.get('database');
      if (named !== null && missingDatabases.has(named)) {
        res
          .writeHead(404, { 'X-ClickHouse-Exception-Code': '81' })
          .end(
            `Code: 81. DB::Exception: Database ${named} does not exist. (UNKNOWN_DATABASE) (version 26.3.1.1)\n`,
          );
        return;
      }
      const created = /^CREATE DATABASE IF NOT EXISTS `(\w+)`/.exec(body)?.[1];
      if (created !== undefined) missingDatabases.delete(created);
      const progress = Array.from({ length: isCopy(body) ? 120 : 0 }, (_, i) => [
        'X-ClickHouse-Progress',
        `{"read_rows":"${i * 1000000}","read_bytes":"${i * 48000000}","written_rows":"${i * 1000000}","written_bytes":"${i * 12000000}","total_rows_to_read":"1000000000","result_rows":"0","result_bytes":"0","elapsed_ns":"${i * 10000000000}","memory_usage":"123456789"}`,
      ]);
      const tables =
        eventsEngine !== undefined && body.startsWith('SELECT name, engine FROM system.tables')
          ? `${JSON.stringify({ name: 'audit_events', engine: eventsEngine })}\n`
          : undefined;
      setTimeout(() => {
        res
          .writeHead(200, [...progress.flat(), 'X-ClickHouse-Summary', '{"written_rows":"0"}'])
          .end(copyFails && isCopy(body) ? `${COPY_ERROR}\n` : tables);
      }, silentMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  opened = await openClient({ url: `http://127.0.0.1:${port}` });
});
afterAll(async () => {
  await opened.client.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('migrate against a server (HTTP)', () => {
  it('runs every statement with a fixed query id and progress headers, and accepts many of them', async () => {
    const result = await runMigrations(opened.client);
    expect(result.applied).toEqual(loadMigrations().map((m) => m.name));
    const copies = received.filter((r) => isCopy(r.body));
    expect(copies).toHaveLength(1);
    const [copy] = copies;
    // Its position in 0006 (after the CREATEs and the DROP VIEW), in the default database.
    expect(copy?.query.get('query_id')).toBe('otel-audit-migrate-default-0006_audit_target_keys-3');
    expect(copy?.query.get('send_progress_in_http_headers')).toBe('1');
    expect(copy?.query.get('http_headers_progress_interval_ms')).toBe('10000');
    // ON CLUSTER statements answer with no table of hosts: a body means an error.
    expect(copy?.query.get('distributed_ddl_output_mode')).toBe('none');
    // Every statement of every migration went with a query id of its own.
    const ids = received
      .map((r) => r.query.get('query_id') ?? '')
      .filter((id) => id.startsWith('otel-audit-migrate-'));
    expect(ids.length).toBe(new Set(ids).size);
    expect(ids.length).toBeGreaterThan(8);
    // 0006 is recorded last, after the retention step (none here: a new database).
    const last = received[received.length - 1];
    expect(last?.query.get('query')).toMatch(/^INSERT INTO `default`\.otel_audit_migrations/);
    expect(last?.body).toContain('"0006_audit_target_keys"');
  });

  it('waits for a silent statement as long as the target allows (requestTimeoutMs; migrate gives 10 min)', async () => {
    const { port } = server.address() as AddressInfo;
    const patient = await openClient({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: 5_000 });
    const hasty = await openClient({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: 300 });
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31])
      await expect(openClient({ url: `http://127.0.0.1:${port}`, requestTimeoutMs: bad })).rejects.toThrow(
        /^requestTimeoutMs: must be a whole number of milliseconds 1\.\.2147483647/,
      );
    silentMs = 800;
    try {
      await expect(hasty.client.command({ query: 'SYSTEM SYNC REPLICA x' })).rejects.toThrow(/Timeout/);
      await expect(patient.client.command({ query: 'SYSTEM SYNC REPLICA x' })).resolves.toBeDefined();
    } finally {
      silentMs = 0;
      await Promise.all([patient.client.close(), hasty.client.close()]);
    }
  });

  it('refuses to migrate replicated tables without their cluster, before any statement', async () => {
    received.length = 0;
    eventsEngine = 'ReplicatedReplacingMergeTree';
    try {
      await expect(runMigrations(opened.client)).rejects.toThrow(
        /^cluster: audit_events is ReplicatedReplacingMergeTree: this database was migrated with a cluster; give the same cluster \(--cluster\) so every replica gets the migration \(serve migrates without one: run `otel-audit migrate --cluster …`, then serve with --skip-migrations\)$/,
      );
    } finally {
      eventsEngine = undefined;
    }
    expect(received.map((r) => r.body.split(' ')[0])).toEqual(['SELECT']);
  });

  it('stops at a statement whose error comes in the body of a 200 (after progress headers)', async () => {
    received.length = 0;
    copyFails = true;
    try {
      await expect(runMigrations(opened.client)).rejects.toThrow(
        /migration statement otel-audit-migrate-default-0006_audit_target_keys-3 failed on the server after it had started answering: Code: 241/,
      );
    } finally {
      copyFails = false;
    }
    // Nothing after the failed copy: the old table is not dropped, 0006 is not recorded.
    const last = received[received.length - 1];
    expect(isCopy(last?.body ?? '')).toBe(true);
    expect(
      received.some((r) => r.body.includes('DROP TABLE IF EXISTS `default`.audit_events_by_target')),
    ).toBe(false);
    expect(received.some((r) => r.body.includes('0006_audit_target_keys'))).toBe(false);
  });

  it('creates a new database through a connection to default (a server refuses requests naming a missing one)', async () => {
    received.length = 0;
    missingDatabases.add('fresh_db');
    const { port } = server.address() as AddressInfo;
    const store = await AuditStore.open({ url: `http://127.0.0.1:${port}`, database: 'fresh_db' });
    try {
      // status reads a missing database as a new one (not the engine's error).
      expect(await store.status()).toMatchObject({ database: 'fresh_db', migrated: false, tables: [] });
      received.length = 0;
      await store.migrate({ cluster: 'c1' });
    } finally {
      missingDatabases.clear();
      await store.close();
    }
    // The first look at the tables is refused: the database is created then, through a connection to default
    // (the client leaves the parameter out for default: the server's default database, which exists).
    expect(received[0]?.body).toMatch(/^SELECT name, engine FROM system\.tables/);
    expect(received[1]?.body).toBe('CREATE DATABASE IF NOT EXISTS `fresh_db` ON CLUSTER `c1`');
    expect(received[1]?.query.get('database') ?? 'default').toBe('default');
    expect(received.slice(2).every((r) => r.query.get('database') === 'fresh_db')).toBe(true);
    // One CREATE DATABASE in all: a second ON CLUSTER statement would queue on every host again.
    expect(received.filter((r) => r.body.startsWith('CREATE DATABASE'))).toHaveLength(1);
    expect(received.length).toBeGreaterThan(8);
  });

  it('sends nothing that creates a database before the options are checked (bad retention, wrong cluster)', async () => {
    const { port } = server.address() as AddressInfo;
    const store = await AuditStore.open({ url: `http://127.0.0.1:${port}`, database: 'fresh_db' });
    received.length = 0;
    missingDatabases.add('fresh_db');
    try {
      await expect(store.migrate({ retentionDays: -5 })).rejects.toThrow(/^retentionDays: /);
      // Only the store's first-call check that the URL answers as ClickHouse (a constant SELECT).
      expect(received.map((r) => r.body)).toEqual(["SELECT 'otel-audit' AS handshake \nFORMAT JSONEachRow"]);
      received.length = 0;
      // An existing database of plain tables and a mistaken --cluster: refused before any DDL (a CREATE
      // DATABASE ON CLUSTER would have made an empty database on every host of that cluster).
      missingDatabases.clear();
      eventsEngine = 'ReplacingMergeTree';
      await expect(store.migrate({ cluster: 'prod' })).rejects.toThrow(/^cluster: /);
      expect(received.map((r) => r.body.split(' ')[0])).toEqual(['SELECT']);
    } finally {
      eventsEngine = undefined;
      missingDatabases.clear();
      await store.close();
    }
  });
});
