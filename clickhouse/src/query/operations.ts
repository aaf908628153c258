import type { ClickHouseClient } from '@clickhouse/client';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { BASE_SETTINGS } from '../connection.js';
import { AuditStoreError, AuditStoreInputError } from '../errors.js';
import { isMissingTable } from '../migrations.js';
import { encodeCursor, queryFingerprint } from './cursor.js';
import {
  ACTOR_ORDER,
  type ActorRef,
  type BuiltQuery,
  buildFilter,
  checkTenant,
  type EventFilter,
  MAX_VALUE_LENGTH,
  type PageOptions,
  refuseUnknownKeys,
  type TargetRef,
  TIMELINE_OPTION_KEYS,
} from './filters.js';
import { EVENT_SELECT, type EventRow, rowToEvent, type StoredAuditEvent, utcMillis } from './rows.js';

export interface EventPage {
  /** Up to `limit` events, fewer when they are large: a page holds about PAGE_TEXT_BYTES at most (always one event). */
  events: StoredAuditEvent[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface Reader {
  client: ClickHouseClient;
  db: string;
  /**
   * Set on reads whose rows are not sized first (see `bounded`): the engine refuses a result over this many bytes
   * instead of handing it over.
   */
  maxResultBytes?: number | undefined;
}

async function rows<T>(r: Reader, query: string, params: Record<string, unknown>): Promise<T[]> {
  try {
    const result = await r.client.query({
      query,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings:
        r.maxResultBytes === undefined
          ? BASE_SETTINGS
          : { ...BASE_SETTINGS, max_result_bytes: String(r.maxResultBytes), result_overflow_mode: 'throw' },
    });
    return await result.json<T>();
  } catch (error) {
    // The engine's "Database x does not exist" / "Unknown table ..." does not say what to do.
    if (isMissingTable(error))
      throw new AuditStoreError(
        `the store's database ${r.db} lacks a table this release reads (${(error as Error).message.trim()}): ` +
          'run migrate first (store.migrate(), or otel-audit migrate)',
        { cause: error },
      );
    throw error;
  }
}

// FINAL: a duplicate not merged yet is collapsed at read time (the bench compares it with LIMIT 1 BY).
const events = (r: Reader) => `${r.db}.${AUDIT_TABLES.events} FINAL`;

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// As the Event dashboard reads a pasted id (toUUIDOrNull): all four dashes or none (as some tools print it).
const PASTED_UUID = /^([0-9a-f]{8})(-?)([0-9a-f]{4})\2([0-9a-f]{4})\2([0-9a-f]{4})\2([0-9a-f]{12})$/i;

function checkIdValue(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_VALUE_LENGTH)
    throw new AuditStoreInputError(
      'id',
      `must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters`,
    );
  return id;
}

/**
 * An event id as reads return it (lowercase UUID text with dashes), from an id as a person pastes it: spaces, tabs
 * and line breaks around it, upper case, or the 32 hex digits without dashes. Undefined when it can name no event
 * (toUUIDOrZero would turn it into the nil UUID, which a sender may have stored). AuditStoreInputError when empty or
 * too long.
 */
export function eventIdText(id: unknown): string | undefined {
  const parts = PASTED_UUID.exec(checkIdValue(id).replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, ''));
  if (!parts) return undefined;
  const [, a, , b, c, d, e] = parts;
  return `${a}-${b}-${c}-${d}-${e}`.toLowerCase();
}

/**
 * Whether an id is UUID text as reads return it (upper case aside), which `toUUID` takes as it is; AuditStoreInputError
 * when empty or too long. getEvent also finds an id as pasted: see eventIdText.
 */
export function checkEventId(id: unknown): boolean {
  return UUID_TEXT.test(checkIdValue(id));
}

export async function getEvent(r: Reader, tenant: string, id: string): Promise<StoredAuditEvent | undefined> {
  const checkedTenant = checkTenant(tenant);
  const text = eventIdText(id);
  if (text === undefined) return undefined;
  const params = { tenant: checkedTenant, id: text };
  const found = await rows<EventRow>(
    r,
    // An id sent again under another actor or time is a second row (a different key): the one received first
    // (LIMIT 1 alone returned either), by each row's last delivery (a collapsed row keeps it: see the README,
    // Duplicates); copies of one insert tie on received_at and go by time, then actor id, so every read picks
    // the same one.
    `SELECT ${EVENT_SELECT} FROM ${events(r)} WHERE tenant = {tenant:String} AND event_id = toUUID({id:String})
     ORDER BY received_at, occurred_at, actor_id LIMIT 1`,
    params,
  );
  return found[0] && rowToEvent(found[0]);
}

