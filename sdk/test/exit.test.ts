// A process that records and then simply ends (no shutdown call): the logger flushes on `beforeExit`, so
// queued and coalesced events still reach the endpoint.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capture, eventIds, heldEndpoint } from './support.js';

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

// An untracked pipeline (the service's own BatchLogRecordProcessor on the global provider, whose timer does not
// keep the process alive): the logger's beforeExit flush still sends what it holds.
const childUntracked = `
import { logs } from '@opentelemetry/api';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAuditLogger } from '@otel-audit/sdk';
import { AuditOTLPLogExporter } from '@otel-audit/sdk/node';
const exporter = new AuditOTLPLogExporter({ url: process.env.ENDPOINT + '/v1/logs' });
logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter })] }));
const audit = createAuditLogger({ tenant: 'acme' });
console.log(JSON.stringify(Array.from({ length: 5 }, (_, i) => audit.record({ action: 'a.b.created', metadata: { i } }).id)));
`;

// The application's own pipeline fails its flush (a processor whose forceFlush rejects): the beforeExit flush
// nobody awaits reports it through diag, and the process ends as it would have (code 0, no unhandled rejection).
const childFlushFails = `
import { diag, DiagConsoleLogger, DiagLogLevel, logs } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAuditLogger } from '@otel-audit/sdk';
diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.ERROR);
// It holds what it was given, as a batching processor does (which, registered globally, keeps the logger's
// exit hooks alive through the records).
const held = [];
const failing = { onEmit: (r) => held.push(r), forceFlush: () => Promise.reject(new Error('disk full')), shutdown: async () => {} };
logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [failing] }));
const audit = createAuditLogger({ tenant: 'acme' });
audit.record({ action: 'a.b.created' });
process.on('exit', () => console.log(JSON.stringify(audit.stats())));
`;

// Records made after the SDK's exit hooks ran (no I/O any more): reported dropped (exit) at once, never left
// pending. MODE untracked: from the application's own exit listener, through an untracked pipeline; MODE
// on-error: from onError while the processor reports what the down endpoint never took (before the logger's hook).
const childLate = `
import { logs } from '@opentelemetry/api';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAuditLogger } from '@otel-audit/sdk';
import { AuditOTLPLogExporter, createAuditLoggerProvider } from '@otel-audit/sdk/node';
const untracked = process.env.MODE === 'untracked';
const loggerProvider = untracked
  ? new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new AuditOTLPLogExporter({ url: process.env.ENDPOINT + '/v1/logs' }) })] })
  : createAuditLoggerProvider({ endpoint: process.env.ENDPOINT, timeoutMillis: 300 });
const drops = [];
const audit = createAuditLogger({ loggerProvider, tenant: 'acme',
  onDrop: (events, reason) => drops.push({ reason, actions: events.map((e) => e.action) }),
  onError: () => { audit.record({ action: 'audit.delivery.failed' }); } });
if (untracked) process.on('exit', () => { audit.record({ action: 'app.process.exited' }); });
else audit.record({ action: 'a.b.created' });
process.on('exit', () => console.log(JSON.stringify({ drops, stats: audit.stats() })));
`;

// Occurrences given to coalescing recorders after the exit hooks ran (from the application's own exit listener):
// a recorder idle at exit and one created after it. No exit hook runs any more to emit or report a session they
// would open, so each occurrence is dropped (exit) at once.
const childLateCoalesce = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT, timeoutMillis: 300 });
const drops = [];
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme',
  onDrop: (events, reason) => drops.push({ reason, actions: events.map((e) => e.action) }) });
