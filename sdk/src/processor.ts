// A batching log record processor that accounts for every record: the stock BatchLogRecordProcessor drops
// records silently when its queue is full and forgets a batch whose export failed. This one reports each
// audit record's fate to its logger (exported, dropped, failed), keeps a batch that failed for a reason that
// may pass (endpoint down, timeout) and retries it with backoff, and drops only when its bounded queue is full.
import { type Context, diag } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type {
  LogRecordExporter,
  LogRecordProcessor,
  ReadableLogRecord,
  ReadWriteLogRecord,
} from '@opentelemetry/sdk-logs';
import { AUDIT_ATTRIBUTES as A, AUDIT_MARKER_ATTRIBUTE } from './conventions.js';
import { type DeliveryListener, deliveryListenerOf, type EmittedRecord } from './delivery.js';
import { AuditOptionError, AuditRejectedError } from './errors.js';
import { onProcessExitFinal } from './exit-flush.js';
import {
  MAX_TIMER_MS,
  refuseUnknownOptions,
  requireLimit,
  requireMillis,
  requireWholeNumber,
} from './options.js';
import { isAuditExporter } from './otlp-exporter.js';
import { type PartialExportResult, rejectedCountOf } from './partial-success.js';
import { logRecordBytes } from './record-size.js';

export interface AuditLogRecordProcessorOptions {
  exporter: LogRecordExporter;
  /** Records held at most (queued, retrying or in flight); one more is dropped and counted. Default 16,384. */
  maxQueueSize?: number | undefined;
  /**
   * Bytes held at most (queued, retrying or in flight), each record measured as for maxExportBatchBytes: a
   * record that would take the queue over is dropped and counted (queue_full), unless nothing is held (a
   * record bigger than this goes alone). Bounds memory while the endpoint is down. Default 64 MiB.
   */
  maxQueueBytes?: number | undefined;
  /** Records per export call. Default 512. */
  maxExportBatchSize?: number | undefined;
  /**
   * Bytes per export call (records' bodies, attribute keys and values in UTF-8, plus their OTLP framing): a
   * batch closes before a record that would take it over. A record bigger than this goes alone. Keep it well
   * under the receiver's body limit (`otel-audit serve`: 16 MiB). Default 4 MiB.
   */
  maxExportBatchBytes?: number | undefined;
  /**
   * Longest a record waits before its batch is sent. Default 1,000 ms. An export starts sooner once the records
   * queued reach maxExportBatchSize, or maxExportBatchBytes bytes (half of maxQueueBytes if smaller).
   */
  scheduledDelayMillis?: number | undefined;
  /**
   * An export not answered within this is a failure that may pass (retried). Default 30,000 ms; with an
   * AuditOTLPLogExporter, the larger of that and its timeoutMillis + 1,000 ms, and a smaller value is an
   * AuditOptionError (given up on while its request is still open, a batch is sent twice).
   */
  exportTimeoutMillis?: number | undefined;
  /** Backoff after a failed export: first delay, doubled up to the maximum. Default 1,000 / 30,000 ms. */
  retryInitialDelayMillis?: number | undefined;
  retryMaxDelayMillis?: number | undefined;
}

/** Counts over the audit records this processor took (it ignores every other log record). */
export interface ProcessorStats {
  queued: number;
  exported: number;
  dropped: number;
  failed: number;
  /** Held now: queued or in flight. */
  held: number;
  /** Bytes of the records held now, as maxQueueBytes counts them. */
  heldBytes: number;
}

interface Entry {
  record: ReadableLogRecord;
  listener: DeliveryListener | undefined;
  /** The record's size (logRecordBytes), measured when it is queued. */
  bytes: number;
  /** Queued as the seq-th record: what a flush waits for is what was queued before it (see untilSettled). */
  seq: number;
}