/**
 * Target keys read in the first window; each further window reads 4x more (few round trips, bounded sets).
 * On the 10M-event bench data a window costs ~0.1 ms per key, so a target of up to 4,096 events is read in
 * one window, as before windows existed (hot target of 2,787 events with an outcome filter: ~350 ms either way;
 * first windows of 256 keys took ~950 ms in three round trips).
 */
export const FIRST_KEY_WINDOW = 4096;
const MAX_KEY_WINDOW = 65_536;

/** A newest-first page's rows; those read with the actor hash as tie-break carry it (see CursorKey). */
type PageRow = EventRow & { actor_order?: string };

/**
 * Rows of one (occurred_at, event_id) under several actors (an id re-sent under another actor) are ordered by
 * cityHash64(actor_id), which the cursor then carries; with an actor filter there are none (that would be one
 * key, collapsed by FINAL), so the hash is left out. Measured on 1M bench events, alternated: the hash costs a
 * tenant-wide page ~1 ms of ~25, a target page ~0.3 ms; LIMIT … WITH TIES instead (never splitting such rows
 * across pages) took a tenant-wide page from ~25 to ~150 ms. UInt64 comes back as text
 * (output_format_json_quote_64bit_integers).
 */
const pageSql = (r: Reader, where: string[], limit: number, filter: EventFilter, select = EVENT_SELECT) =>
  filter.actor === undefined
    ? `SELECT ${select}, ${ACTOR_ORDER} AS actor_order FROM ${events(r)} WHERE ${where.join(' AND ')}
       ORDER BY occurred_at DESC, event_id DESC, actor_order DESC LIMIT ${limit}`
    : `SELECT ${select} FROM ${events(r)} WHERE ${where.join(' AND ')}
       ORDER BY occurred_at DESC, event_id DESC LIMIT ${limit}`;

/**
 * Bytes of events a page holds at most (as SIZE_SELECT counts them: about the page's JSON; the engine's own JSON
 * result, which escapes `/` and the JSON columns' quotes again, can be up to ~2x that). A read holds its whole result
 * several times over (the engine's, its JSON text, the parsed events: 700 events of 1 MB took a process to
 * 4.1 GB), so a page of up to 10,000 events near the record size limit would take tens of gigabytes.
 */
export const PAGE_TEXT_BYTES = 16 * 1024 * 1024;
/**
 * Pages of up to this many events (the default limit) are read at once, bounded: only a page whose rows pass
 * PAGE_TEXT_BYTES in the engine is read again, sized (100 events at serve's 2 MiB record limit: ~200 MB otherwise).
 * The engine counts its bytes, not JSON's: control characters (6 bytes each in JSON) can take such a page to ~6x.
 */
export const UNSIZED_PAGE_ROWS = 100;

/** The engine's refusal of a result over max_result_bytes (TOO_MANY_ROWS_OR_BYTES). */
function isResultOverflow(error: unknown): boolean {
  return error instanceof Error && error.message.includes('Limit for result exceeded');
}

/**
 * Runs `read` with the engine refusing any result over `bytes` (it stops at the first block past it); undefined
 * when it did. Reading a page whose size is unknown this way costs nothing when it fits, and keeps a page of huge
 * events from being held, parsed and sent whole.
 */
export async function bounded<T>(
  r: Reader,
  bytes: number,
  read: (bounded: Reader) => Promise<T>,
): Promise<T | undefined> {
  try {
    return await read({ ...r, maxResultBytes: bytes });
  } catch (error) {
    if (isResultOverflow(error)) return undefined;
    throw error;
  }
}