const idle = audit.coalesce({ idleMs: 60_000 });
process.on('exit', () => {
  idle.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] });
  audit.coalesce({ idleMs: 60_000 }).record({ action: 'docs.sheet.viewed', targets: [{ type: 'sheet', id: 's1' }] });
});
process.on('exit', () => console.log(JSON.stringify({ drops, stats: audit.stats() })));
`;

// An untracked pipeline registered globally after the logger was created, and an application beforeExit listener
// that records 3 more events (once) while the logger's beforeExit flush runs: the next beforeExit flushes those.
const childUntrackedDuringFlush = `
import { logs } from '@opentelemetry/api';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAuditLogger } from '@otel-audit/sdk';
import { AuditOTLPLogExporter } from '@otel-audit/sdk/node';
const audit = createAuditLogger({ tenant: 'acme' });
const exporter = new AuditOTLPLogExporter({ url: process.env.ENDPOINT + '/v1/logs', timeoutMillis: 1000 });
logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter })] }));
const ids = Array.from({ length: 5 }, (_, i) => audit.record({ action: 'a.b.created', metadata: { i } }).id);
process.once('beforeExit', () => {
  for (let i = 0; i < 3; i++) ids.push(audit.record({ action: 'a.b.updated', metadata: { i } }).id);
});
process.on('exit', () => console.log(JSON.stringify(ids)));
`;

// An application beforeExit listener that records every time: each flush's work ends in another beforeExit.
const childRecordsAtEveryBeforeExit = `
import { logs } from '@opentelemetry/api';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAuditLogger } from '@otel-audit/sdk';
import { AuditOTLPLogExporter } from '@otel-audit/sdk/node';
const audit = createAuditLogger({ tenant: 'acme' });
const exporter = new AuditOTLPLogExporter({ url: process.env.ENDPOINT + '/v1/logs', timeoutMillis: 1000 });
logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter })] }));
audit.record({ action: 'a.b.created' });
let n = 0;
process.on('beforeExit', () => {
  n += 1;
  audit.record({ action: 'app.process.stopping' });
});
// Unref'd: fires only if something else keeps the process alive (the flushes), and says so by its code.
setTimeout(() => process.exit(9), 10_000).unref();
process.on('exit', () => console.log(JSON.stringify({ beforeExit: n })));
`;

const endpoints: { close: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const e of endpoints) await e.close();
});

async function runChild(script: string, env: Record<string, string>) {
  const proc = spawn(
    process.execPath,
    ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ...env } },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  // 'close', not 'exit': the output is all read only once the pipes close.
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  return { code, out, err };
}

// process.exit() while an export is under way (the endpoint holds its answer): those records may be stored.
const childExitMidExport = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT, processor: { scheduledDelayMillis: 60_000 } });
const errors = [];
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false,
  onError: (error, events) => errors.push({ message: error.message, n: events.length }) });
for (let i = 0; i < 3; i++) audit.record({ action: 'a.b.created' });
void audit.flush();
setTimeout(() => {
  for (let i = 0; i < 2; i++) audit.record({ action: 'a.b.updated' });
  process.on('exit', () => console.log(JSON.stringify({ errors, stats: audit.stats() })));
  process.exit(0);
}, Number(process.env.WAIT_MS));
`;

// An occurrence given to a coalescing recorder while audit.shutdown() flushes: its session is emitted after the
// flush, when no export is under way; the process then ends on its own without the provider's shutdown, and the
// beforeExit flush delivers it (the processor's timer does not keep a process alive).
const childRecordsDuringShutdown = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT });
const reported = [];
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme',
  onError: (error, events) => reported.push({ error: error.message, n: events.length }),
  onDrop: (events, reason) => reported.push({ reason, n: events.length }) });
const saves = audit.coalesce({ idleMs: 60_000 });
const ids = [audit.record({ action: 'a.b.created' }).id];
const done = audit.shutdown();
ids.push(saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] }).id);
const returned = await done;
process.on('exit', () => console.log(JSON.stringify({ ids, reported, returned, stats: audit.stats() })));
`;

// shutdown() with an endpoint that never answers (its flush delivers nothing), then the process ends on its own.
const childShutdownEndpointSilent = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT, timeoutMillis: 500 });
const errors = [];
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme',
  onError: (error, events) => errors.push({ message: error.message, n: events.length }) });
audit.record({ action: 'a.b.created' });
const returned = await audit.shutdown();
process.on('exit', () => console.log(JSON.stringify({ errors, returned, stats: audit.stats() })));
`;

// An untracked pipeline shut down in order (audit.shutdown(), then the provider's), with a record and a coalescing
// session open: nothing is flushed at exit, so OTel warns of no flush after its provider's shutdown.
const childUntrackedShutdown = `
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { BatchLogRecordProcessor, InMemoryLogRecordExporter, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAuditLogger } from '@otel-audit/sdk';
const said = [];
const note = (...args) => said.push(args.map(String).join(' '));
diag.setLogger({ error: note, warn: note, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
const exporter = new InMemoryLogRecordExporter();
const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter })] });
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme' });
audit.record({ action: 'a.b.created' });
audit.coalesce({ idleMs: 60_000 }).record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] });
await audit.shutdown();
const exported = exporter.getFinishedLogRecords().length; // the in-memory exporter forgets them at shutdown
await provider.shutdown();
process.on('exit', () => console.log(JSON.stringify({ said, exported, stats: audit.stats() })));
`;