/** Default of maxExportBatchBytes: a quarter of `otel-audit serve`'s body limit, room for JSON escaping. */
export const DEFAULT_MAX_EXPORT_BATCH_BYTES = 4 * 1024 * 1024;

/** Default of maxQueueBytes: 16 full batches; what an endpoint outage may cost in memory. */
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;

/**
 * The endpoint refused the request for its size, so smaller requests may pass: HTTP 413 (`otel-audit serve`),
 * or the OTel Collector's 400 whose body says "request body too large" (its OTLP/HTTP receiver answers a body over
 * max_request_body_size with 400 {"code":3,"message":"http: request body too large"}, never 413).
 */
function isTooLarge(error: unknown): boolean {
  const { code, data } = (error ?? {}) as { code?: unknown; data?: unknown };
  if (code === 413) return true;
  return code === 400 && typeof data === 'string' && data.includes('request body too large');
}

/**
 * Whether an export failure may pass on retry. An HTTP 4xx other than 408/429 means the endpoint refused the
 * data itself: sending it again cannot help. Nor does a 3xx: the exporter does not follow redirects, and the
 * endpoint answers the next request the same (an http -> https redirect was retried until the queue filled).
 * Anything else (network error, 5xx, timeout) may.
 */
export function isRetryable(error: unknown): boolean {
  // An error that knows it (AuditNotOtlpResponseError: a web page answered with a success status).
  if ((error as { retryable?: unknown } | undefined)?.retryable === false) return false;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'number') return true;
  return !(code >= 300 && code < 500 && code !== 408 && code !== 429);
}

/** A request on a kept-alive connection the endpoint had closed: "socket hang up", ECONNRESET, EPIPE. */
function isStaleConnection(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const { code } = current as { code?: unknown };
    if (code === 'ECONNRESET' || code === 'EPIPE' || current.message === 'socket hang up') return true;
    current = current.cause;
  }
  return false;
}

const LIMITS_ADVICE = 'audit records need unlimited attributeValueLengthLimit and attributeCountLimit';
/** Attributes (and the body) that carry JSON text: a cut one would be stored malformed. */
const JSON_ATTRIBUTES: ReadonlySet<string> = new Set([A.targets, A.actorFields, A.changes]);

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** How `got` damages the `emitted` text, if it does: cut short (attributeValueLengthLimit), or no longer JSON. */
function textDamage(what: string, emitted: string, got: string, json: boolean): string | undefined {
  // attributeValueLengthLimit <= 0 is ignored by OTel, so a limit never leaves ''; '' is a redaction.
  if (got.length > 0 && got.length < emitted.length && emitted.startsWith(got))
    return `the LoggerProvider changed ${what} (truncated by its logRecordLimits, attributeValueLengthLimit): ${LIMITS_ADVICE}`;
  if (json && !parses(got))
    return `${what} is no longer valid JSON (changed by a processor or the LoggerProvider's logRecordLimits)`;
  return undefined;
}

/**
 * Whether the provider's logRecordLimits damaged the record the audit logger emitted: a value cut short
 * (attributeValueLengthLimit) or an attribute dropped (attributeCountLimit, seen in droppedAttributesCount),
 * or a JSON part that no longer parses. Any other edit (a redaction or enrichment processor) is the
 * application's choice and passes, whichever side of this processor made it.
 */
function damageOf(record: ReadableLogRecord, emitted: EmittedRecord): string | undefined {
  const got = record.attributes;
  for (const [key, value] of Object.entries(emitted.attributes ?? {})) {
    const now = got[key];
    if (now === value) continue;
    if (now === undefined) {
      if (record.droppedAttributesCount > 0)
        return `the LoggerProvider dropped attribute ${key} (attributeCountLimit of its logRecordLimits): ${LIMITS_ADVICE}`;
      continue;
    }
    if (typeof now === 'string' && typeof value === 'string') {
      const damage = textDamage(`attribute ${key}`, value, now, JSON_ATTRIBUTES.has(key));
      if (damage) return damage;
    }
  }
  if (typeof record.body === 'string' && typeof emitted.body === 'string' && record.body !== emitted.body)
    return textDamage('the record body', emitted.body, record.body, true);
  return undefined;
}

