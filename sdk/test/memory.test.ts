// Loggers the application drops are collected: the process-wide exit hooks hold them weakly. A real GC run
// (--expose-gc turned on at run time) decides, observed through a FinalizationRegistry.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { exitRegistrations } from '../src/exit-flush.js';
import { createAuditLogger } from '../src/index.js';
import { AuditLogRecordProcessor } from '../src/node.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage until `done()` or a few rounds; WeakRef targets survive the job that made them. */
async function collect(done: () => boolean, rounds = 20): Promise<void> {
  for (let round = 0; round < rounds && !done(); round++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    gc();
  }
}

function pipeline() {
  const exported: ReadableLogRecord[][] = [];
  const exporter: LogRecordExporter = {
    export: (records, done) => {
      exported.push(records.slice());
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const provider = new LoggerProvider({
    processors: [new AuditLogRecordProcessor({ exporter, scheduledDelayMillis: 0 })],
  });
  return { provider, exported };
}

describe('memory', () => {
  it('collects short-lived audit loggers and removes their exit hooks', async () => {
    const { provider, exported } = pipeline();
    const baseline = exitRegistrations();
    let collected = 0;
    const registry = new FinalizationRegistry(() => {
      collected += 1;
    });
    const loggers = 2_000;
    // In a function of its own: the test's frame must not keep the last one.
    const perRequest = (i: number) => {
      const audit = createAuditLogger({ loggerProvider: provider, tenant: `t${i % 50}` });
      audit.record({ action: 'a.b.created' });
      registry.register(audit, i);
    };
    for (let i = 0; i < loggers; i++) perRequest(i);
    expect(exitRegistrations()).toBe(baseline + 2 * loggers); // beforeExit and exit, each
    await provider.forceFlush();
    exported.length = 0; // the exporter's copies would keep the records (and their loggers' trackers)
    await collect(() => collected === loggers && exitRegistrations() === baseline);
    expect(collected).toBe(loggers);
    expect(exitRegistrations()).toBe(baseline);
    await provider.shutdown();
  });

  it('frees coalescing recorders the application dropped: idle ones at once, ones with open sessions once emitted', async () => {
    const { provider, exported } = pipeline();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    let collected = 0;
    const registry = new FinalizationRegistry(() => {
      collected += 1;
    });
    const recorders = 2_000;
    // In a function of its own: the test's frame must not keep the last one.
    const perRequest = (i: number) => {
      const saves = audit.coalesce({ idleMs: 60_000 });
      if (i % 2 === 0)
        saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: `s${i}` }] });
      registry.register(saves, i);
    };
    for (let i = 0; i < recorders; i++) perRequest(i);
    expect(audit.stats().coalescing).toBe(recorders / 2);
    await collect(() => collected === recorders / 2);
    // The idle ones are gone; each with an open session is still held, to be emitted.
    expect(collected).toBe(recorders / 2);
    expect(await audit.flush()).toMatchObject({ recorded: recorders / 2, coalescing: 0, pending: 0 });
    expect(exported.flat()).toHaveLength(recorders / 2);
    exported.length = 0;
    await collect(() => collected === recorders);
    expect(collected).toBe(recorders);
    await audit.shutdown();
    await provider.shutdown();
  });

  it('keeps a logger whose coalescing recorder is still held: its open session is flushed at exit', async () => {
    const { provider, exported } = pipeline();
    const saves = createAuditLogger({ loggerProvider: provider, tenant: 'acme' }).coalesce({
      idleMs: 60_000,
    });
    saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] });
    await collect(() => false, 3);
    expect(saves.pending).toBe(1);
    process.emit('beforeExit', 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(saves.pending).toBe(0);
    expect(exported.flat()).toHaveLength(1);
    await provider.shutdown();
  });
});
