// Per-logger delivery accounting: how many events were recorded, exported, dropped and failed. The audit logger
// owns one tracker and hands it to the log pipeline in the emit context; a tracking processor
// (`AuditLogRecordProcessor`, @otel-audit/sdk/node) reports each record's fate back to it.
import { type Context, createContextKey, diag } from '@opentelemetry/api';
import { AUDIT_ATTRIBUTES as A } from './conventions.js';

/**
 * Counts of one audit logger's events. `pending` = recorded − exported − dropped − failed; events still open
 * in coalescing sessions are in `coalescing`, not yet in `recorded`.
 */
export interface DeliveryStats {
  /** Accepted by `record()` and handed to the OTel logger. */
  recorded: number;
  /** Acknowledged by the exporter (the collector or receiver has them). */
  exported: number;
  /** Discarded before export, for a `DropReason` (passed to `onDrop`). */
  dropped: number;
  /** Export failed for good (rejected by the endpoint, or still undelivered at shutdown). */
  failed: number;
  /** Recorded and neither exported, dropped nor failed yet: queued or in flight. */
  pending: number;
  /** Rejected by validation and handed to `onInvalid` (never recorded). */
  invalid: number;
  /**
   * Events open in coalescing sessions (one per session, whatever its occurrences): emitted (then recorded) when
   * the session closes; still open when the process exits, they are dropped with reason `exit`.
   */
  coalescing: number;
  /**
   * Whether a tracking processor has seen (queued, dropped or failed) one of this logger's records. When false,
   * `exported` and `failed` stay 0, `dropped` counts only what the logger saw lost itself (`not_emitted`,
   * `shutdown`, `exit`), and `pending` only says what was recorded: the pipeline gives no delivery feedback.
   */
  tracked: boolean;
}

/** Identity of an event that did not reach the exporter, for `onDrop` / `onError`. */
export interface UndeliveredEvent {
  id: string;
  action: string;
  tenant: string;
}

/**
 * Why events were dropped: the processor's queue was full; the processor or the audit logger was shut down;
 * or the OTel logger passed the record to no processor (provider shut down, logger disabled by configuration),
 * or emitting threw before a tracking processor took it (a processor or hand-written logger threw; see diag);
 * or the process exited while the event's coalescing session was still open (never emitted), or the event was
 * recorded after the SDK's exit hooks ran (in Node's `exit` event: nothing can be sent any more).
 */
export type DropReason = 'queue_full' | 'shutdown' | 'not_emitted' | 'exit';

/** The attributes of a log record a tracker reads (a ReadableLogRecord fits). */
export interface TrackedRecord {
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** The log record as the audit logger emitted it, before the pipeline saw it. */
export interface EmittedRecord {
  readonly body?: unknown;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/**
 * What a tracking processor calls: each record it accepted ends in exactly one of exported, dropped, failed.
 * A processor first calls `claim()`: only the first tracking processor that sees a record accounts for it
 * (several tracking processors would count it several times); the others get undefined and treat it as an
 * ordinary log record.
 */
export interface DeliveryListener {
  /**
   * The record being emitted, to the first processor that asks; undefined after that. `by`: the processor
   * asking, which the logger's flush() can then wait for on its own (its flush ends by its export timeouts; the
   * provider's flush also waits for the application's other processors). Optional: a copy of this package from
   * an earlier release does not pass it.
   */
  claim(by?: TrackingProcessor): EmittedRecord | undefined;
  queued(count: number): void;
  exported(count: number): void;
  dropped(records: readonly TrackedRecord[], reason: DropReason): void;
  failed(records: readonly TrackedRecord[], error: Error): void;
  /**
   * The endpoint took the request but rejected `count` of these records (OTLP partial success) without
   * saying which: `count` are failed, the rest exported.
   */
  rejected(records: readonly TrackedRecord[], count: number, error: Error): void;
}

/** A processor that accounts for the logger's records (this package's AuditLogRecordProcessor). */
export interface TrackingProcessor {
  /** Resolves when the flushes running now end (at once if none): waits without starting an attempt. */
  flushed(): Promise<void>;
}

/** Context key under which the audit logger passes its tracker to the processor (Symbol.for: shared by copies). */
export const DELIVERY_LISTENER_KEY = createContextKey('otel-audit.delivery-listener');

/** The tracker in an emit context, if any. */
export function deliveryListenerOf(context: Context | undefined): DeliveryListener | undefined {
  const value = context?.getValue(DELIVERY_LISTENER_KEY);
  return value !== undefined && typeof (value as DeliveryListener).exported === 'function'
    ? (value as DeliveryListener)
    : undefined;
}

export interface DeliveryHooks {
  onDrop?: ((events: readonly UndeliveredEvent[], reason: DropReason) => void) | undefined;
  onError?: ((error: Error, events: readonly UndeliveredEvent[]) => void) | undefined;
}

function identity(record: TrackedRecord): UndeliveredEvent {
  const text = (key: string) => {
    const value = record.attributes[key];
    return typeof value === 'string' ? value : '';
  };
  return { id: text(A.eventId), action: text(A.action), tenant: text(A.tenant) };
}

const WAITING_KEPT = 1_000;

/**
 * Runs an application hook: what it throws, or what the promise it returns (an `async` hook, which its `=> void`
 * type accepts) rejects with, is reported through diag instead of reaching the caller or the process.
 */
export function reportHookFailure(what: string, hook: () => unknown): void {
  const report = (error: unknown) => diag.error(`otel-audit: ${what} threw`, error);
  try {
    const returned = hook();
    if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function')
      (returned as PromiseLike<unknown>).then(undefined, report);
  } catch (error) {
    report(error);
  }
}

export class DeliveryTracker implements DeliveryListener {
  private counts = { recorded: 0, exported: 0, dropped: 0, failed: 0, invalid: 0 };
  private isTracked = false;
  /** Records a processor accepted or dropped: lets the logger see that an emit reached no processor. */
  private reached = 0;
  private warned = new Set<string>();
  /**
   * Records whose emit threw while no tracking processor had been seen: dropped once one shows up. Their
   * identities are kept up to WAITING_KEPT (an untracked pipeline that always throws must not grow memory).
   */
  private waiting: TrackedRecord[] = [];
  private waitingCount = 0;
  /**
   * The processors that claimed this logger's records (a few: one per provider it emitted through), held weakly:
   * a processor the application shut down and dropped is collected, as its exit hooks let it be.
   */
  private readonly processorsSeen = new WeakSet<TrackingProcessor>();
  private processors: WeakRef<TrackingProcessor>[] = [];
  /** The record the logger is emitting right now (emit is synchronous), until a processor claims it. */
  private emitting: EmittedRecord | undefined;

