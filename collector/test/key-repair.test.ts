// The file of events whose target keys are to be rewritten (serve's key-repair-<store>.ids): whatever order
// rewrites end in, whatever a full disk cut, the next start finds every id still to do. The rewrites here are
// functions the test ends when it wants (the real rewrite against chDB is receiver-key-repair.test.ts), and the
// shutdown case runs serve against a server that never answers.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES as A } from '@otel-audit/sdk/conventions';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLogger, startServe } from '../src/receiver/index.js';
import { keyRepairFile, TargetKeyRepair } from '../src/receiver/key-repair.js';
import { serverIdentity } from '../src/receiver/state-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'key-repair-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const quiet = jsonLogger(() => undefined);
const newFile = () => join(dir, `case-${files++}.ids`);
const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const rows = (from: number, count: number) =>
  Array.from(
    { length: count },
    (_, i) => ({ LogAttributes: { [A.eventId]: id(from + i) } }) as unknown as OtelLogRow,
  );

/** What the next start would take up from `file`: every id it rewrites, drained into a set. */
async function resumed(file: string): Promise<Set<string>> {
  const next = new TargetKeyRepair(quiet, 10_000, file);
  next.resume();
  const seen = new Set<string>();
  await next.drain({
    rewriteTargetKeys: async (ids) => {
      for (const x of ids) seen.add(x);
    },
  });
  return seen;
}

/** A rewrite that ends (resolves or fails) when the test says. */
function heldRewrite() {
  let end: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    end = (error) => (error ? reject(error) : resolve());
  });
  return { rewriteTargetKeys: () => done, end };
}

describe('the key-repair file', () => {
  it('keeps ids whose rewrite is still running when another one empties the pending set, and they fail', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(0, 3000));
    const slow = heldRewrite();
    const first = repair.committed(slow); // takes 2,000
    await repair.committed({ rewriteTargetKeys: async () => undefined }); // the other 1,000: none pending now
    slow.end(new Error('disk full'));
    await first;
    expect(repair.pendingEvents).toBe(2000);
    expect((await resumed(file)).size).toBe(2000);
  });

  it('keeps an id appended after a line a full disk cut short intact', async () => {
    const file = newFile();
    writeFileSync(file, `${id(1)}\n00000000-0000-4000-80`);
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.resume();
    repair.failed(rows(2, 1));
    const next = await resumed(file);
    expect(next).toContain(id(2));
    expect(next).toContain(id(1));
  });

  it('holds every id still to do, and only those, after rewrites and new failures (no stale ids crowd them out)', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(0, 60_000));
    for (let i = 0; i < 25; i++) await repair.committed({ rewriteTargetKeys: async () => undefined });
    repair.failed(rows(100_000, 90_000));
    expect(repair.pendingEvents).toBe(100_000);
    const next = await resumed(file);
    expect(next.size).toBe(100_000);
    expect(next).toContain(id(100_000 + 89_999));
    expect(next).toContain(id(59_999));
    expect(next).not.toContain(id(0));
  });

  it('keeps an id that fails again while its rewrite runs (that rewrite may have read before it landed)', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(7, 1));
    const slow = heldRewrite();
    const running = repair.committed(slow);
    repair.failed(rows(7, 1));
    slow.end();
    await running;
    expect(repair.pendingEvents).toBe(1);
    expect(await resumed(file)).toEqual(new Set([id(7)]));
  });

  it('keeps an id two rewrites hold (it failed again mid-rewrite) until the last of them ends', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(7, 1));
    const a = heldRewrite();
    const runA = repair.committed(a);
    repair.failed(rows(7, 1));
    const b = heldRewrite();
    const runB = repair.committed(b);
    a.end();
    await runA;
    expect(repair.pendingEvents).toBe(1);
    b.end(new Error('disk full'));
    await runB;
    expect(await resumed(file)).toEqual(new Set([id(7)]));
  });

  it('keeps an id failing again mid-rewrite when 100,000 are held (it is one of them, not a new one)', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(0, 100_000));
    const held = heldRewrite();
    const running = repair.committed(held); // ids 0..1999
    repair.failed(rows(7, 1));
    held.end();
    await running;
    expect(await resumed(file)).toContain(id(7));
  });

  it('names a server by origin, path and ?pathname=, not by credentials or other client settings', () => {
    const name = (url: string) =>
      keyRepairFile(dir, JSON.stringify({ server: serverIdentity(url), database: 'd' }));
    expect(name('http://u:p@ch:8123/?request_timeout=60000')).toBe(name('http://ch:8123'));
    expect(name('http://proxy:8123/?pathname=/clusterA')).not.toBe(
      name('http://proxy:8123/?pathname=/clusterB'),
    );
  });

  it('is taken up whole at start, however long (its first lines may be ids still pending)', async () => {
    const file = newFile();
    // ~18 MB: whole writes failed for a long time while appends went on.
    writeFileSync(file, `${Array.from({ length: 500_000 }, (_, i) => id(i)).join('\n')}\n`);
    const next = new TargetKeyRepair(quiet, 10_000, file);
    next.resume();
    // Every line: 16 MiB from its end holds ~453,000.
    expect(next.pendingEvents).toBe(500_000);
  });

  it('takes ids whose append failed at the next rewrite, whenever it comes, or at flush (shutdown)', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(0, 3000));
    await repair.committed({ rewriteTargetKeys: async () => undefined });
    // The append fails (the path is a directory for a moment, as a full disk would refuse it).
    rmSync(file);
    mkdirSync(file);
    repair.failed(rows(10_000, 3000));
    rmSync(file, { recursive: true });
    expect(existsSync(file)).toBe(false);
    repair.flush();
    expect((await resumed(file)).size).toBe(4000);

    const again = new TargetKeyRepair(quiet, 10_000, file);
    again.failed(rows(0, 3000));
    rmSync(file);
    mkdirSync(file);
    again.failed(rows(10_000, 3000));
    rmSync(file, { recursive: true });
    await again.committed({ rewriteTargetKeys: async () => undefined }); // right after: not held back
    const next = await resumed(file);
    expect(next.size).toBe(4000);
    expect(next).toContain(id(12_999));
  });

  it('keeps every live id after a failed rewrite and new failures (none cut at start)', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    const ok = { rewriteTargetKeys: async () => undefined };
    repair.failed(rows(0, 100_000));
    await repair.committed(ok);
    await repair.committed({
      rewriteTargetKeys: async () => {
        throw new Error('store down');
      },
    });
    await repair.committed(ok);
    repair.failed(rows(200_000, 4000));
    const next = await resumed(file);
    for (const live of [2000, 3999, 99_999, 200_000, 201_999]) expect(next).toContain(id(live));
    expect(next.size).toBe(repair.pendingEvents);
  });

  it('is left as it is by a rewrite that ends after stop (shutdown passed its deadline)', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(0, 3));
    const before = readFileSync(file, 'utf8');
    const slow = heldRewrite();
    const running = repair.committed(slow);
    repair.stop();
    slow.end();
    await running;
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('is removed once every id is rewritten', async () => {
    const file = newFile();
    const repair = new TargetKeyRepair(quiet, 10_000, file);
    repair.failed(rows(0, 10));
    await repair.committed({ rewriteTargetKeys: async () => undefined });
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });
});

