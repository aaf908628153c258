// `npm run bench -- pipeline [--events N] [--producers N] [--producer sdk|otel] [--batch N] [--chunk N]
//   [--engine-rows N] [--max-batch-rows N] [--insert-concurrency N] [--dir PATH] [--help]`
//
// SDK → OTLP/HTTP → `otel-audit serve` (a child process on its own chDB directory) → chDB, sustained for N
// events (default 1,000,000). Producers (one per simulated service instance) record `--chunk` events, then
// flush, in a loop: `--producer sdk` (default) through `createAuditLogger` + `createAuditLoggerProvider` of
// @otel-audit/sdk, `--producer otel` through a plain OTel JS LoggerProvider emitting per the conventions.
//
// Measured:
// - events_per_s: N / (first record() → last acknowledgement).
// - p50/p99_ms_to_queryable: per event, acknowledgement time − record() time. serve acknowledges only after
//   the insert (and the views' inserts) committed, so an acknowledged event is queryable; the bench checks it
//   by fetching a sample of acknowledged events from serve's query API right after their ack.
// - serve_peak_rss_mb: VmHWM of the serve process (Linux /proc).
// - engine_insert_rows_per_s: afterwards, in this process, insertLogs of the same kind of rows (built by the
//   receiver's own conversion) into a fresh directory, batches of the receiver's default group size;
//   events_vs_engine_insert = events_per_s / engine_insert_rows_per_s, the pipeline against that baseline.
// Progress on stderr; the last stdout line is the JSON summary.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditStore, type OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES as A, AUDIT_SCOPE_NAME, CONVENTIONS_VERSION } from '@otel-audit/sdk/conventions';
import { benchOptions } from '../../scripts/bench-options.js';
import {
  DEFAULT_LIMITS,
  decodeJsonValue,
  readDiscovery,
  requestToRows,
  TOKEN_FILE_NAME,
} from '../src/receiver/index.js';
import { BENCH_TENANT, createOtelProducer } from './pipeline-producer.js';
import { createSdkProducer } from './pipeline-producer-sdk.js';

const USAGE = `usage: npm run bench -- pipeline [options]
  --events N                events sent end to end, 1..100000000 (default 1000000)
  --producers N             producers (simulated service instances), 1..64 (default 4)
  --producer sdk|otel       record through @otel-audit/sdk or a plain OTel JS LoggerProvider (default sdk)
  --batch N                 records per OTLP export, 1..100000 (default 1000)
  --chunk N                 events a producer records before it flushes, 1..1000000 (default 2000)
  --engine-rows N           rows of the engine-only insert baseline, 1..10000000, at most max(--events, 50000)
                            (default 300000)
  --max-batch-rows N        serve's --max-batch-rows, 1..1000000 (default: serve's, ${DEFAULT_LIMITS.maxBatchRows})
  --insert-concurrency N    serve's --insert-concurrency, 1..64 (default: serve's, ${DEFAULT_LIMITS.insertConcurrency})
  --dir PATH                keep serve's and the baseline's data in PATH (a new or empty directory; default a
                            temporary one, removed at exit)
  --help                    this text`;
// Checked before serve is started.
const { values, usageError, whole, requireEmptyDir } = benchOptions('pipeline', USAGE, {
  events: { type: 'string', default: '1000000' },
  producers: { type: 'string', default: '4' },
  producer: { type: 'string', default: 'sdk' },
  batch: { type: 'string', default: '1000' },
  chunk: { type: 'string', default: '2000' },
  'engine-rows': { type: 'string', default: '300000' },
  'max-batch-rows': { type: 'string' },
  'insert-concurrency': { type: 'string' },
  dir: { type: 'string' },
});
const N = whole('events', 1, 100_000_000);
const PRODUCERS = whole('producers', 1, 64);
const BATCH = whole('batch', 1, 100_000);
const CHUNK = whole('chunk', 1, 1_000_000);
const ENGINE_ROWS = Math.min(whole('engine-rows', 1, 10_000_000), Math.max(N, 50_000));
// Passed on to serve as the canonical number (serve checks them too, but only once it has started).
const serveFlags = (['max-batch-rows', 'insert-concurrency'] as const).flatMap((name) =>
  values[name] === undefined
    ? []
    : [`--${name}`, String(whole(name, 1, name === 'insert-concurrency' ? 64 : 1_000_000))],
);
const producerKind =
  values.producer === 'sdk' || values.producer === 'otel'
    ? values.producer
    : usageError(`--producer must be sdk or otel, got "${values.producer}"`);
// A previous run's rows would be counted as stored by this one.
requireEmptyDir(values.dir);

const log = (message: string) => process.stderr.write(`[pipeline bench] ${message}\n`);
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'otel-audit-pipeline-'));
let serve: ChildProcess | undefined;
process.on('exit', () => {
  serve?.kill('SIGKILL');
  if (!values.dir) rmSync(dir, { recursive: true, force: true });
});