function groupByListener(entries: readonly Entry[]): Map<DeliveryListener, ReadableLogRecord[]> {
  const groups = new Map<DeliveryListener, ReadableLogRecord[]>();
  for (const { record, listener } of entries) {
    if (!listener) continue;
    const group = groups.get(listener);
    if (group) group.push(record);
    else groups.set(listener, [record]);
  }
  return groups;
}

const PROCESSOR_OPTIONS: Record<keyof AuditLogRecordProcessorOptions, true> = {
  exporter: true,
  maxQueueSize: true,
  maxQueueBytes: true,
  maxExportBatchSize: true,
  maxExportBatchBytes: true,
  scheduledDelayMillis: true,
  exportTimeoutMillis: true,
  retryInitialDelayMillis: true,
  retryMaxDelayMillis: true,
};

/** How much longer than the exporter's timeout the processor waits: serialization, a busy event loop. */
export const EXPORT_TIMEOUT_MARGIN_MS = 1_000;
/** The processor's exportTimeoutMillis default (when the exporter's timeout is shorter). */
export const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;

/**
 * exportTimeoutMillis by default: 30 s, or the AuditOTLPLogExporter's timeout + 1 s if longer. With only 30 s, an
 * exporter allowed 60 s (OTEL_EXPORTER_OTLP_TIMEOUT=60000) was given up on with its request still open: the
 * batch was sent again, stored twice and counted failed.
 */
function exportTimeoutDefault(exporter: LogRecordExporter): number {
  if (!isAuditExporter(exporter)) return DEFAULT_EXPORT_TIMEOUT_MS;
  return Math.min(
    MAX_TIMER_MS,
    Math.max(DEFAULT_EXPORT_TIMEOUT_MS, exporter.timeoutMillis + EXPORT_TIMEOUT_MARGIN_MS),
  );
}

function requireOutlastsExporter(exporter: LogRecordExporter, exportTimeoutMs: number): void {
  if (!isAuditExporter(exporter)) return; // another exporter's timeout is unknown here
  const least = Math.min(MAX_TIMER_MS, exporter.timeoutMillis + EXPORT_TIMEOUT_MARGIN_MS);
  if (exportTimeoutMs < least)
    throw new AuditOptionError(
      'AuditLogRecordProcessor',
      'exportTimeoutMillis',
      `at least the exporter's ${exporter.timeoutDescribed} + ${EXPORT_TIMEOUT_MARGIN_MS} ms (an export given up on while its request is still open is sent twice)`,
      exportTimeoutMs,
    );
}

/** A failed export at least this long (or half the attempt's timeout, if less) was slow: see failedSlowly. */
const SLOW_FAILURE_MS = 1_000;

/** How a drain ended: everything sent (or settled), or stopped at an export that failed in a way that may pass. */
type DrainEnd = 'done' | 'failed';

export class AuditLogRecordProcessor implements LogRecordProcessor {
  private readonly exporter: LogRecordExporter;
  private readonly maxQueueSize: number;
  private readonly maxQueueBytes: number;
  private readonly batchSize: number;
  private readonly batchBytes: number;
  private readonly delayMs: number;
  private readonly timeoutMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;

