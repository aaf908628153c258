// The audit logger: validates each event, emits it as one OTel log record, and accounts for its delivery.
import {
  type Context,
  context,
  diag,
  type Logger,
  type LoggerProvider,
  type LogRecord,
  logs,
} from '@opentelemetry/api';
import { type ActionName, type ActionSchemas, defineAuditActions, type RecordInput } from './actions.js';
import {
  type CoalesceOptions,
  type Coalescer,
  type CoalescingRecorder,
  createCoalescer,
} from './coalesce.js';
import {
  AUDIT_SCOPE_NAME,
  CONVENTIONS_VERSION,
  DEFAULT_MAX_EVENT_BYTES,
  MAX_REFERENCE_LENGTH,
  STRICT_ACTION_PATTERN,
} from './conventions.js';
import {
  DELIVERY_LISTENER_KEY,
  type DeliveryHooks,
  type DeliveryStats,
  DeliveryTracker,
  reportHookFailure,
  type TrackedRecord,
} from './delivery.js';
import { type AuditIssue, AuditOptionError, AuditValidationError } from './errors.js';
import { type AuditEvent, type PreparedAuditEvent, prepareAuditEvent } from './event.js';
import { onProcessExit, onProcessExitFinal } from './exit-flush.js';
import { toLogRecord } from './log-record.js';
import { refuseUnknownOptions, requireLimit } from './options.js';
import { recordSizeOver } from './record-size.js';

export interface AuditLoggerOptions<S extends ActionSchemas = ActionSchemas> extends DeliveryHooks {
  /**
   * The OTel logger provider to emit through. Default: the global one (`logs` API), looked up at each record, so
   * a provider registered after the logger was created is used from then on, also when it was registered
   * through another copy of `@opentelemetry/api`.
   */
  loggerProvider?: LoggerProvider | undefined;
  /** Per-action metadata schemas from `defineAuditActions`; only these actions are accepted then. */
  actions?: S | undefined;
  /** Tenant of events that name none. */
  tenant?: string | undefined;
  /** Require action names of exactly three parts, `<service>.<resource>.<verb_past_tense>`. */
  strictActions?: boolean | undefined;
  /**
   * Maximum size of an event's whole log record (body and every attribute key and value, in UTF-8 bytes, as
   * the receiver measures it), coalesced events included. A whole number >= 1, else `AuditOptionError`.
   * Default 1 MiB.
   */
  maxEventBytes?: number | undefined;
  /**
   * Receives invalid events instead of `record()` throwing (for code that must never throw from auditing);
   * `record()` then returns undefined for them. They are counted in `stats().invalid`.
   */
  onInvalid?: ((error: AuditValidationError, input: unknown) => void) | undefined;
  /**
   * Flush when the process is about to exit on its own (Node `beforeExit`), so queued and coalesced events
   * leave before it does. Default true. A process ended by a signal must call `shutdown()` itself.
   */
  flushOnExit?: boolean | undefined;
}

export interface AuditLogger<S extends ActionSchemas = ActionSchemas, Invalid = never> {
  /**
   * Validates the event, emits it and returns it normalised (id, defaults). Never blocks: delivery happens in
   * the background. Throws `AuditValidationError` for an invalid event unless `onInvalid` is set.
   */
  record<A extends ActionName<S>>(input: RecordInput<S, A>): AuditEvent<A> | Invalid;
  /**
   * A recorder that merges repeated events of the same action, actor, targets and outcome within an idle
   * window into one event with a count and first/last times. Flushed by this logger's `flush()`.
   */
  coalesce(options?: CoalesceOptions): CoalescingRecorder<S, Invalid>;
  /** Counts of this logger's events so far. */
  stats(): DeliveryStats;
  /**
   * Emits coalesced events, waits for the pipeline to export the records held when called (later ones go out in
   * the background), and reports the counts.
   */
  flush(): Promise<DeliveryStats>;
  /**
   * Flushes, emits the sessions opened meanwhile, then stops: later `record()` calls, and records of its coalescing
   * recorders (also of one opened after it), count as dropped (reason `shutdown`).
   */
  shutdown(): Promise<DeliveryStats>;
}