// Nothing pending when shutdown() is called; a record made while it flushes (MODE=untracked: through the
// application's own BatchLogRecordProcessor); the process then ends on its own without the provider's shutdown.
const childRecordDuringIdleShutdown = `
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAuditLogger } from '@otel-audit/sdk';
import { AuditOTLPLogExporter, createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = process.env.MODE === 'untracked'
  ? new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new AuditOTLPLogExporter({ url: process.env.ENDPOINT + '/v1/logs' }) })] })
  : createAuditLoggerProvider({ endpoint: process.env.ENDPOINT });
const reported = [];
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme',
  onError: (error, events) => reported.push({ error: error.message, n: events.length }) });
const done = audit.shutdown();
const ids = [audit.record({ action: 'a.b.updated' }).id];
await done;
process.on('exit', () => console.log(JSON.stringify({ ids, reported })));
`;

describe('flush on exit', () => {
  it('process.exit() during an export: its records are reported unconfirmed (maybe stored), the queued ones undelivered', async () => {
    const endpoint = await heldEndpoint();
    endpoints.push(endpoint);
    const { code, out, err } = await runChild(childExitMidExport, { ENDPOINT: endpoint.url, WAIT_MS: '300' });
    expect(code, err).toBe(0);
    expect(endpoint.received).toBe(1); // the request reached the endpoint: it could have stored it
    const { errors, stats } = JSON.parse(out) as { errors: { message: string; n: number }[]; stats: object };
    expect(errors).toEqual([
      {
        message:
          'unconfirmed at process exit: 3 record(s) were being sent and no answer came; the endpoint may have stored ' +
          'them (recording them again with the same id is safe: the store keeps one)',
        n: 3,
      },
      { message: 'undelivered at process exit: 2 record(s) still held', n: 2 },
    ]);
    expect(stats).toMatchObject({ recorded: 5, failed: 5, pending: 0 });
  }, 30_000);

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

  it('delivers a session coalesced while shutdown() flushed when the process then ends without the provider shutdown', async () => {
    const endpoint = await capture();
    endpoints.push(endpoint);
    const { code, out, err } = await runChild(childRecordsDuringShutdown, { ENDPOINT: endpoint.url });
    expect(code, err).toBe(0);
    const { ids, reported, returned, stats } = JSON.parse(out) as {
      ids: string[];
      reported: unknown[];
      returned: object;
      stats: object;
    };
    expect(reported).toEqual([]);
    // shutdown() waited for what it held; the session emitted after its flush was still the pipeline's.
    expect(returned).toMatchObject({ recorded: 2, exported: 1, pending: 1 });
    expect(stats).toMatchObject({ recorded: 2, exported: 2, pending: 0 });
    expect(eventIds(endpoint).sort()).toEqual([...ids].sort());
  }, 30_000);

  for (const mode of ['tracked', 'untracked'])
    it(`delivers at exit a record made while an idle shutdown() flushed (${mode} pipeline, no provider shutdown)`, async () => {
      const endpoint = await capture();
      endpoints.push(endpoint);
      const { code, out, err } = await runChild(childRecordDuringIdleShutdown, {
        ENDPOINT: endpoint.url,
        MODE: mode,
      });
      expect(code, err).toBe(0);
      const { ids, reported } = JSON.parse(out) as { ids: string[]; reported: unknown[] };
      expect(reported).toEqual([]);
      expect(eventIds(endpoint)).toEqual(ids);
    }, 30_000);

  it('makes no second attempt at exit after a shutdown() whose flush delivered nothing (endpoint not answering)', async () => {
    const endpoint = await heldEndpoint();
    endpoints.push(endpoint);
    const { code, out, err } = await runChild(childShutdownEndpointSilent, { ENDPOINT: endpoint.url });
    expect(code, err).toBe(0);
    // One request: shutdown()'s attempt. The beforeExit flush waited out the exporter's timeout a second time.
    expect(endpoint.received).toBe(1);
    const { errors, returned, stats } = JSON.parse(out) as {
      errors: unknown[];
      returned: object;
      stats: object;
    };
    expect(returned).toMatchObject({ recorded: 1, exported: 0, pending: 1 });
    expect(stats).toMatchObject({ recorded: 1, failed: 1, pending: 0 });
    expect(errors).toHaveLength(1);
  }, 30_000);

  it('an untracked pipeline shut down in order is not flushed again at exit (OTel warned of a flush after shutdown)', async () => {
    const { code, out, err } = await runChild(childUntrackedShutdown, {});
    expect(code, err).toBe(0);
    const { said, exported } = JSON.parse(out) as { said: string[]; exported: number };
    expect(exported).toBe(2);
    // Only the warning every untracked pipeline gets, not OTel's about a flush after its provider's shutdown.
    expect(said.filter((line) => !line.includes('no delivery-tracking processor'))).toEqual([]);
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

  it("flushes an untracked pipeline (the service's own BatchLogRecordProcessor) when the process ends on its own", async () => {
    const endpoint = await capture();
    endpoints.push(endpoint);
    const { code, out, err } = await runChild(childUntracked, { ENDPOINT: endpoint.url });
    expect(code, err).toBe(0);
    const recorded = JSON.parse(out) as string[];
    expect(recorded).toHaveLength(5);
    expect(eventIds(endpoint).sort()).toEqual([...recorded].sort());
  }, 30_000);

  it('reports a failed flush at exit through diag; the process still ends with code 0', async () => {
    const { code, err, out } = await runChild(childFlushFails, {});
    expect(code, err).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ recorded: 1, pending: 1, tracked: false });
    expect(err).toContain('the flush at exit failed');
    expect(err).toContain('disk full');
  }, 30_000);

  it('reports a record made after the exit hooks ran as dropped (exit), never pending: app exit listener, onError at exit', async () => {
    const down = await capture();
    await down.close();
    const [untracked, onError] = await Promise.all(
      ['untracked', 'on-error'].map(async (mode) => {
        const { code, out, err } = await runChild(childLate, { ENDPOINT: down.url, MODE: mode });
        expect(code, err).toBe(0);
        return JSON.parse(out) as { drops: object[]; stats: object };
      }),
    );
    expect(untracked?.drops).toEqual([{ reason: 'exit', actions: ['app.process.exited'] }]);
    expect(untracked?.stats).toMatchObject({ recorded: 1, dropped: 1, pending: 0, tracked: false });
    expect(onError?.drops).toEqual([{ reason: 'exit', actions: ['audit.delivery.failed'] }]);
    expect(onError?.stats).toMatchObject({ recorded: 2, failed: 1, dropped: 1, pending: 0 });
  }, 30_000);

  it('drops (exit) occurrences given after the exit hooks ran to a coalescing recorder, idle or created then', async () => {
    const down = await capture();
    await down.close();
    const { code, out, err } = await runChild(childLateCoalesce, { ENDPOINT: down.url });
    expect(code, err).toBe(0);
    const { drops, stats } = JSON.parse(out) as { drops: object[]; stats: object };
    expect(drops).toEqual([
      { reason: 'exit', actions: ['docs.sheet.saved'] },
      { reason: 'exit', actions: ['docs.sheet.viewed'] },
    ]);
    expect(stats).toMatchObject({ recorded: 2, dropped: 2, coalescing: 0, pending: 0 });
  }, 30_000);

  it('an untracked pipeline with an app beforeExit listener that records every time still ends (one follow-up flush)', async () => {
    const endpoint = await capture();
    endpoints.push(endpoint);
    const { code, out, err } = await runChild(childRecordsAtEveryBeforeExit, { ENDPOINT: endpoint.url });
    expect(code, `${out}${err}`).toBe(0);
    expect((JSON.parse(out) as { beforeExit: number }).beforeExit).toBeLessThanOrEqual(4);
  }, 30_000);

  it('flushes again on exit what an untracked pipeline got during the beforeExit flush (an app beforeExit listener)', async () => {
    const endpoint = await capture();
    endpoints.push(endpoint);
    const { code, out, err } = await runChild(childUntrackedDuringFlush, { ENDPOINT: endpoint.url });
    expect(code, err).toBe(0);
    const recorded = JSON.parse(out) as string[];
    expect(recorded).toHaveLength(8);
    expect(eventIds(endpoint).sort()).toEqual([...recorded].sort());
  }, 30_000);
});