  private queue: Entry[] = [];
  /** Batches formed already, sent as they are before the queue: halves of a batch refused as too large, or a batch to retry. */
  private formed: Entry[][] = [];
  private inFlight: Entry[] = [];
  /** Bytes of the entries in queue, formed and inFlight. */
  private heldBytes = 0;
  /** Bytes of the entries in queue only (not yet in a batch): a full batch's worth starts an export. */
  private queuedBytes = 0;
  /** Queued bytes that start an export at once: a batch's worth, or half the byte bound if that is smaller. */
  private readonly drainBytes: number;
  private draining: Promise<DrainEnd> | undefined;
  /** performance.now() of the last export that failed in a way that may pass; -Infinity after a success. */
  private lastFailedAt = Number.NEGATIVE_INFINITY;
  /**
   * The last failed export took long (a timeout, the exporter's own retries): another attempt right after it would
   * most likely wait as long for the same answer. A fast failure (HTTP 500, connection refused) is cheap to retry.
   */
  private failedSlowly = false;
  /** An export that fails after this long failed slowly: SLOW_FAILURE_MS, or half the attempt's timeout if less. */
  private readonly slowFailureMs: number;
  private drainScheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs = 0;
  private backoffTimer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  /** seq of the last record queued. */
  private lastSeq = 0;
  /** Flushes waiting for every record up to their seq to be settled (see untilSettled). */
  private readonly settleWaiters = new Set<{ upTo: number; settled: () => void }>();
  /** forceFlush() calls still running: what the audit logger waits for after OTel's 30 s cut. */
  private readonly flushes = new Set<Promise<void>>();
  private isShutdown = false;
  private shutdownPromise: Promise<void> | undefined;
  private counts = { queued: 0, exported: 0, dropped: 0, failed: 0 };
  private warnedFull = false;
  /** The error of the last export that failed in a way that may pass; cleared by a success. */
  private lastRetryableError: Error | undefined;
  /** Set in Node's `exit` event: what was held is settled as failed, a late export result is ignored. */
  private exited = false;
  private readonly stopExitReport: () => void;

  constructor(options: AuditLogRecordProcessorOptions) {
    refuseUnknownOptions('AuditLogRecordProcessor', options, PROCESSOR_OPTIONS);
    this.exporter = options.exporter;
    const maxQueueSize = options.maxQueueSize ?? 16_384;
    const maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    const maxExportBatchSize = options.maxExportBatchSize ?? 512;
    const maxExportBatchBytes = options.maxExportBatchBytes ?? DEFAULT_MAX_EXPORT_BATCH_BYTES;
    // A fraction or 0 would export empty batches forever (splice(0, 0.5) takes nothing).
    requireWholeNumber('AuditLogRecordProcessor', 'maxQueueSize', maxQueueSize);
    requireLimit('AuditLogRecordProcessor', 'maxQueueBytes', maxQueueBytes);
    requireLimit('AuditLogRecordProcessor', 'maxExportBatchSize', maxExportBatchSize);
    requireLimit('AuditLogRecordProcessor', 'maxExportBatchBytes', maxExportBatchBytes);
    this.maxQueueSize = maxQueueSize;
    this.maxQueueBytes = maxQueueBytes;
    this.batchSize = Math.min(maxExportBatchSize, maxQueueSize);
    this.batchBytes = maxExportBatchBytes;
    // Half the queue's bound at most: a record that would take the queue over maxQueueBytes is refused, so a
    // drain waiting for a full queue would rarely start before records were dropped with the endpoint idle.
    this.drainBytes = Math.min(maxExportBatchBytes, maxQueueBytes / 2);
    this.delayMs = options.scheduledDelayMillis ?? 1_000;
    this.timeoutMs = options.exportTimeoutMillis ?? exportTimeoutDefault(this.exporter);
    requireOutlastsExporter(this.exporter, this.timeoutMs);
    this.retryInitialMs = options.retryInitialDelayMillis ?? 1_000;
    this.retryMaxMs = options.retryMaxDelayMillis ?? 30_000;
    // The attempt's timeout: the OTLP exporter's own when it is ours (it gives up first), else the processor's.
    const attemptTimeoutMs = isAuditExporter(this.exporter)
      ? Math.min(this.exporter.timeoutMillis, this.timeoutMs)
      : this.timeoutMs;
    this.slowFailureMs = Math.min(SLOW_FAILURE_MS, attemptTimeoutMs / 2);
    for (const [name, value] of Object.entries({
      scheduledDelayMillis: this.delayMs,
      exportTimeoutMillis: this.timeoutMs,
      // 0 or NaN would retry an unreachable endpoint in a hot loop.
      retryInitialDelayMillis: this.retryInitialMs,
      retryMaxDelayMillis: this.retryMaxMs,
    })) {
      requireMillis('AuditLogRecordProcessor', name, value, name === 'scheduledDelayMillis' ? 0 : 1);
    }
    // Held weakly: the process-wide exit hook must not keep a discarded processor alive.
    this.stopExitReport = onProcessExitFinal(this, AuditLogRecordProcessor.failHeldAtExitOf);
  }

