// A process that records and then simply ends (no shutdown call): the logger flushes on `beforeExit`, so
// queued and coalesced events still reach the endpoint.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capture, eventIds } from './support.js';

const child = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT });
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme' });
const ids = [audit.record({ action: 'a.b.created' }).id, audit.record({ action: 'a.b.updated' }).id];
const saves = audit.coalesce({ idleMs: 60_000 });
for (let i = 0; i < 3; i++) ids.push(saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] }).id);
console.log(JSON.stringify([...new Set(ids)]));
`;

// The endpoint is down: the beforeExit flush cannot deliver, and the process ends anyway.
const childDown = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT, timeoutMillis: 500 });
const reported = [];
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme',
  onError: (error, events) => reported.push(...events.map((e) => e.id)) });
const ids = [audit.record({ action: 'a.b.created' }).id, audit.record({ action: 'a.b.updated' }).id];
process.on('exit', () => console.log(JSON.stringify({ ids, reported, stats: audit.stats() })));
`;

// The endpoint is down and a coalescing session is open: the exit flush emits it, and is not tried again.
const childDownSession = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT, timeoutMillis: 300 });
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', onError: () => {} });
let flushes = 0;
const flush = audit.flush;
audit.flush = () => { flushes += 1; return flush(); };
audit.record({ action: 'a.b.created' });
audit.coalesce({ idleMs: 60_000 }).record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] });
process.on('exit', () => console.log(JSON.stringify({ flushes, stats: audit.stats() })));
`;

// Coalescing sessions still open when the process ends without the beforeExit flush (MODE: process.exit(), an
// uncaught exception, or flushOnExit: false): reported dropped (reason exit), never lost without a word.
const childOpenSessions = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT, timeoutMillis: 500 });
const drops = [];
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: process.env.MODE !== 'no-flush',
  onDrop: (events, reason) => drops.push({ reason, ids: events.map((e) => e.id) }) });
const saves = audit.coalesce({ idleMs: 60_000 });
const sessions = [...new Set([
  saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] }).id,
  saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] }).id,
  saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's2' }] }).id,
])];
const before = audit.stats();
process.on('exit', () => console.log(JSON.stringify({ sessions, before, drops, stats: audit.stats() })));
if (process.env.MODE === 'exit') process.exit(0);
if (process.env.MODE === 'throw') setTimeout(() => { throw new Error('crash'); }, 1);
`;

const endpoints: { close: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const e of endpoints) await e.close();
});

describe('flush on exit', () => {
  it('delivers queued and coalesced events of a process that ends without calling shutdown()', async () => {
    const endpoint = await capture();
    endpoints.push(endpoint);
    const proc = spawn(
      process.execPath,
      ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', child],
      {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, ENDPOINT: endpoint.url },
      },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(0);
    const recorded = JSON.parse(out) as string[];
    expect(recorded).toHaveLength(3);
    expect(eventIds(endpoint).sort()).toEqual([...recorded].sort());
  }, 30_000);

  it('reports what is still undelivered when the process ends with the endpoint down', async () => {
    const down = await capture();
    await down.close(); // a port nothing listens on
    const proc = spawn(
      process.execPath,
      ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', childDown],
      { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ENDPOINT: down.url } },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(0);
    const { ids, reported, stats } = JSON.parse(out) as {
      ids: string[];
      reported: string[];
      stats: { failed: number; pending: number; exported: number };
    };
    expect(reported.sort()).toEqual([...ids].sort());
    expect(stats).toMatchObject({ exported: 0, failed: 2, pending: 0 });
  }, 30_000);

  it('reports coalescing sessions still open at exit as dropped (exit) after process.exit(), a crash, or with flushOnExit: false', async () => {
    const endpoint = await capture();
    endpoints.push(endpoint);
    const run = async (mode: string) => {
      const proc = spawn(
        process.execPath,
        [
          '--conditions=@otel-audit/source',
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          childOpenSessions,
        ],
        { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ENDPOINT: endpoint.url, MODE: mode } },
      );
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
      return {
        code,
        ...(JSON.parse(out) as { sessions: string[]; before: object; drops: object[]; stats: object }),
      };
    };
    const runs = await Promise.all(['exit', 'throw', 'no-flush'].map(run));
    expect(runs.map((r) => r.code)).toEqual([0, 1, 0]);
    for (const { sessions, before, drops, stats } of runs) {
      expect(sessions).toHaveLength(2);
      expect(before).toMatchObject({ recorded: 0, coalescing: 2, pending: 0 });
      expect(drops).toEqual([{ reason: 'exit', ids: sessions }]);
      expect(stats).toMatchObject({ recorded: 2, dropped: 2, coalescing: 0, pending: 0 });
    }
    expect(eventIds(endpoint)).toEqual([]);
  }, 30_000);

  it('flushes once on exit with the endpoint down, also when that flush emitted an open session', async () => {
    const down = await capture();
    await down.close();
    const proc = spawn(
      process.execPath,
      ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', childDownSession],
      { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ENDPOINT: down.url } },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    expect(await new Promise<number | null>((resolve) => proc.on('exit', resolve))).toBe(0);
    const { flushes, stats } = JSON.parse(out) as { flushes: number; stats: { failed: number } };
    // Each try waits out the exporter (its retries within timeoutMillis): a second one only delays the exit.
    expect(flushes).toBe(1);
    expect(stats).toMatchObject({ failed: 2, pending: 0 });
  }, 30_000);
});
