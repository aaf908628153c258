// `npm run bench -- sdk [--ops N] [--rounds N] [--help]`: audit.record() against a bare logger.emit() with the same
// attributes, all through the same BatchLogRecordProcessor into a no-op exporter, alternating rounds in one
// process. Last stdout line: JSON summary.
//
// Baselines:
// - bare emit (overhead_ratio): what a service does without the SDK: per event, build the same log record by
//   hand (a random id, JSON text of targets and metadata, the same attribute keys and times) and emit it,
//   with no validation;
// - emit only (emit_only_ratio): re-emitting 1,024 records built once, so nothing but the OTel SDK's own
//   cost; the strictest floor, reported for transparency.
import { ExportResultCode } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import {
  AUDIT_ATTRIBUTES as A,
  AUDIT_SCOPE_NAME,
  type AuditEventInput,
  CONVENTIONS_VERSION,
  createAuditLogger,
  prepareAuditEvent,
  toLogRecord,
} from '@otel-audit/sdk';
import { benchOptions } from '../../scripts/bench-options.js';

const USAGE = `usage: npm run bench -- sdk [options]
  --ops N      calls per path per round, 1..100000000 (default 200000)
  --rounds N   timed rounds after one warm-up round, 1..1000 (default 5)
  --help       this text`;
const { whole } = benchOptions('sdk', USAGE, {
  ops: { type: 'string', default: '200000' },
  rounds: { type: 'string', default: '5' },
});
const ops = whole('ops', 1, 100_000_000);
const rounds = whole('rounds', 1, 1000);

let exported = 0;
const noop: LogRecordExporter = {
  export(records, done) {
    exported += records.length;
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => {},
  forceFlush: async () => {},
};
// A queue that never fills within a chunk, so neither path takes the (cheaper) drop branch.
const CHUNK = 1024;
const provider = new LoggerProvider({
  processors: [
    new BatchLogRecordProcessor({ exporter: noop, maxQueueSize: CHUNK * 4, maxExportBatchSize: CHUNK }),
  ],
});

/** A typical event: an actor with a name, two targets, request context, small metadata. */
function input(i: number): AuditEventInput {
  return {
    action: 'billing.invoice.paid',
    tenant: 'acme',
    actor: { id: `user-${i % 1000}`, type: 'user', name: 'Ada Lovelace' },
    targets: [
      { type: 'invoice', id: `inv-${i}`, name: `Invoice ${i}` },
      { type: 'account', id: 'acct-42' },
    ],
    context: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0', requestId: `req-${i}` },
    metadata: { amount: 1299, currency: 'EUR', method: 'card', lines: [{ sku: 'pro', qty: 1 }] },
  };
}

const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
const bare = provider.getLogger(AUDIT_SCOPE_NAME, CONVENTIONS_VERSION);
// The bare path emits exactly the record record() would build (prepared outside the timed loop).
const inputs = Array.from({ length: CHUNK }, (_, i) => input(i));
const records = inputs.map((e) => toLogRecord(prepareAuditEvent(e)));

async function timed(run: (i: number) => void): Promise<number> {
  const start = process.hrtime.bigint();
  for (let done = 0; done < ops; done += CHUNK) {
    const n = Math.min(CHUNK, ops - done);
    for (let i = 0; i < n; i++) run(i);
    // Let the processor export between chunks (as a real service's event loop would).
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await provider.forceFlush();
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** By hand, no SDK: the attributes toLogRecord() sets for this event, built per call. */
function bareEmit(event: AuditEventInput): void {
  const now = new Date();
  const actor = event.actor ?? { id: 'system', type: 'system' };
  bare.emit({
    eventName: event.action,
    timestamp: now,
    observedTimestamp: now,
    severityNumber: 9,
    severityText: 'INFO',
    body: JSON.stringify(event.metadata ?? null),
    attributes: {
      [A.eventId]: crypto.randomUUID(),
      [A.action]: event.action,
      [A.tenant]: event.tenant ?? 'acme',
      [A.crud]: 'update',
      [A.outcome]: 'success',
      [A.actorId]: actor.id,
      [A.actorType]: actor.type,
      [A.targets]: JSON.stringify(event.targets ?? []),
      [A.version]: 1,
      ...(actor.name !== undefined && { [A.actorName]: actor.name }),
      ...(event.context?.ip !== undefined && { [A.contextIp]: event.context.ip }),
      ...(event.context?.userAgent !== undefined && { [A.contextUserAgent]: event.context.userAgent }),
      ...(event.context?.requestId !== undefined && { [A.contextRequestId]: event.context.requestId }),
    },
  });
}

const paths = {
  record: (i: number) => void audit.record(inputs[i] as AuditEventInput),
  bare: (i: number) => bareEmit(inputs[i] as AuditEventInput),
  emitOnly: (i: number) => bare.emit(records[i] as (typeof records)[number]),
};
const rates: Record<keyof typeof paths, number[]> = { record: [], bare: [], emitOnly: [] };
// Warm up every path (JIT) before measuring.
for (const run of Object.values(paths)) await timed(run);
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(paths)) rates[name as keyof typeof paths].push(await timed(run));
  const last = (name: keyof typeof paths) => Math.round(rates[name].at(-1) ?? 0);
  console.error(
    `round ${r + 1}/${rounds}: record ${last('record')} ops/s, bare emit ${last('bare')} ops/s, emit only ${last('emitOnly')} ops/s`,
  );
}
await provider.shutdown();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const record_ops_per_s = Math.round(median(rates.record));
const bare_emit_ops_per_s = Math.round(median(rates.bare));
const emit_only_ops_per_s = Math.round(median(rates.emitOnly));
const expected = ops * (rounds + 1) * Object.keys(paths).length;
if (exported !== expected) {
  console.error(`bench sdk: exported ${exported} records, expected ${expected}: the comparison is not fair`);
  process.exit(1);
}
console.log(
  JSON.stringify({
    bench: 'sdk',
    ops_per_round: ops,
    rounds,
    record_ops_per_s,
    bare_emit_ops_per_s,
    overhead_ratio: Number((bare_emit_ops_per_s / record_ops_per_s).toFixed(3)),
    emit_only_ops_per_s,
    emit_only_ratio: Number((emit_only_ops_per_s / record_ops_per_s).toFixed(3)),
  }),
);
