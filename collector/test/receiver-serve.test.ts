// startServe as a whole: what its "listening" log reports when the state directory is not the data directory;
// two insert connections (--insert-concurrency 2) storing concurrent requests exactly once in real chDB.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore, loadMigrations, runMigrations } from '@otel-audit/clickhouse';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DISCOVERY_FILE_NAME,
  jsonLogger,
  StoreNotMigratedError,
  startServe,
  TOKEN_FILE_NAME,
} from '../src/index.js';
import { type JsonObject, logsRequest, startTestServe, str, type TestServe } from './receiver-support.js';

function logLine(logs: string[], msg: string): JsonObject {
  const line = logs.map((l) => JSON.parse(l) as JsonObject).find((l) => l.msg === msg);
  if (!line) throw new Error(`no "${msg}" log line in:\n${logs.join('\n')}`);
  return line;
}

describe('serve with --state-dir apart from the data directory', () => {
  let t: TestServe;
  const stateDir = mkdtempSync(join(tmpdir(), 'receiver-state-'));
  beforeAll(async () => {
    t = await startTestServe({ stateDir });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('logs the data directory as the store and the state directory separately', () => {
    const listening = logLine(t.logs, 'listening');
    expect(listening.store).toEqual({ path: join(t.dir, 'data') });
    expect(listening.stateDir).toBe(stateDir);
    expect(listening.tokenFile).toBe(join(stateDir, TOKEN_FILE_NAME));
    expect(listening.discoveryFile).toBe(join(stateDir, DISCOVERY_FILE_NAME));
    // The token and serve.json are in the state directory, not in the data directory.
    expect(existsSync(join(stateDir, TOKEN_FILE_NAME))).toBe(true);
    expect(existsSync(join(t.dir, 'data', TOKEN_FILE_NAME))).toBe(false);
  });

  it('logs each migration as it starts, before it listens (a data copy can take minutes)', () => {
    const lines = t.logs.map((l) => JSON.parse(l) as JsonObject);
    const applying = lines.filter((l) => l.msg === 'applying migration').map((l) => l.name);
    expect(applying).toEqual(loadMigrations().map((m) => m.name));
    const at = (msg: string) => lines.findIndex((l) => l.msg === msg);
    expect(at('applying migration')).toBeLessThan(at('migrations'));
    expect(at('migrations')).toBeLessThan(at('listening'));
  });
});

describe('serve with insertConcurrency 2', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ limits: { insertConcurrency: 2, maxBatchRows: 1_000 } });
  }, 60_000);
  afterAll(async () => t?.close());

  it('stores every record of concurrent requests exactly once, with two inserts running at once', async () => {
    const requests = 24;
    const perRequest = 400;
    const runs = Array.from({ length: requests }, (_, i) => `ic2-${i}`);
    const statuses = await Promise.all(
      runs.map((run) =>
        t.send(
          logsRequest(
            Array.from({ length: perRequest }, (_, n) => ({
              timeUnixNano: '1732300000123456789',
              body: { stringValue: 'hello' },
              attributes: [str('run', run), str('n', `${run}/${n}`)],
            })),
          ),
        ),
      ),
    ).then((all) => all.map((r) => r.status));
    expect(statuses).toEqual(runs.map(() => 200));

    // Raw rows are kept (MergeTree otel_logs): every record once, none twice, none missing.
    const [row] = await t.serve.store.query<{ rows: string; distinct: string; runs: string }>(
      `SELECT count() AS rows, uniqExact(LogAttributes['n']) AS distinct, uniqExact(LogAttributes['run']) AS runs
       FROM {db}.${AUDIT_TABLES.logs} WHERE startsWith(LogAttributes['run'], 'ic2-')`,
    );
    expect(row).toEqual({
      rows: String(requests * perRequest),
      distinct: String(requests * perRequest),
      runs: String(requests),
    });
    const stats = t.serve.server.stats();
    expect(stats).toMatchObject({ committedRows: requests * perRequest, failedBatches: 0, pendingRows: 0 });

    // Both connections wrote: some two inserts overlapped in time (from the debug log: end time and duration).
    const inserts = t.logs
      .map((l) => JSON.parse(l) as JsonObject)
      .filter((l) => l.msg === 'insert committed')
      .map((l) => ({
        end: Date.parse(l.time as string),
        start: Date.parse(l.time as string) - (l.ms as number),
      }))
      .sort((a, b) => a.start - b.start);
    expect(inserts.length).toBe(stats.batches);
    const overlapping = inserts.some((a, i) => inserts.slice(i + 1).some((b) => b.start < a.end - 5));
    expect(overlapping).toBe(true);
  }, 60_000);
});