// --- serve as a child process: the real `otel-audit serve` command -----------------------------------------
const dataDir = join(dir, 'serve-data');
serve = spawn(
  process.execPath,
  [
    '--conditions=@otel-audit/source',
    '--import',
    'tsx',
    'cli/src/bin.ts',
    'serve',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--log-level',
    'warn',
    ...serveFlags,
  ],
  { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
);
const serveLog: string[] = [];
serve.stderr?.on('data', (chunk: Buffer) => serveLog.push(chunk.toString()));
const exitedEarly = once(serve, 'exit').then(([code]) => {
  throw new Error(`serve exited (${code}) before it was ready:\n${serveLog.join('')}`);
});
// With --log-level warn serve does not log "listening": the discovery file it writes says where it is.
const url = await Promise.race([exitedEarly, waitForDiscovery()]);
const token = readFileSync(join(dataDir, TOKEN_FILE_NAME), 'utf8').trim();
const servePid = serve.pid as number;
log(`serve pid ${servePid} at ${url}, data in ${dataDir}`);

async function waitForDiscovery(): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const found = readDiscovery(dataDir);
    if (found) return found.url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('serve did not write its discovery file within 2 minutes');
}

function rssMb(field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${servePid}/status`, 'utf8');
    const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return Number.NaN;
  }
}

// CPU time (µs) of serve: all threads, and its JS main thread alone (thread id = pid); the rest is chDB's
// threads (inserts, views, background merges) and libuv's pool. /proc counts in clock ticks (USER_HZ, 100 on
// Linux); a dead thread's time stays in the process total.
function serveCpuUs(): { total: number; js: number } {
  const ticks = (path: string) => {
    try {
      // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      return Number.NaN;
    }
  };
  return { total: ticks(`/proc/${servePid}/stat`), js: ticks(`/proc/${servePid}/task/${servePid}/stat`) };
}

// --- producers --------------------------------------------------------------------------------------------
const latencies = new Float64Array(N);
let acked = 0;
let failed = 0;
let lastAckMs = 0;
const SAMPLE_EVERY = Math.max(1, Math.floor(N / 200));
const samples: string[] = [];
let sampleChecks: Promise<boolean>[] = [];
const listener = {
  onAck(records: readonly { id: string; observedMs: number }[], ackMs: number) {
    for (const r of records) {
      latencies[acked] = ackMs - r.observedMs;
      if (acked % SAMPLE_EVERY === 0) samples.push(r.id);
      acked += 1;
    }
    lastAckMs = ackMs;
    // Acknowledged means queryable: check a sample right away through the query API.
    for (const id of samples.splice(0)) sampleChecks.push(queryable(id));
  },
  onFailure(count: number, error: unknown) {
    failed += count;
    log(`export of ${count} records failed: ${String(error)}`);
  },
};

async function queryable(id: string): Promise<boolean> {
  const res = await fetch(`${url}/v1/audit/events/${id}?tenant=${BENCH_TENANT}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status === 200;
}

const createProducer = producerKind === 'sdk' ? createSdkProducer : createOtelProducer;
const producers = Array.from({ length: PRODUCERS }, (_, instance) =>
  createProducer({
    logsUrl: `${url}/v1/logs`,
    token,
    instance,
    batchSize: BATCH,
    // Room for a whole chunk: the SDK's batch processor drops silently when its queue is full.
    queueSize: CHUNK * 2,
    listener,
  }),
);

let next = 0;
const serveCpuBefore = serveCpuUs();
const benchCpuBefore = process.cpuUsage();
const started = Date.now();
const progress = setInterval(() => {
  const s = (Date.now() - started) / 1000;
  log(`${acked}/${N} acknowledged, ${Math.round(acked / s)} events/s, serve RSS ${rssMb('VmRSS')} MB`);
}, 5000);

await Promise.all(
  producers.map(async (producer) => {
    while (next < N) {
      const end = Math.min(N, next + CHUNK);
      const from = next;
      next = end;
      for (let i = from; i < end; i++) producer.record(i);
      await producer.flush();
    }
  }),
);
clearInterval(progress);
const elapsedS = (lastAckMs - started) / 1000;
const serveCpuAfter = serveCpuUs();
const benchCpu = process.cpuUsage(benchCpuBefore);
const perEvent = (us: number) => Math.round((us / N) * 10) / 10;
const cpuUsPerEvent = {
  serve_js_thread: perEvent(serveCpuAfter.js - serveCpuBefore.js),
  serve_other_threads: perEvent(
    serveCpuAfter.total - serveCpuBefore.total - (serveCpuAfter.js - serveCpuBefore.js),
  ),
  // The bench process: the SDK producers, their OTLP exporters and the acknowledgement bookkeeping.
  producers: perEvent(benchCpu.user + benchCpu.system),
};
await Promise.all(producers.map((p) => p.shutdown()));
// The SDK's own counters: what it says it dropped or failed must be 0 here.
const sdkStats = producers.map((p) => p.stats?.()).filter((s) => s !== undefined);
const sdkDropped = sdkStats.reduce((n, s) => n + s.dropped + s.failed, 0);
const sampled = await Promise.all(sampleChecks);
sampleChecks = [];
const peakRss = rssMb('VmHWM');

