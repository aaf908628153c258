// Session coalescing: repeated events of the same action, actor, targets and outcome within an idle window
// become one event with a count and first/last times (the "sheet saved every second" case).
import { type Context, context } from '@opentelemetry/api';
import type { ActionName, ActionSchemas, RecordInput } from './actions.js';
import type { AuditEvent, PreparedAuditEvent } from './event.js';
import { stringifyJson } from './json.js';
import { refuseUnknownOptions, requireDuration, requireMillis, requireWholeNumber } from './options.js';

export interface CoalesceOptions {
  /** Emit a session after this long without a repeat. Default 5,000 ms. */
  idleMs?: number | undefined;
  /** Emit a session at the latest this long after its first occurrence, even while repeats go on. Default 60,000 ms. */
  maxWindowMs?: number | undefined;
  /** Most open sessions; one more emits the oldest early. Default 10,000. */
  maxSessions?: number | undefined;
}

const COALESCE_OPTIONS: Record<keyof CoalesceOptions, true> = {
  idleMs: true,
  maxWindowMs: true,
  maxSessions: true,
};

export interface CoalescingRecorder<S extends ActionSchemas = ActionSchemas, Invalid = never> {
  /**
   * Validates the event (throwing as `record()` does) and merges it into its open session, or opens one.
   * Returns the session's first occurrence: the merged event is stored under its id (and the earliest time of
   * the session's occurrences). The same id recorded again in the session is not counted twice. An
   * occurrence whose merge would exceed maxEventBytes closes the session (emitted as it is) and opens a new one.
   */
  record<A extends ActionName<S>>(input: RecordInput<S, A>): AuditEvent<A> | Invalid;
  /** Emits every open session now. */
  flush(): void;
  /** Emits every open session and stops timers; later records are emitted without merging. */
  close(): void;
  /** Open sessions. */
  readonly pending: number;
}