describe('serve --skip-migrations on a store that lacks migrations of this release', () => {
  it('refuses to start, naming them (reads would fail with 500s or miss rows of a half-done migration)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'receiver-unmigrated-'));
    try {
      const path = join(dir, 'data');
      const store = await AuditStore.open({ path });
      // Every migration but this release's last one.
      const last = loadMigrations().at(-1)?.name ?? '';
      await runMigrations(
        store.client,
        {},
        loadMigrations().filter((m) => m.name !== last),
      );
      await store.close();
      const logs: string[] = [];
      const start = startServe({
        store: { path },
        port: 0,
        migrate: false,
        log: jsonLogger((l) => logs.push(l)),
      });
      await expect(start).rejects.toThrow(StoreNotMigratedError);
      await expect(start).rejects.toThrow(
        /^the store needs migration \S+ \(made by an earlier release, or a migrate that did not finish\): run `otel-audit migrate` on it first \(with the same --data-dir, or --url and --database; --cluster for a cluster\), or start serve without --skip-migrations/,
      );
      expect(logs.some((l) => l.includes('"listening"'))).toBe(false);
      // It let go of the directory: a migrate can open it now.
      const after = await AuditStore.open({ path });
      expect((await after.migrationStatus()).pending).toEqual([last]);
      await after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve --skip-migrations when the store refuses the check', () => {
  it('does not start, naming the grant it needs (an access error is not an unreachable server)', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res
          .writeHead(500, { 'X-ClickHouse-Exception-Code': '497' })
          .end(
            'Code: 497. DB::Exception: serve: Not enough privileges. To execute this query, it is necessary to have the grant SELECT(version, name) ON default.otel_audit_migrations. (ACCESS_DENIED)\n',
          ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stateDir = mkdtempSync(join(tmpdir(), 'receiver-denied-'));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(
        startServe({
          store: { url: `http://127.0.0.1:${port}` },
          stateDir,
          port: 0,
          migrate: false,
          log: jsonLogger(() => undefined),
        }),
      ).rejects.toThrow(
        /^cannot check the store for pending migrations \(serve's user needs SELECT on default\.otel_audit_migrations\): .*Not enough privileges/,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('serve on a server store whose URL carries a credential in its query', () => {
  it('logs the server by its origin only and keeps the credential out of serve.json (the client takes ?access_token= from the URL)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'receiver-token-url-'));
    const lines: string[] = [];
    try {
      // Nothing listens there: serve starts all the same without migrations (reads answer 503 meanwhile).
      const serve = await startServe({
        store: { url: 'http://127.0.0.1:1/?access_token=SECRET123' },
        stateDir,
        port: 0,
        migrate: false,
        log: jsonLogger((line) => lines.push(line)),
      });
      const discovery = readFileSync(serve.discoveryFile, 'utf8');
      expect(discovery).toContain('"storeUrl": "http://127.0.0.1:1/"');
      expect(discovery).not.toContain('SECRET123');
      await serve.close();
      const listening = lines
        .map((l) => JSON.parse(l) as { msg: string; store?: unknown })
        .find((l) => l.msg === 'listening');
      expect(listening?.store).toEqual({ url: 'http://127.0.0.1:1' });
      expect(lines.join('\n')).not.toContain('SECRET123');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