  private static failHeldAtExitOf(processor: AuditLogRecordProcessor): void {
    processor.failHeldAtExit();
  }

  stats(): ProcessorStats {
    return { ...this.counts, held: this.waitingCount() + this.inFlight.length, heldBytes: this.heldBytes };
  }

  /** Records waiting for an export (not in flight). */
  private waitingCount(): number {
    let n = this.queue.length;
    for (const batch of this.formed) n += batch.length;
    return n;
  }

  onEmit(record: ReadWriteLogRecord, context?: Context): void {
    const candidate = deliveryListenerOf(context);
    // Audit records only: the application's other logs go through its own processors. Sharing this queue and
    // endpoint, a burst of them would push audit events out (queue_full).
    if (candidate === undefined && record.attributes[AUDIT_MARKER_ATTRIBUTE] == null) return;
    // Only the first tracking processor that sees an audit record accounts for it.
    const emitted = candidate?.claim(this);
    const listener = emitted ? candidate : undefined;
    if (this.isShutdown) {
      this.counts.dropped += 1;
      listener?.dropped([record], 'shutdown');
      return;
    }
    if (this.exited) {
      // Nothing held is sent after the exit event (no I/O): queued now, it would stay pending forever.
      this.counts.dropped += 1;
      if (listener) listener.dropped([record], 'exit');
      else
        diag.error('AuditLogRecordProcessor: a log record emitted after the process exit event was dropped');
      return;
    }
    // Measured here, once (batches are formed by it too): bounding only the count let 16,384 records of a few
    // hundred KB each exhaust the heap while the endpoint was down.
    const bytes = logRecordBytes(record);
    if (
      this.waitingCount() + this.inFlight.length >= this.maxQueueSize ||
      (this.heldBytes > 0 && this.heldBytes + bytes > this.maxQueueBytes)
    ) {
      this.counts.dropped += 1;
      if (listener) listener.dropped([record], 'queue_full');
      else if (!this.warnedFull) {
        this.warnedFull = true;
        diag.warn(
          `AuditLogRecordProcessor: queue full (${this.maxQueueSize} records or ${this.maxQueueBytes} bytes), dropping log records`,
        );
      }
      return;
    }
    const damage = listener && emitted ? damageOf(record, emitted) : undefined;
    if (listener && emitted && damage) {
      // A truncated JSON attribute would be stored malformed (or cut): not delivered as recorded.
      this.counts.failed += 1;
      listener.queued(1);
      listener.failed([{ attributes: emitted.attributes ?? {} }], new Error(damage));
      return;
    }
    this.counts.queued += 1;
    listener?.queued(1);
    this.lastSeq += 1;
    this.queue.push({ record, listener, bytes, seq: this.lastSeq });
    this.heldBytes += bytes;
    this.queuedBytes += bytes;
    if (this.backoffTimer) return; // the retry timer drains
    // A batch's worth of bytes starts an export too: large records filled maxQueueBytes long before 512 of them
    // or the scheduled delay came, and the next ones were dropped (queue_full) with the endpoint idle and up.
    if (this.queue.length >= this.batchSize || this.queuedBytes >= this.drainBytes) this.drainSoon();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.delayMs);
      this.timer.unref?.();
    }
  }

  /**
   * Sends everything held now, once (no backoff waits); records an unreachable endpoint refused stay held. An
   * export in flight is that once: if it fails slowly, no other attempt is made.
   */
  forceFlush(): Promise<void> {
    const flushing = this.flush(true);
    this.flushes.add(flushing);
    const forget = () => this.flushes.delete(flushing);
    flushing.then(forget, forget); // not finally(): its own promise would reject unhandled
    return flushing;
  }

  /** Resolves when the flushes running now end (at once if none), without starting an attempt of its own. */
  async flushed(): Promise<void> {
    await Promise.all(this.flushes);
  }

  /** `attempt`: start an export of what is held (else only wait for the one in flight). */
  private async flush(attempt: boolean): Promise<void> {
    this.flushing = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    // What is held now; records made while it runs are the background drain's (a service recording steadily
    // kept a flush, and its shutdown, from ever ending).
    const upTo = this.lastSeq;
    try {
      // An attempt right after one that failed slowly waits out the exporter's timeout again for the same answer:
      // a flush during a scheduled export took twice timeoutMillis with the endpoint down. After a fast failure
      // (an HTTP 500) another attempt costs little and may pass.
      const running = this.draining;
      if (running && (await this.untilSettled(upTo, running)) === 'failed' && this.failedSlowly) return;
      if (this.oldestHeldSeq() > upTo) return;
      // A connection the endpoint closed while this process was frozen past its keep-alive idle time (a serverless
      // instance between invocations) fails at once; the agent has dropped it, so one more attempt gets a new one.
      // Without it, a timeout too short for the exporter's own retry left the events to the next invocation.
      // Only after a fast failure: an endpoint resetting every connection fails after the exporter's own retries, at
      // its timeoutMillis, and a second attempt would double a flush's time.
      if (
        attempt &&
        (await this.untilSettled(upTo, this.drain())) === 'failed' &&
        !this.failedSlowly &&
        isStaleConnection(this.lastRetryableError)
      )
        await this.untilSettled(upTo, this.drain());
    } finally {
      this.flushing = false;
      // What the endpoint did not take stays held: keep retrying it in the background (a drain still running
      // sends the records made after the flush began, and arms the retry itself if it fails).
      if (this.waitingCount() > 0 && !this.isShutdown && !this.backoffTimer && !this.draining)
        this.scheduleRetry();
    }
  }

  /**
   * Waits for `drain` to end, or only until every record queued up to `upTo` is settled (exported, failed or
   * dropped), whichever comes first: 'done' then, as when the drain sent everything.
   */
  private async untilSettled(upTo: number, drain: Promise<DrainEnd>): Promise<DrainEnd> {
    if (this.oldestHeldSeq() > upTo) return 'done';
    let waiter: { upTo: number; settled: () => void } | undefined;
    const settled = new Promise<DrainEnd>((resolve) => {
      waiter = { upTo, settled: () => resolve('done') };
      this.settleWaiters.add(waiter);
    });
    try {
      return await Promise.race([drain, settled]);
    } finally {
      if (waiter) this.settleWaiters.delete(waiter);
    }
  }

  /** seq of the oldest record still held (Infinity if none): batches go out in queue order, retries at the head. */
  private oldestHeldSeq(): number {
    return (
      this.inFlight[0]?.seq ?? this.formed[0]?.[0]?.seq ?? this.queue[0]?.seq ?? Number.POSITIVE_INFINITY
    );
  }

  private wakeSettled(): void {
    if (this.settleWaiters.size === 0) return;
    const oldest = this.oldestHeldSeq();
    for (const waiter of this.settleWaiters) if (waiter.upTo < oldest) waiter.settled();
  }

  /** Flushes, then fails what is still held (reported to its loggers) and shuts the exporter down. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.isShutdown = true;
      // Within retryInitialDelayMillis of an export that failed slowly (typically the audit logger's shutdown flush
      // just before), one more attempt would only delay the exit by another timeoutMillis. After a fast failure
      // it is made: skipping it failed 2,000 records because the first request got an HTTP 500.
      const recentSlowFailure =
        this.failedSlowly && performance.now() - this.lastFailedAt < this.retryInitialMs;
      await this.flush(!recentSlowFailure);
      const left = [...this.formed.flat(), ...this.queue];
      this.formed = [];
      this.queue = [];
      this.queuedBytes = 0;
      this.release(left);
      this.settleFailed(left, this.undelivered('undelivered at shutdown: the endpoint had not accepted it'));
      this.stopExitReport();
      await this.exporter.shutdown();
    })();
    return this.shutdownPromise;
  }

  /**
   * Drains once the current call has returned: the exporter serializes a whole batch synchronously when an
   * export starts, which must not happen inside the record() that filled the batch.
   */
  private drainSoon(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      // An export that failed meanwhile armed the backoff: its timer drains, not this.
      if (this.backoffTimer || this.isShutdown) return;
      void this.drain();
    });
  }

  private drain(): Promise<DrainEnd> {
    this.draining ??= this.runDrain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async runDrain(): Promise<DrainEnd> {
    while (this.formed.length > 0 || this.queue.length > 0) {
      this.wakeSettled(); // the batch before this one is settled (or back at the head)
      const batch = this.formed.shift() ?? this.nextBatch();
      this.inFlight = batch;
      const startedAt = process.hrtime.bigint();
      const result = await this.export(batch.map((e) => e.record));
      const tookMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      this.inFlight = [];
      if (this.exited) return 'done';
      if (result.code === ExportResultCode.SUCCESS) {
        this.release(batch);
        this.backoffMs = 0;
        this.lastFailedAt = Number.NEGATIVE_INFINITY;
        this.lastRetryableError = undefined;
        const rejected = Math.min(rejectedCountOf(result), batch.length);
        if (rejected > 0) this.settleRejected(batch, rejected, result);
        else {
          this.counts.exported += batch.length;
          for (const [listener, records] of groupByListener(batch)) listener.exported(records.length);
        }
        continue;
      }
      const error = result.error ?? new Error('export failed');
      if (isTooLarge(error) && batch.length > 1) {
        // Over the endpoint's body limit: send each half on its own (only a record refused alone fails).
        const half = Math.ceil(batch.length / 2);
        this.formed.unshift(batch.slice(0, half), batch.slice(half));
        diag.debug(`AuditLogRecordProcessor: a batch of ${batch.length} records was too large, split`);
        continue;
      }
      if (!isRetryable(error)) {
        this.release(batch);
        this.settleFailed(batch, error);
        continue;
      }
      // Keep the batch at the head, in order, and try again later (or on the next flush).
      const outageStarts = this.lastRetryableError === undefined;
      this.lastRetryableError = error;
      this.lastFailedAt = performance.now();
      this.failedSlowly = tookMs >= this.slowFailureMs;
      this.formed.unshift(batch);
      const held = `${this.waitingCount()} record(s) held: ${error.message}`;
      // Once per outage at warn (a wrong endpoint would otherwise show only at shutdown), then at debug.
      if (outageStarts) diag.warn(`AuditLogRecordProcessor: export failed, retrying with backoff; ${held}`);
      else diag.debug(`AuditLogRecordProcessor: export failed again, ${held}`);
      if (!this.flushing && !this.isShutdown) this.scheduleRetry();
      return 'failed';
    }
    this.wakeSettled();
    // More may have arrived while exporting.
    if (this.queue.length > 0 && !this.timer && !this.backoffTimer && !this.flushing) void this.drain();
    return 'done';
  }

  /** The head of the queue up to maxExportBatchSize records and maxExportBatchBytes (at least one record). */
  private nextBatch(): Entry[] {
    const most = Math.min(this.batchSize, this.queue.length);
    let bytes = 0;
    let n = 0;
    while (n < most) {
      const entry = this.queue[n] as Entry;
      if (n > 0 && bytes + entry.bytes > this.batchBytes) break;
      bytes += entry.bytes;
      n += 1;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  /**
   * The process is exiting (Node `exit`: no more I/O) with records still held, e.g. the endpoint was down and
   * nobody called shutdown(): report them as failed now, or they would vanish without a word.
   */
  private failHeldAtExit(): void {
    const sending = this.inFlight;
    const held = [...this.formed.flat(), ...this.queue];
    this.exited = true;
    this.inFlight = [];
    this.formed = [];
    this.queue = [];
    this.heldBytes = 0;
    this.queuedBytes = 0;
    // Their request may have reached the endpoint and been stored: the answer is what never came.
    if (sending.length > 0)
      this.settleFailed(
        sending,
        this.undelivered(
          `unconfirmed at process exit: ${sending.length} record(s) were being sent and no answer came; the ` +
            'endpoint may have stored them (recording them again with the same id is safe: the store keeps one)',
        ),
      );
    if (held.length > 0)
      this.settleFailed(
        held,
        this.undelivered(`undelivered at process exit: ${held.length} record(s) still held`),
      );
  }

  /** Entries that leave the processor (settled): their bytes no longer count against maxQueueBytes. */
  private release(entries: readonly Entry[]): void {
    for (const entry of entries) this.heldBytes -= entry.bytes;
  }

  /** Why records are still held, with the last export error (e.g. the endpoint refusing connections). */
  private undelivered(what: string): Error {
    const last = this.lastRetryableError;
    return last === undefined
      ? new Error(what)
      : new Error(`${what} (last export error: ${last.message})`, { cause: last });
  }

  private scheduleRetry(): void {
    clearTimeout(this.backoffTimer); // never two retry chains
    this.backoffMs = Math.min(
      this.retryMaxMs,
      this.backoffMs === 0 ? this.retryInitialMs : this.backoffMs * 2,
    );
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      void this.drain();
    }, this.backoffMs);
    this.backoffTimer.unref?.();
  }

  /**
   * Partial success: the endpoint rejected `rejected` records of the batch without naming them. Each logger
   * with records in the batch counts up to `rejected` of its own as failed (never a lost one as exported).
   */
  private settleRejected(batch: readonly Entry[], rejected: number, result: ExportResult): void {
    this.counts.exported += batch.length - rejected;
    this.counts.failed += rejected;
    const message = (result as Partial<PartialExportResult>).rejectionMessage ?? '';
    const groups = groupByListener(batch);
    for (const [listener, records] of groups) {
      const count = Math.min(rejected, records.length);
      listener.rejected(records, count, new AuditRejectedError(count, rejected, batch.length, message));
    }
    if (groups.size === 0)
      diag.error(
        `AuditLogRecordProcessor: ${new AuditRejectedError(rejected, rejected, batch.length, message).message}`,
      );
  }

  private settleFailed(entries: readonly Entry[], error: Error): void {
    if (entries.length === 0) return;
    this.counts.failed += entries.length;
    const groups = groupByListener(entries);
    for (const [listener, records] of groups) listener.failed(records, error);
    // Records of no audit logger (ordinary logs sharing the processor) have nobody else to tell.
    if (groups.size === 0)
      diag.error(`AuditLogRecordProcessor: ${entries.length} log record(s) failed`, error);
  }

  private export(records: ReadableLogRecord[]): Promise<ExportResult> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: ExportResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(
        () =>
          finish({
            code: ExportResultCode.FAILED,
            error: new Error(`export timed out after ${this.timeoutMs} ms`),
          }),
        this.timeoutMs,
      );
      try {
        this.exporter.export(records, finish);
      } catch (error) {
        finish({
          code: ExportResultCode.FAILED,
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
    });
  }
}