/**
 * A row's size in bytes as the page will carry it: every column, each array item with its JSON punctuation
 * (20,000 small targets counted at 2 bytes each let a page reach 17x the bound), plain text columns with their JSON
 * escapes (a control character is 6 bytes, `"` and `\` are 2: 5.9x otherwise); JSON columns (metadata, changes,
 * fields) go out as parsed, about their stored length.
 */
const SIZE_SELECT = `event_id, occurred_at, actor_id, 512 + length(concat(tenant, action, outcome_reason, actor_id,
    actor_type, actor_name, ip, user_agent, request_id, trace_id, span_id, service_name, malformed,
    arrayStringConcat(arrayMap(t -> concat(t.type, t.id, t.name), targets))) AS text)
  + 5 * countMatches(text, '[[:cntrl:]]') + countSubstrings(text, '"') + countSubstrings(text, '\\\\')
  + length(metadata) + length(changes) + length(actor_fields) + arraySum(f -> 4 + length(f), target_fields)
  + 40 * length(targets) AS bytes`;

/** What every page read selects: the keys that paging and the target checks need. */
type KeyRow = Pick<EventRow, 'event_id' | 'occurred_at' | 'actor_id'> & { actor_order?: string };
type SizeRow = KeyRow & { bytes: string | number };

/**
 * Newest first, keyset-paginated over (occurred_at, event_id, actor hash). A page of up to UNSIZED_PAGE_ROWS is
 * one read, bounded to PAGE_TEXT_BYTES; a larger page, or one that passed that bound, is sized first (sizedPage).
 */
export async function search(
  r: Reader,
  filter: EventFilter,
  page: PageOptions = {},
  firstKeyWindow = FIRST_KEY_WINDOW,
): Promise<EventPage> {
  // Checks the filter and page as every read does.
  const { limit } = buildFilter(r.db, filter, page);
  if (limit <= UNSIZED_PAGE_ROWS) {
    const read = await bounded(r, PAGE_TEXT_BYTES, (b) => readPage(b, filter, page, firstKeyWindow));
    if (read !== undefined) return read;
  }
  return sizedPage(r, filter, page, firstKeyWindow);
}

/**
 * A page sized before it is read: the same read selecting only each row's keys and size, cut where the page
 * would pass PAGE_TEXT_BYTES (always at least one row); then that many full rows are read.
 */
export async function sizedPage(
  r: Reader,
  filter: EventFilter,
  page: PageOptions,
  firstKeyWindow: number,
): Promise<EventPage> {
  const q = buildFilter(r.db, filter, page);
  const { limit } = q;
  const sized = await pageRows<SizeRow>(r, q, filter, page, firstKeyWindow, SIZE_SELECT);
  const n = rowsThatFit(sized);
  if (n === 0) return { events: [] };
  const full = await readPage(r, filter, { limit: n, cursor: page.cursor }, firstKeyWindow, true);
  // The page is the last when the sizing read was the whole rest (fewer rows than the limit, none cut) and the
  // full read ended on the same row (its whole key: an id re-sent at another time is another row). Otherwise
  // events arrived or went between the two reads, and the cursor stays.
  const lastSized = sized[sized.length - 1];
  const lastRead = full.events[full.events.length - 1];
  const whole =
    n === sized.length &&
    sized.length < limit &&
    full.events.length === n &&
    lastRead !== undefined &&
    lastSized !== undefined &&
    lastRead.id === lastSized.event_id &&
    lastRead.actor.id === lastSized.actor_id &&
    lastRead.occurredAt.getTime() === utcMillis(lastSized.occurred_at, lastSized.event_id, 'occurred_at');
  return whole ? { events: full.events } : full;
}

/** How many of the sized rows, in order, fit in PAGE_TEXT_BYTES (at least one, if any). */
function rowsThatFit(sized: readonly { bytes: string | number }[]): number {
  let n = 0;
  let bytes = 0;
  for (const row of sized) {
    const size = Number(row.bytes);
    if (n > 0 && bytes + size > PAGE_TEXT_BYTES) break;
    bytes += size;
    n += 1;
  }
  return n;
}

/**
 * One read of a page: `limit` full rows at most; a cursor when it read that many. `afterSizing`: the rows were
 * sized first, so a cursor whatever it read, and a target page selects only rows holding the target (see
 * targetPage: its extra rows would be the very bytes the sizing left out).
 */