  constructor(private readonly hooks: DeliveryHooks = {}) {}

  /** Called by the logger around `logger.emit()`. */
  beginEmit(record: EmittedRecord): void {
    this.emitting = record;
  }

  endEmit(): void {
    this.emitting = undefined;
  }

  claim(by?: TrackingProcessor): EmittedRecord | undefined {
    if (by !== undefined && !this.processorsSeen.has(by)) {
      this.processorsSeen.add(by);
      this.processors.push(new WeakRef(by));
    }
    // A tracking processor sees this logger's records, whatever it does with this one (queue, drop, fail).
    this.seen();
    const record = this.emitting;
    this.emitting = undefined;
    return record;
  }

  /** A tracking processor took one of this logger's records: records that never reached one are lost. */
  private seen(): void {
    this.isTracked = true;
    if (this.waitingCount > 0) {
      const lost = this.waiting;
      const unnamed = this.waitingCount - lost.length;
      this.waiting = [];
      this.waitingCount = 0;
      this.counts.dropped += unnamed;
      this.reached += unnamed;
      this.dropped(lost, 'not_emitted');
    }
  }

  /** `coalescing`: the logger's open sessions, which the tracker does not see. */
  stats(coalescing = 0): DeliveryStats {
    const c = this.counts;
    return {
      ...c,
      pending: c.recorded - c.exported - c.dropped - c.failed,
      coalescing,
      tracked: this.isTracked,
    };
  }

  /** The processors that accounted for this logger's records. */
  trackingProcessors(): TrackingProcessor[] {
    const live: TrackingProcessor[] = [];
    this.processors = this.processors.filter((ref) => {
      const processor = ref.deref();
      if (processor !== undefined) live.push(processor);
      return processor !== undefined;
    });
    return live;
  }

  get tracked(): boolean {
    return this.isTracked;
  }

  recorded(): void {
    this.counts.recorded += 1;
  }

  invalid(): void {
    this.counts.invalid += 1;
  }

  /** How many records reached a tracking processor so far. */
  get reachedCount(): number {
    return this.reached;
  }

  queued(count: number): void {
    this.reached += count;
    this.seen();
  }

  /** A record whose emit threw before any tracking processor was seen (see the logger's emit). */
  unsettled(record: TrackedRecord): void {
    this.waitingCount += 1;
    if (this.waiting.length < WAITING_KEPT) this.waiting.push(record);
  }

  exported(count: number): void {
    this.counts.exported += count;
  }

  dropped(records: readonly TrackedRecord[], reason: DropReason): void {
    this.counts.dropped += records.length;
    this.reached += records.length;
    this.warnOnce(
      `drop:${reason}`,
      `otel-audit: ${records.length} audit event(s) dropped (${reason}); later drops are counted in stats().dropped`,
    );
    this.call(() => this.hooks.onDrop?.(records.map(identity), reason));
  }

  failed(records: readonly TrackedRecord[], error: Error): void {
    this.counts.failed += records.length;
    this.warnOnce(
      'failed',
      `otel-audit: export of ${records.length} audit event(s) failed: ${error.message}; later failures are counted in stats().failed`,
    );
    this.call(() => this.hooks.onError?.(error, records.map(identity)));
  }

  rejected(records: readonly TrackedRecord[], count: number, error: Error): void {
    this.counts.exported += records.length - count;
    this.counts.failed += count;
    this.warnOnce(
      'failed',
      `otel-audit: the endpoint rejected ${count} audit event(s): ${error.message}; later failures are counted in stats().failed`,
    );
    this.call(() => this.hooks.onError?.(error, records.map(identity)));
  }

  /** Warns once per topic through the OTel diag logger. */
  warnOnce(topic: string, message: string): void {
    if (this.warned.has(topic)) return;
    this.warned.add(topic);
    diag.warn(message);
  }

  // A throwing hook must not break the export path that called it; nor may an async one that rejects (an
  // unhandled rejection ends the process).
  private call(hook: () => unknown): void {
    reportHookFailure('an onDrop/onError hook', hook);
  }
}