/**
 * What code that flushes, reports or shuts down loggers needs, whatever their actions: a logger with typed
 * actions is not an `AuditLogger` (that one takes any action name), but it is one of these.
 */
export type AuditLoggerLifecycle = Pick<AuditLogger, 'stats' | 'flush' | 'shutdown'>;

/** A provider that can flush (the OTel SDK's), or the global proxy in front of one. */
interface FlushableProvider {
  forceFlush?: () => Promise<void>;
  getDelegate?: () => unknown;
}

/**
 * A logger's exit work, keyed by its tracker: the process-wide exit hooks hold the tracker weakly (a dropped
 * logger is collected, with its hooks). The tracker is what every part that can still produce events holds
 * (the logger, its coalescing recorders, their session timers, records in flight), so while any lives, so do
 * these.
 */
const exitWork = new WeakMap<DeliveryTracker, { beforeExit(): void; exit(): void }>();
const runBeforeExit = (tracker: DeliveryTracker) => exitWork.get(tracker)?.beforeExit();
const runExit = (tracker: DeliveryTracker) => exitWork.get(tracker)?.exit();

async function forceFlush(provider: unknown): Promise<void> {
  const p = provider as FlushableProvider | undefined;
  if (typeof p?.forceFlush === 'function') return p.forceFlush();
  if (typeof p?.getDelegate === 'function') return forceFlush(p.getDelegate());
}

/**
 * The `TimeoutError` of `@opentelemetry/core` (whose `name` stays 'Error'), told by its class name: importing
 * it would tie this entry point to the SDK packages, and the application's copy may be another version.
 */
function isOtelTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'TimeoutError' ||
      error.constructor.name === 'TimeoutError' ||
      // A bundler's minifier renames the class; its message stays.
      error.message === 'Operation timed out.')
  );
}

/** A wrong option's value for its error message: JSON when it has one (a circular object or a bigint has none). */
function shownValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

const LOGGER_OPTIONS: Record<keyof AuditLoggerOptions, true> = {
  loggerProvider: true,
  actions: true,
  tenant: true,
  strictActions: true,
  maxEventBytes: true,
  onInvalid: true,
  flushOnExit: true,
  onDrop: true,
  onError: true,
};

/**
 * What TypeScript checks, checked for JavaScript callers at creation: a hook that is no function, or a provider
 * without getLogger, would otherwise fail only later, inside the error handling of the first event.
 */
function checkLoggerOptions(options: unknown): void {
  const fail = (option: string, requirement: string, value: unknown): never => {
    throw new AuditOptionError('createAuditLogger', option, requirement, value);
  };
  if (typeof options !== 'object' || options === null)
    fail('options', 'an object (or left out)', shownValue(options));
  const given = options as unknown as Record<string, unknown>;
  refuseUnknownOptions('createAuditLogger', given, LOGGER_OPTIONS);
  for (const hook of ['onInvalid', 'onDrop', 'onError'])
    if (given[hook] !== undefined && typeof given[hook] !== 'function')
      fail(hook, 'a function (or left out)', shownValue(given[hook]));
  for (const flag of ['strictActions', 'flushOnExit'])
    if (given[flag] !== undefined && typeof given[flag] !== 'boolean')
      fail(flag, 'true or false (or left out)', shownValue(given[flag]));
  const provider = given.loggerProvider as { getLogger?: unknown } | null | undefined;
  if (provider !== undefined && typeof provider?.getLogger !== 'function')
    fail(
      'loggerProvider',
      'an OTel LoggerProvider (with getLogger) or left out',
      provider === null ? 'null' : typeof provider,
    );
}