export async function readPage(
  r: Reader,
  filter: EventFilter,
  page: PageOptions,
  firstKeyWindow: number,
  afterSizing = false,
): Promise<EventPage> {
  const q = buildFilter(r.db, filter, page);
  const { limit } = q;
  const found = await pageRows<PageRow>(r, q, filter, page, firstKeyWindow, EVENT_SELECT, afterSizing);
  const list = found.map(rowToEvent);
  const last = list[list.length - 1];
  const actorHash = found[found.length - 1]?.actor_order;
  return {
    events: list,
    ...((list.length === limit || afterSizing) &&
      last && {
        nextCursor: encodeCursor({
          occurredAtMs: last.occurredAt.getTime(),
          eventId: last.id,
          ...(actorHash !== undefined && { actorHash }),
          query: queryFingerprint(filter),
        }),
      }),
  };
}

/**
 * The rows of one page read (`q`: the filter and page, built), selecting `columns` (full rows, or keys and sizes).
 * `checkTarget`: a target page checks its rows in WHERE, so only rows of the page are read. Its keys are the
 * target's newest (whole milliseconds), so the rows holding the target among them are its newest, in order; when
 * fewer than a page come back (keys taken by other events, as in targetPage), the windowed scan reads them exactly.
 */
async function pageRows<T extends KeyRow>(
  r: Reader,
  q: BuiltQuery,
  filter: EventFilter,
  page: PageOptions,
  firstKeyWindow: number,
  columns: string,
  checkTarget = false,
): Promise<T[]> {
  if (q.targetKeyScan) return scanTargetWindows<T>(r, filter, page, q.limit, firstKeyWindow, columns);
  if (q.targetCheck === undefined) return rows<T>(r, pageSql(r, q.where, q.limit, filter, columns), q.params);
  if (!checkTarget) return targetPage<T>(r, q, filter, page, firstKeyWindow, columns);
  const found = await rows<T>(r, pageSql(r, [...q.where, q.targetCheck], q.limit, filter, columns), q.params);
  return found.length === q.limit
    ? found
    : scanTargetWindows<T>(r, filter, page, q.limit, firstKeyWindow, columns);
}

/** Where a page in storage order ended: the sorting key of audit_events after the tenant. */
export interface StorageKey {
  actorId: string;
  /** occurred_at as the engine returned it (text, read back as DateTime64(3)). */
  occurredAt: string;
  eventId: string;
}

/**
 * A page of events in audit_events' own order (actor, time, then id in the engine's UUID order) after `after`:
 * each page starts at its place in the sorting key, where a newest-first page of a large tenant reads the time of
 * every older row again (a bulk export). A target filter is refused: its events are read through their keys.
 * `sized`: the page's rows are sized first and only those fitting PAGE_TEXT_BYTES are read (as sizedPage does).
 * `more`: whether rows may follow.
 */
export async function storageOrderPage(
  r: Reader,
  filter: EventFilter,
  limit: number,
  after?: StorageKey,
  sized = false,
): Promise<{ events: StoredAuditEvent[]; last?: StorageKey; more: boolean }> {
  if (filter.target !== undefined)
    throw new AuditStoreInputError(
      'order',
      '"actor" (storage order) applies without a target filter; a target\'s events are read through its keys, newest first',
    );
  const q = buildFilter(r.db, filter, { limit });
  const where = [...q.where];
  const params: Record<string, unknown> = { ...q.params };
  if (after) {
    // The tuple alone is not used by the primary key (each page read the tenant from its first row again); the
    // actor bound it implies is.
    where.push(
      'actor_id >= {after_actor:String}',
      "(actor_id, occurred_at, event_id) > ({after_actor:String}, toDateTime64({after_at:String}, 3, 'UTC'), toUUID({after_id:String}))",
    );
    Object.assign(params, {
      after_actor: after.actorId,
      after_at: after.occurredAt,
      after_id: after.eventId,
    });
  }
  const read = <T>(columns: string, n: number) =>
    rows<T>(
      r,
      `SELECT ${columns} FROM ${events(r)} WHERE ${where.join(' AND ')} ORDER BY actor_id, occurred_at, event_id LIMIT ${n}`,
      params,
    );
  let n = limit;
  let lastSized: SizeRow | undefined;
  let sizedMore = true;
  if (sized) {
    const sizes = await read<SizeRow>(SIZE_SELECT, limit);
    n = rowsThatFit(sizes);
    if (n === 0) return { events: [], more: false };
    lastSized = sizes[n - 1];
    sizedMore = n < sizes.length || sizes.length === limit;
  }
  const found = await read<EventRow>(EVENT_SELECT, n);
  const end = found.at(-1);
  // The sizing read's "nothing after these" holds only if the full read ended on the same row: an event inserted
  // between the two reads inside the range pushes the last sized row past the page.
  const sameEnd =
    lastSized === undefined ||
    (end !== undefined &&
      end.actor_id === lastSized.actor_id &&
      end.occurred_at === lastSized.occurred_at &&
      end.event_id === lastSized.event_id);
  return {
    events: found.map(rowToEvent),
    ...(end && { last: { actorId: end.actor_id, occurredAt: end.occurred_at, eventId: end.event_id } }),
    // Fewer rows than asked: none are left (the read takes the next n after `after`, whichever they are).
    more: found.length === n && (sizedMore || !sameEnd),
  };
}