interface Session {
  /** The first occurrence recorded (a snapshot): its id is the session's. */
  first: PreparedAuditEvent;
  /** The last occurrence recorded (a snapshot): the merged event's content (metadata, context, outcome reason...). */
  latest: PreparedAuditEvent;
  /** JSON text of the first occurrence's `changes.before` and the latest one's `changes.after`, when given. */
  before: string | undefined;
  after: string | undefined;
  count: number;
  /** Earliest and latest occurredAt of the occurrences (they may be recorded out of order). */
  firstOccurredAt: Date;
  lastOccurredAt: Date;
  /**
   * The last SESSION_IDS_KEPT ids the caller gave occurrences (insertion order: oldest first): the same id
   * recorded again is a retry, not one more occurrence. The session's own id is checked apart, always.
   */
  ids: Set<string>;
  /** performance.now() at opening: maxWindowMs holds when the wall clock steps (back an hour: the window grew by it). */
  openedAt: number;
  /** Active context of the first occurrence: the merged event carries its trace, not the flusher's. */
  context: Context;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Caller-given ids a session remembers for retries: the last this many (a session that merges endlessly, e.g.
 * maxWindowMs Infinity, would otherwise hold every id: ~100 bytes each). A retry of an older one counts again.
 */
export const SESSION_IDS_KEPT = 1_000;

function hasGivenId(input: unknown): boolean {
  try {
    return (input as { id?: unknown }).id !== undefined;
  } catch {
    return false; // prepare() read it already: a getter that throws now cannot have given an id
  }
}

function sessionKey({ event }: PreparedAuditEvent): string {
  return JSON.stringify([
    event.tenant,
    event.action,
    event.version,
    event.outcome,
    event.actor.type,
    event.actor.id,
    event.targets.map((t) => [t.type, t.id]),
  ]);
}

/** A coalescer as its logger holds it. */
export interface Coalescer<S extends ActionSchemas, Invalid> {
  recorder: CoalescingRecorder<S, Invalid>;
  /**
   * The process is exiting (no I/O any more): takes the open sessions' merged events without emitting them,
   * stops their timers and closes the recorder, so the logger can report them.
   */
  abandon(): PreparedAuditEvent[];
}

/**
 * The merged event: the latest occurrence's content (metadata, outcome reason, context, actor and target names
 * and fields: all from one occurrence), under the first occurrence's id; the earliest and latest occurredAt;
 * changes from the first occurrence's `before` to the latest one's `after` (in `json.changes`, which is what the
 * log record carries; `event.changes` is left out).
 */
function merged(session: Session): PreparedAuditEvent {
  const { first, latest, count } = session;
  if (count === 1) return first;
  const event: AuditEvent = {
    ...latest.event,
    id: first.event.id,
    occurredAt: session.firstOccurredAt,
    lastOccurredAt: session.lastOccurredAt,
    count,
  };
  const json = { ...latest.json };
  delete event.changes;
  delete json.changes;
  const parts: string[] = [];
  if (session.before !== undefined) parts.push(`"before":${session.before}`);
  if (session.after !== undefined) parts.push(`"after":${session.after}`);
  // What stringifyJson({ before, after }) writes (no spaces; wide integers in exponent form per value).
  if (parts.length > 0) json.changes = `{${parts.join(',')}}`;
  return { event, json };
}

/**
 * The session's own copy of an occurrence, taken inside record(): what the log record reads later (strings,
 * the times, the JSON texts) must not follow a caller's later edits of its input or of what record() returned.
 * Nested values (metadata, fields, targets, changes) travel as the JSON texts made by then; their objects are
 * not read again.
 */
function snapshot({ event, json }: PreparedAuditEvent): PreparedAuditEvent {
  return {
    event: {
      ...event,
      actor: { ...event.actor },
      context: { ...event.context },
      occurredAt: new Date(event.occurredAt.getTime()),
      lastOccurredAt: new Date(event.lastOccurredAt.getTime()),
    },
    json: { ...json },
  };
}

const textOf = (value: unknown): string | undefined =>
  value === undefined ? undefined : stringifyJson(value);

/** How a coalescer and its logger keep in touch, without the logger holding an idle coalescer. */
export interface CoalescerLink {
  /**
   * The coalescer has open sessions (true: its first opened) or none any more (false). The logger holds it
   * only in between, to flush or abandon them: a recorder the application dropped with nothing open is freed.
   */
  open(open: boolean): void;
  /** The logger was shut down: later occurrences are emitted at once (and dropped there), never held. */
  closed(): boolean;
}

/**
 * `fits` says whether a merged event is within the logger's maxEventBytes: first before + latest after can
 * be bigger than either occurrence.
 */
export function createCoalescer<S extends ActionSchemas, Invalid>(
  prepare: (input: unknown) => PreparedAuditEvent | undefined,
  emit: (prepared: PreparedAuditEvent, emitContext?: Context) => void,
  options: CoalesceOptions,
  fits: (merged: PreparedAuditEvent) => boolean,
  link: CoalescerLink,
): Coalescer<S, Invalid> {
  refuseUnknownOptions('coalesce', options, COALESCE_OPTIONS);
  const idleMs = options.idleMs ?? 5_000;
  const maxWindowMs = options.maxWindowMs ?? 60_000;
  const maxSessions = options.maxSessions ?? 10_000;
  // A timer is armed for min(idle, rest of the window): only that must fit setTimeout; a longer window or idle
  // time (Infinity included) is fine.
  requireDuration('coalesce', 'idleMs', idleMs);
  requireDuration('coalesce', 'maxWindowMs', maxWindowMs);
  requireMillis('coalesce', 'min(idleMs, maxWindowMs)', Math.min(idleMs, maxWindowMs), 1);
  requireWholeNumber('coalesce', 'maxSessions', maxSessions);
  // Insertion order = age: the first key is the oldest session.
  const sessions = new Map<string, Session>();
  let closed = false;

  function close(key: string): void {
    const session = sessions.get(key);
    if (!session) return;
    sessions.delete(key);
    clearTimeout(session.timer);
    if (sessions.size === 0) link.open(false);
    emit(merged(session), session.context);
  }

  function arm(key: string, session: Session): void {
    clearTimeout(session.timer);
    const delay = Math.max(0, Math.min(idleMs, session.openedAt + maxWindowMs - performance.now()));
    // Unref'd: an open session does not keep the process alive (the logger flushes on exit).
    session.timer = setTimeout(() => close(key), delay);
    session.timer.unref?.();
  }

  const recorder: CoalescingRecorder<S, Invalid> = {
    record(input) {
      const prepared = prepare(input);
      if (!prepared) return undefined as Invalid;
      if (closed || link.closed()) {
        emit(prepared);
        return prepared.event as AuditEvent<typeof input.action>;
      }
      const key = sessionKey(prepared);
      const session = sessions.get(key);
      // An id the caller gave: recorded again, it is the same occurrence (a retry).
      const givenId = hasGivenId(input) ? prepared.event.id : undefined;
      if (session) {
        if (givenId !== undefined && (givenId === session.first.event.id || session.ids.has(givenId)))
          return snapshot(session.first).event as AuditEvent<typeof input.action>;
        const latest = snapshot(prepared);
        const at = latest.event.occurredAt;
        const next: Session = {
          ...session,
          latest,
          after: textOf(prepared.event.changes?.after),
          count: session.count + 1,
          firstOccurredAt: at < session.firstOccurredAt ? at : session.firstOccurredAt,
          lastOccurredAt: at > session.lastOccurredAt ? at : session.lastOccurredAt,
        };
        if (fits(merged(next))) {
          Object.assign(session, next);
          if (givenId !== undefined && !session.ids.has(givenId)) {
            session.ids.add(givenId);
            if (session.ids.size > SESSION_IDS_KEPT)
              session.ids.delete(session.ids.values().next().value as string);
          }
          arm(key, session);
          return snapshot(session.first).event as AuditEvent<typeof input.action>;
        }
        // Merged, it would be over maxEventBytes: emit the session as it is and open a new one with this
        // occurrence (both are stored; neither is over the limit).
        close(key);
      }
      if (sessions.size >= maxSessions) close(sessions.keys().next().value as string);
      const first = snapshot(prepared);
      const opened: Session = {
        first,
        latest: first,
        before: textOf(prepared.event.changes?.before),
        after: textOf(prepared.event.changes?.after),
        count: 1,
        firstOccurredAt: first.event.occurredAt,
        lastOccurredAt: first.event.occurredAt,
        // The session's own id (what record() returned, which a retry may pass back) is checked apart.
        ids: new Set(),
        openedAt: performance.now(),
        context: context.active(),
        timer: undefined,
      };
      sessions.set(key, opened);
      if (sessions.size === 1) link.open(true);
      arm(key, opened);
      return prepared.event as AuditEvent<typeof input.action>;
    },
    flush() {
      for (const key of [...sessions.keys()]) close(key);
    },
    close() {
      closed = true;
      for (const key of [...sessions.keys()]) close(key);
    },
    get pending() {
      return sessions.size;
    },
  };
  function abandon(): PreparedAuditEvent[] {
    closed = true;
    const open = [...sessions.values()];
    sessions.clear();
    if (open.length > 0) link.open(false);
    for (const session of open) clearTimeout(session.timer);
    return open.map(merged);
  }
  return { recorder, abandon };
}