// Three overloads: onInvalid surely set, surely absent, or maybe set (options typed AuditLoggerOptions, whose
// onInvalid is optional): record() may return undefined unless onInvalid is known to be absent.
export function createAuditLogger<const S extends ActionSchemas = Record<never, never>>(
  options: AuditLoggerOptions<S> & { onInvalid: NonNullable<AuditLoggerOptions['onInvalid']> },
): AuditLogger<S, undefined>;
export function createAuditLogger<const S extends ActionSchemas = Record<never, never>>(
  options?: AuditLoggerOptions<S> & { onInvalid?: undefined },
): AuditLogger<S>;
export function createAuditLogger<const S extends ActionSchemas = Record<never, never>>(
  options: AuditLoggerOptions<S>,
): AuditLogger<S, undefined>;
export function createAuditLogger<const S extends ActionSchemas>(
  options: AuditLoggerOptions<S> = {},
): AuditLogger<S, undefined> {
  checkLoggerOptions(options);
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  // NaN (Number(process.env.UNSET)) would disable the limit silently.
  requireLimit('createAuditLogger', 'maxEventBytes', maxEventBytes);
  // Checked here, not at the first record(): a blank default tenant would fail every event that names none.
  if (
    options.tenant !== undefined &&
    (typeof options.tenant !== 'string' ||
      options.tenant.trim() === '' ||
      options.tenant.trim().length > MAX_REFERENCE_LENGTH)
  )
    throw new AuditOptionError(
      'createAuditLogger',
      'tenant',
      `a non-empty string of at most ${MAX_REFERENCE_LENGTH} characters (or left out)`,
      typeof options.tenant === 'string' && options.tenant.length > MAX_REFERENCE_LENGTH
        ? `${options.tenant.trim().length} characters`
        : shownValue(options.tenant),
    );
  // Checked here too, for actions given without defineAuditActions (JavaScript callers).
  if (options.actions !== undefined) defineAuditActions(options.actions);
  // An action strict mode refuses would fail every record() of it: said at creation instead.
  if (options.strictActions === true && options.actions !== undefined) {
    const loose = Object.keys(options.actions).filter((action) => !STRICT_ACTION_PATTERN.test(action));
    if (loose.length > 0)
      throw new AuditOptionError(
        'createAuditLogger',
        'actions',
        'named <service>.<resource>.<verb_past_tense> with strictActions: true (every record() of another would fail)',
        loose.map((action) => JSON.stringify(action)).join(', '),
      );
  }
  const tracker = new DeliveryTracker(options);
  // Without a loggerProvider option the logger follows the global provider at each record. Resolved once, a
  // logger made before registration kept this copy of @opentelemetry/api's own proxy, which a registration
  // through another copy (npm may install two) never reaches: every event was dropped, for good.
  let source: LoggerProvider | undefined;
  // Providers emitted through before the global one was switched: their queues may still hold records, which
  // flush() must not leave to their timers. Held until the next flush (weakly, a provider the application let go
  // was collected with its queued records; its batch timer holds the processor, not the provider).
  const earlierSources = new Set<LoggerProvider>();
  // Their flushes still running: a flush() that starts meanwhile (shutdown() while the beforeExit flush runs)
  // waits for them too, though another flush took them off the list.
  const earlierFlushes = new Set<Promise<void>>();
  let logger: Logger | undefined;
  let lookupReported = false;
  const schemas: ActionSchemas | undefined = options.actions;
  /** Coalescers with open sessions (only those: an idle one the application dropped must be freed). */
  const coalescers = new Set<Coalescer<S, undefined>>();
  let closed = false;
  /** Set when this logger's exit hook ran: no I/O any more, so a later record can only be reported lost. */
  let exited = false;

  const parseOptions = {
    ...(options.strictActions !== undefined && { strictActions: options.strictActions }),
    ...(options.tenant !== undefined && { defaultTenant: options.tenant }),
    ...(options.maxEventBytes !== undefined && { maxEventBytes: options.maxEventBytes }),
  };

  function prepare(input: unknown): PreparedAuditEvent | undefined {
    try {
      let metadataSchema: ActionSchemas[string] | undefined;
      if (schemas) {
        const action = (input as { action?: unknown } | null)?.action;
        if (typeof action === 'string') {
          metadataSchema = Object.hasOwn(schemas, action) ? schemas[action] : undefined;
          if (!metadataSchema) {
            const unknown: AuditIssue = {
              path: ['action'],
              message: `is not one of the logger's actions (${Object.keys(schemas).join(', ')})`,
            };
            // The rest of the event is still checked (metadata aside: no schema), so every problem is listed.
            let others: readonly AuditIssue[] = [];
            try {
              prepareAuditEvent(input, parseOptions);
            } catch (error) {
              if (error instanceof AuditValidationError)
                others = error.issues.filter((issue) => issue.path[0] !== 'action');
            }
            throw new AuditValidationError([unknown, ...others], action);
          }
        }
      }
      return prepareAuditEvent(input, metadataSchema ? { ...parseOptions, metadataSchema } : parseOptions);
    } catch (thrown) {
      // Whatever went wrong reading the input (a getter, a proxy), the caller gets the typed error.
      const error =
        thrown instanceof AuditValidationError
          ? thrown
          : new AuditValidationError([
              {
                path: [],
                message: `could not be read: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
              },
            ]);
      if (!options.onInvalid) throw error;
      tracker.invalid();
      const onInvalid = options.onInvalid;
      reportHookFailure('the onInvalid hook', () => onInvalid(error, input));
      return undefined;
    }
  }

  /**
   * The OTel logger to emit through, looked up again when the provider changed. Undefined when the lookup throws
   * (a hand-written provider's getLogger()): record() must not throw it, so the event is dropped (not_emitted).
   */
  function currentLogger(): Logger | undefined {
    try {
      const provider = options.loggerProvider ?? logs.getLoggerProvider(); // a lookup on globalThis: cheap
      if (provider !== source || logger === undefined) {
        logger = provider.getLogger(AUDIT_SCOPE_NAME, CONVENTIONS_VERSION);
        if (source !== undefined && source !== provider) earlierSources.add(source);
        source = provider;
      }
      return logger;
    } catch (error) {
      if (!lookupReported) {
        lookupReported = true;
        diag.error(
          'otel-audit: the OTel LoggerProvider threw in getLogger(); audit events are dropped (not_emitted) until it returns a logger',
          error,
        );
      }
      return undefined;
    }
  }
  currentLogger(); // at creation too, as before: a provider given as an option is asked once

  function emit(prepared: PreparedAuditEvent, emitContext: Context = context.active()): void {
    const record = toLogRecord(prepared);
    tracker.recorded();
    if (closed || exited) {
      // After the exit hook no pipeline can send it (and an untracked one would lose it without a word).
      tracker.dropped([{ attributes: record.attributes ?? {} }], closed ? 'shutdown' : 'exit');
      return;
    }
    // The context keeps trace correlation; the tracker rides along for the processor.
    record.context = emitContext.setValue(DELIVERY_LISTENER_KEY, tracker);
    const target = currentLogger();
    if (target === undefined) {
      tracker.dropped([{ attributes: record.attributes ?? {} }], 'not_emitted');
      return;
    }
    const reachedBefore = tracker.reachedCount;
    tracker.beginEmit(record);
    let emitError: unknown;
    try {
      target.emit(record);
    } catch (error) {
      // A processor (or hand-written logger) threw: record() must not throw it, nor leave the event pending.
      emitError = error ?? new Error('the OTel logger threw');
    } finally {
      tracker.endEmit();
    }
    if (emitError !== undefined)
      diag.error('otel-audit: the OTel logger threw while emitting an audit event', emitError);
    // It reached a tracking processor (perhaps before a later processor threw): that processor accounts for it.
    if (tracker.reachedCount !== reachedBefore) return;
    if (tracker.tracked || !isEnabled(target, record)) {
      // A tracking processor saw earlier records but not this one (emitting threw before it, or the provider was
      // shut down), or the logger takes no records at all (logger disabled, no provider registered yet): lost.
      tracker.dropped([{ attributes: record.attributes ?? {} }], 'not_emitted');
    } else if (emitError !== undefined) {
      // Untracked so far: an earlier processor may have exported it, so it is not counted lost now. If a
      // tracking processor turns up later, it never saw this record: then it is dropped (not_emitted).
      tracker.unsettled({ attributes: record.attributes ?? {} });
    } else {
      tracker.warnOnce(
        'untracked',
        'otel-audit: no delivery-tracking processor saw this audit event, so drops and export failures cannot ' +
          'be counted; use AuditLogRecordProcessor (or createAuditLoggerProvider) from @otel-audit/sdk/node',
      );
    }
  }

  /**
   * Logger.enabled() (in the Logger API since 1.10). A hand-written logger may lack it, also behind the global
   * ProxyLogger (which then throws): the record went to emit() without error, so it counts as taken.
   */
  function isEnabled(target: Logger, record: LogRecord): boolean {
    if (typeof target.enabled !== 'function') return true;
    try {
      return target.enabled(record);
    } catch (error) {
      tracker.warnOnce(
        'enabled',
        `otel-audit: the OTel Logger.enabled() threw (${String(error)}); assuming enabled`,
      );
      return true;
    }
  }

  const audit: AuditLogger<S, undefined> = {
    record(input) {
      const prepared = prepare(input);
      if (!prepared) return undefined;
      emit(prepared);
      return prepared.event as AuditEvent<typeof input.action>;
    },
    coalesce(coalesceOptions = {}) {
      // After shutdown() no exit hook would report open sessions: the recorder then hands each occurrence to
      // emit(), which drops it (reason shutdown), counted and reported, as record() does.
      const coalescer: Coalescer<S, undefined> = createCoalescer<S, undefined>(
        prepare,
        emit,
        coalesceOptions,
        (merged) => recordSizeOver(merged, maxEventBytes) === undefined,
        {
          open: (open) => {
            if (open) coalescers.add(coalescer);
            else coalescers.delete(coalescer);
          },
          // Also after the exit hooks ran: a session opened then would never be emitted nor reported.
          closed: () => closed || exited,
        },
      );
      return coalescer.recorder;
    },
    stats: () => tracker.stats(openSessions()),
    async flush() {
      // Copied: flushing a recorder removes it from the set.
      for (const { recorder } of [...coalescers]) recorder.flush();
      const current = options.loggerProvider ?? logs.getLoggerProvider();
      // Also the one emitted through last, when the global provider was switched since without a record after it;
      // then forgotten (the next record looks the provider up again), so it is flushed once, not at every flush.
      if (source !== undefined && source !== current) {
        earlierSources.add(source);
        source = undefined;
        logger = undefined;
      }
      earlierSources.delete(current);
      const earlier = [...earlierSources];
      earlierSources.clear(); // nothing is emitted through them any more: one flush empties them
      // OTel's provider stops waiting at 30 s, for every processor it holds (this provider's or a replaced one's).
      let cut = false;
      for (const provider of earlier) {
        // A provider the application replaced is not its concern any more: its failure is reported, not thrown
        // (it would leave shutdown() undone).
        const flushing = forceFlush(provider).catch((error: unknown) => {
          if (isOtelTimeout(error)) cut = true;
          else diag.error('otel-audit: a LoggerProvider replaced as the global one failed to flush', error);
        });
        earlierFlushes.add(flushing);
        const forget = () => earlierFlushes.delete(flushing);
        flushing.then(forget, forget); // not finally(): its own promise would reject unhandled
      }
      try {
        await Promise.all([forceFlush(current), ...earlierFlushes]);
      } catch (error) {
        if (!isOtelTimeout(error)) throw error; // other failures are thrown
        cut = true;
      }
      const own = tracker.trackingProcessors();
      if (cut && own.length === 0)
        // Untracked: what is still held stays the pipeline's to deliver, as after any flush that did not get
        // everything out.
        diag.warn('otel-audit: the LoggerProvider did not finish flushing in time (OTel cut it)');
      // This package's processors may still be sending a backlog batch after batch, past OTel's cut, or for a
      // flush that another call started (a shutdown() overlapping a flush() the cut ended in the other call):
      // the flushes they are running are waited for on their own (each ends by their export timeouts; no new
      // attempt), not through the provider, which also waits for the application's other processors: one that
      // never settles would hold the process for good.
      await Promise.all(own.map((processor) => processor.flushed()));
      return audit.stats();
    },
    async shutdown() {
      const before = tracker.stats();
      const sessionsBefore = openSessions();
      try {
        await audit.flush();
      } finally {
        // Sessions opened while the flush ran are emitted first, as a record() made then is (the pipeline holds
        // them; the provider's shutdown delivers them): closed first, they were dropped after the counts were read.
        for (const { recorder } of [...coalescers]) recorder.close();
        // Stopped whatever the flush did: a later record() is dropped (`shutdown`), never accepted unseen.
        closed = true;
        // The beforeExit flush stays: what was recorded while the flush ran (the flush waits only for what was held
        // when it began) is still the pipeline's, and a process ending without the provider's shutdown delivers it
        // then. Not after a flush that had something to send and delivered none of it (with the endpoint down, exit
        // waited out the exporter's timeout a second time); untracked (nothing is seen delivered), only for records
        // made meanwhile (else a provider shut down since was flushed again, and OTel warned).
        const after = tracker.stats();
        const fruitless = tracker.tracked
          ? (before.pending > 0 || sessionsBefore > 0) && after.exported === before.exported
          : after.pending === before.pending + sessionsBefore; // the sessions its flush emitted
        heldAfterFruitlessFlush = fruitless ? after.pending : -1;
        stopExitReport();
      }
      return audit.stats();
    },
  };

  // `beforeExit` fires again after the flush's own work ends: flush again only while that makes progress (an
  // endpoint that took part of it, e.g. a collector restarting), so an unreachable endpoint cannot keep the
  // process alive forever. A flush that delivered nothing stops it, also one that only emitted open sessions
  // (they count in what is held after it): each try waits out the exporter's own retries.
  let heldAfterFruitlessFlush = -1;
  // Records made while a flush of an untracked pipeline ran get one follow-up flush, not one per flush: an
  // application beforeExit listener that records each time would otherwise keep the process alive forever.
  let followUp = false;
  // An untracked pipeline (the application's own BatchLogRecordProcessor, whose timer does not keep the process
  // alive) is flushed too: its `pending` only grows with new records, so it is flushed once per new batch of them
  // (also records made while the previous flush ran).
  function onBeforeExit(): void {
    const coalesced = openSessions() > 0;
    const { pending, exported } = tracker.stats();
    if (!coalesced && (pending === 0 || pending === heldAfterFruitlessFlush)) return;
    audit.flush().then(
      (after) => {
        // Untracked, `exported` never grows and what it held before the flush was tried: records made while it ran
        // (an application beforeExit listener) were not, and must make the next beforeExit flush again.
        const tried = tracker.tracked || followUp ? after.pending : pending;
        followUp = !tracker.tracked && !followUp && after.pending > pending;
        heldAfterFruitlessFlush = after.exported > exported ? -1 : tried;
      },
      (error: unknown) => {
        // Nobody awaits this flush: an unhandled rejection would end the process with an error. Not retried.
        diag.error('otel-audit: the flush at exit failed', error);
        heldAfterFruitlessFlush = tracker.stats().pending;
      },
    );
  }
  if (options.flushOnExit !== false) onProcessExit(tracker, runBeforeExit);

  function openSessions(): number {
    let open = 0;
    for (const { recorder } of coalescers) open += recorder.pending;
    return open;
  }

  /**
   * Node `exit` (process.exit(), an uncaught exception, or the end without the beforeExit flush): sessions
   * still open were never emitted and cannot be now (no I/O). Each is reported dropped (reason `exit`), and so
   * is every record after this (e.g. from the application's own `exit` listener).
   */
  function onExit(): void {
    exited = true;
    const lost: TrackedRecord[] = [];
    for (const coalescer of [...coalescers])
      for (const prepared of coalescer.abandon())
        lost.push({ attributes: toLogRecord(prepared).attributes ?? {} });
    if (lost.length === 0) return;
    for (let i = 0; i < lost.length; i++) tracker.recorded();
    tracker.dropped(lost, 'exit');
  }
  const stopExitReport = onProcessExitFinal(tracker, runExit);
  exitWork.set(tracker, { beforeExit: onBeforeExit, exit: onExit });

  return audit;
}