/** Rows a target page reads before checking them, per row of the page; more means reading it again. */
export const TARGET_PAGE_SLACK = 4;

/**
 * A page of one target with nothing else to filter. Its keys are already limited to the page; whether a row
 * holds the target is read as a column and checked here, because the same check as a WHERE condition on this
 * FINAL read made pages slower (10M-event bench data, alternated: hot target 63 vs 55 ms, typical 21 vs
 * 16-18). Every key has a row holding the target unless its event was re-sent with other targets, so a short
 * page with no row dropped is the target's last. A dropped row (another event sharing the key: same actor,
 * same millisecond; or a key left behind by a re-send) may have taken a key the page needed, so the page is
 * then read exactly with the windowed key scan, unless fewer keys than a page came back (their LIMIT did not
 * bind). A key whose row the retention TTL already removed brings no row and goes unseen: only events past
 * retention are affected.
 */
async function targetPage<T extends KeyRow>(
  r: Reader,
  q: BuiltQuery,
  filter: EventFilter,
  page: PageOptions,
  firstKeyWindow: number,
  columns: string,
): Promise<T[]> {
  const { limit } = q;
  const cap = limit * TARGET_PAGE_SLACK;
  const read = await rows<T & { has_target: number }>(
    r,
    pageSql(r, q.where, cap + 1, filter, `${columns}, ${q.targetCheck} AS has_target`),
    q.params,
  );
  const found: T[] = [];
  for (const { has_target, ...row } of read) {
    if (found.length === limit) break;
    // The row without has_target: exactly the columns asked for.
    if (Number(has_target) === 1) found.push(row as unknown as T);
  }
  if (found.length === limit || found.length === read.length) return found;
  const keys = new Set(read.map((row) => `${row.actor_id}\u0000${row.occurred_at}`));
  if (read.length <= cap && keys.size < limit) return found;
  return scanTargetWindows<T>(r, filter, page, limit, firstKeyWindow, columns);
}

/**
 * A target plus other filters: which of the target's events match is only known from the full rows, so the
 * target's keys are read newest first in windows of time, each ending where the previous began (a window
 * covers whole milliseconds: it starts at the millisecond of its oldest key), until the page is full or the
 * keys run out. Rows of a window are all newer than those of the next, so the pages stay exact.
 */