// Every event is in the store exactly once (the query API counts per action).
const countsRes = await fetch(`${url}/v1/audit/counts/actions?tenant=${BENCH_TENANT}`, {
  headers: { authorization: `Bearer ${token}` },
});
const counts = (await countsRes.json()) as { count: number | string }[];
const stored = counts.reduce((sum, c) => sum + Number(c.count), 0);

exitedEarly.catch(() => undefined);
serve.kill('SIGTERM');
const [code] = await once(serve, 'exit');
serve = undefined;
if (code !== 0) log(`serve exited with ${code}:\n${serveLog.join('')}`);

const sorted = latencies.subarray(0, acked).sort();
const pct = (p: number) =>
  Math.round(sorted[Math.min(acked - 1, Math.floor((p / 100) * acked))] ?? Number.NaN);
log(
  `pipeline: ${acked} acknowledged, ${failed} failed, ${stored} stored, ${sampled.filter(Boolean).length}/${sampled.length} sampled events queryable at their ack, ${elapsedS.toFixed(1)} s`,
);

// --- engine ceiling: insertLogs of prebuilt rows of the same shape ----------------------------------------
function engineRows(count: number): OtelLogRow[] {
  const s = (key: string, value: string) => ({ key, value: { stringValue: value } });
  const records = Array.from({ length: count }, (_, i) => ({
    timeUnixNano: `${BigInt(Date.now()) * 1_000_000n}`,
    observedTimeUnixNano: `${BigInt(Date.now()) * 1_000_000n}`,
    severityNumber: 9,
    severityText: 'INFO',
    eventName: 'billing.invoice.paid',
    body: { stringValue: JSON.stringify({ amount: i % 1000, currency: 'EUR', note: 'pipeline bench' }) },
    attributes: [
      s(A.eventId, crypto.randomUUID()),
      s(A.action, 'billing.invoice.paid'),
      s(A.tenant, BENCH_TENANT),
      s(A.actorId, `user-${i % 5000}`),
      s(A.actorType, 'user'),
      s(A.actorName, `User ${i % 5000}`),
      s(
        A.targets,
        JSON.stringify([
          { type: 'invoice', id: `inv-${i % 100_000}` },
          { type: 'customer', id: `cus-${i % 2000}` },
        ]),
      ),
      s(A.crud, 'update'),
      s(A.outcome, 'success'),
      { key: A.version, value: { intValue: '1' } },
      s(A.contextIp, `10.0.${(i >> 8) & 255}.${i & 255}`),
      s(A.contextRequestId, `req-${i}`),
    ],
  }));
  const request = decodeJsonValue({
    resourceLogs: [
      {
        resource: { attributes: [s('service.name', 'bench-service'), s('service.instance.id', 'i0')] },
        scopeLogs: [{ scope: { name: AUDIT_SCOPE_NAME, version: CONVENTIONS_VERSION }, logRecords: records }],
      },
    ],
  });
  return requestToRows(request, { maxRecordSize: DEFAULT_LIMITS.maxRecordSize, auditOnly: true }).rows;
}

log(`engine ceiling: insertLogs of ${ENGINE_ROWS} prebuilt rows, batches of ${DEFAULT_LIMITS.maxBatchRows}`);
const store = await AuditStore.open({ path: join(dir, 'engine-data') });
await store.migrate();
const rows = engineRows(ENGINE_ROWS);
const engineStart = performance.now();
for (let i = 0; i < rows.length; i += DEFAULT_LIMITS.maxBatchRows)
  await store.insertLogs(rows.slice(i, i + DEFAULT_LIMITS.maxBatchRows));
const engineS = (performance.now() - engineStart) / 1000;
await store.close();

const eventsPerS = Math.round(acked / elapsedS);
const engineRowsPerS = Math.round(ENGINE_ROWS / engineS);
const summary = {
  bench: 'pipeline',
  events: N,
  acknowledged: acked,
  stored,
  failed,
  events_per_s: eventsPerS,
  engine_insert_rows_per_s: engineRowsPerS,
  // The same-run baseline: end to end against the engine's own insert rate of the same rows.
  events_vs_engine_insert: Number((eventsPerS / engineRowsPerS).toFixed(3)),
  p50_ms_to_queryable: pct(50),
  p99_ms_to_queryable: pct(99),
  sampled_queryable_at_ack: `${sampled.filter(Boolean).length}/${sampled.length}`,
  serve_peak_rss_mb: peakRss,
  cpu_us_per_event: cpuUsPerEvent,
  producers: PRODUCERS,
  batch: BATCH,
  chunk: CHUNK,
  encoding: 'json',
  producer: producerKind,
  ...(sdkStats.length > 0 && { sdk_dropped_or_failed: sdkDropped }),
};
console.log(JSON.stringify(summary));
process.exit(acked === N && stored === N && failed === 0 ? 0 : 1);