describe('shutdown while the start-up rewrite waits on a server that never answers', () => {
  const sockets: Socket[] = [];
  let silent: Server | undefined;
  afterAll(() => {
    for (const s of sockets) s.destroy();
    silent?.close();
  });

  it('takes no longer than the shutdown timeout', async () => {
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent?.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    const stateDir = join(dir, 'silent-state');
    const serve = await startServe({
      store: { url, requestTimeoutMs: 3_000 },
      stateDir,
      port: 0,
      migrate: false,
      limits: { shutdownTimeoutMs: 300 },
      log: quiet,
    });
    // An earlier serve of this store left an id: written after start, taken up by the next one.
    // Named by the server's address without client settings or credentials, and the database.
    const file = keyRepairFile(stateDir, JSON.stringify({ server: `${url}/`, database: 'default' }));
    writeFileSync(file, `${id(1)}\n`);
    await serve.close();
    // The same server, given with credentials and a client setting: the same store, the same file.
    const sameServer = `http://user:secret@127.0.0.1:${port}/?request_timeout=3000`;
    const logs: string[] = [];
    const again = await startServe({
      store: { url: sameServer, requestTimeoutMs: 3_000 },
      stateDir,
      port: 0,
      migrate: false,
      limits: { shutdownTimeoutMs: 300 },
      log: jsonLogger((line) => logs.push(line), 'debug'),
    });
    expect(logs.some((l) => l.includes('resuming the rewrite of target keys'))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the rewrite is waiting on the server
    // A second serve of the same server in the same state directory is refused: they would replace each other's
    // serve.json and key-repair file.
    await expect(
      startServe({ store: { url: sameServer }, stateDir, port: 0, migrate: false, log: quiet }),
    ).rejects.toThrow(/is in use by another running otel-audit serve/);
    const started = performance.now();
    await again.close();
    // Without the bound, close() waited for the rewrite's request timeout (3 s here, 30 s by default).
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(readFileSync(file, 'utf8')).toContain(id(1));
  }, 60_000);
});