async function scanTargetWindows<T extends KeyRow>(
  r: Reader,
  filter: EventFilter,
  page: PageOptions,
  limit: number,
  firstKeyWindow: number,
  columns: string,
): Promise<T[]> {
  const out: T[] = [];
  let toMs: number | undefined;
  for (let keys = Math.max(firstKeyWindow, 4 * limit); ; keys = Math.min(keys * 4, MAX_KEY_WINDOW)) {
    // The target's key conditions (time filters, cursor) below the previous window, as buildFilter writes them.
    const below = buildFilter(r.db, filter, page, true, toMs === undefined ? {} : { toMs }, false);
    const keyWhere = below.targetKeyScan?.where ?? [];
    const [edge] = await rows<{ n: string; from_ms: string }>(
      r,
      `SELECT count() AS n, toUnixTimestamp64Milli(min(occurred_at)) AS from_ms FROM (
         SELECT occurred_at FROM ${r.db}.${AUDIT_TABLES.byTarget} WHERE ${keyWhere.join(' AND ')}
         ORDER BY occurred_at DESC LIMIT ${keys})`,
      below.params,
    );
    const n = Number(edge?.n ?? 0);
    if (n === 0) return out;
    const last = n < keys;
    const fromMs = last ? undefined : Number(edge?.from_ms);
    const need = limit - out.length;
    const q = buildFilter(
      r.db,
      filter,
      { ...page, limit: need },
      true,
      { ...(fromMs !== undefined && { fromMs }), ...(toMs !== undefined && { toMs }) },
      false,
    );
    out.push(...(await rows<T>(r, pageSql(r, q.where, need, filter, columns), q.params)));
    if (out.length >= limit || last) return out;
    toMs = fromMs;
  }
}

/** Other filters and paging; the method's own actor or target wins over one given here. */
export type TimelineOptions = Omit<EventFilter, 'tenant'> & PageOptions;

function checkOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null)
    throw new AuditStoreInputError(
      'options',
      'must be an object (filters and { limit?, cursor? }) or left out',
    );
  // `tenant` too: the method's own tenant would silently replace it.
  refuseUnknownKeys(options, TIMELINE_OPTION_KEYS, 'the options');
}

export async function actorTimeline(
  r: Reader,
  tenant: string,
  actor: ActorRef,
  options: TimelineOptions = {},
): Promise<EventPage> {
  checkOptions(options);
  const { limit, cursor, ...filter } = options;
  return search(r, { ...filter, tenant, actor }, { limit, cursor });
}

export async function targetHistory(
  r: Reader,
  tenant: string,
  target: TargetRef,
  options: TimelineOptions = {},
): Promise<EventPage> {
  checkOptions(options);
  const { limit, cursor, ...filter } = options;
  return search(r, { ...filter, tenant, target }, { limit, cursor });
}

export interface ActionCount {
  action: string;
  count: number;
}

export async function countByAction(r: Reader, filter: EventFilter): Promise<ActionCount[]> {
  const q = buildFilter(r.db, filter, {}, false);
  const found = await rows<{ action: string; n: string }>(
    r,
    `SELECT action, count() AS n FROM ${events(r)} WHERE ${q.where.join(' AND ')} GROUP BY action ORDER BY n DESC, action`,
    q.params,
  );
  return found.map((f) => ({ action: f.action, count: Number(f.n) }));
}

/** Bucket widths in ms: each divides a UTC day, so a bucket starts at a whole multiple of it since the epoch. */
export const INTERVALS = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
} as const;
export type Interval = keyof typeof INTERVALS;

export interface TimeBucket {
  start: Date;
  count: number;
}

/** Event counts per minute/hour/day (UTC), oldest first; empty buckets are left out. */
export async function countOverTime(
  r: Reader,
  filter: EventFilter,
  interval: Interval = 'hour',
): Promise<TimeBucket[]> {
  const step = INTERVALS[interval];
  if (!Object.hasOwn(INTERVALS, interval) || step === undefined) {
    throw new AuditStoreInputError('interval', `must be one of ${Object.keys(INTERVALS).join(', ')}`);
  }
  const q = buildFilter(r.db, filter, {}, false);
  const found = await rows<{ t: string; n: string }>(
    r,
    // Integer arithmetic on ms, not toStartOfInterval: that returns a 32-bit DateTime, and a bucket past
    // 2106-02-07 wrapped to 1970-2106 (occurred_at goes to 2262). Rounded down, also before 1970 (intDiv
    // rounds toward zero: such an event went to the next bucket).
    `SELECT intDiv((toUnixTimestamp64Milli(occurred_at) AS ms) - if(ms < 0, ${step - 1}, 0), ${step}) * ${step} AS t,
            count() AS n
     FROM ${events(r)} WHERE ${q.where.join(' AND ')} GROUP BY t ORDER BY t`,
    q.params,
  );
  return found.map((f) => ({ start: new Date(Number(f.t)), count: Number(f.n) }));
}
