import type { ClickHouseClient } from '@clickhouse/client';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { BASE_SETTINGS } from '../connection.js';
import { AuditStoreInputError } from '../errors.js';
import { encodeCursor } from './cursor.js';
import {
  type ActorRef,
  buildFilter,
  checkTenant,
  type EventFilter,
  MAX_VALUE_LENGTH,
  type PageOptions,
  type TargetRef,
} from './filters.js';
import { EVENT_SELECT, type EventRow, rowToEvent, type StoredAuditEvent } from './rows.js';

export interface EventPage {
  events: StoredAuditEvent[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface Reader {
  client: ClickHouseClient;
  db: string;
}

async function rows<T>(r: Reader, query: string, params: Record<string, unknown>): Promise<T[]> {
  const result = await r.client.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: BASE_SETTINGS,
  });
  return result.json<T>();
}

// FINAL: a duplicate not merged yet is collapsed at read time (the bench compares it with LIMIT 1 BY).
const events = (r: Reader) => `${r.db}.${AUDIT_TABLES.events} FINAL`;

export async function getEvent(r: Reader, tenant: string, id: string): Promise<StoredAuditEvent | undefined> {
  const params = { tenant: checkTenant(tenant), id };
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_VALUE_LENGTH)
    throw new AuditStoreInputError(
      'id',
      `must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters`,
    );
  const found = await rows<EventRow>(
    r,
    `SELECT ${EVENT_SELECT} FROM ${events(r)} WHERE tenant = {tenant:String} AND event_id = toUUIDOrZero({id:String}) LIMIT 1`,
    params,
  );
  return found[0] && rowToEvent(found[0]);
}

/** Newest first, keyset-paginated over (occurred_at, event_id). */
export async function search(r: Reader, filter: EventFilter, page: PageOptions = {}): Promise<EventPage> {
  const q = buildFilter(r.db, filter, page);
  const found = await rows<EventRow>(
    r,
    `SELECT ${EVENT_SELECT} FROM ${events(r)} WHERE ${q.where.join(' AND ')} ORDER BY occurred_at DESC, event_id DESC LIMIT ${q.limit}`,
    q.params,
  );
  const list = found.map(rowToEvent);
  const last = found[found.length - 1];
  return {
    events: list,
    ...(found.length === q.limit &&
      last && {
        nextCursor: encodeCursor({ occurredAtMs: Number(last.occurred_ms), eventId: last.eid }),
      }),
  };
}

/** Other filters and paging; the method's own actor or target wins over one given here. */
export type TimelineOptions = Omit<EventFilter, 'tenant'> & PageOptions;

export function actorTimeline(
  r: Reader,
  tenant: string,
  actor: ActorRef,
  options: TimelineOptions = {},
): Promise<EventPage> {
  const { limit, cursor, ...filter } = options;
  return search(r, { ...filter, tenant, actor }, { limit, cursor });
}

export function targetHistory(
  r: Reader,
  tenant: string,
  target: TargetRef,
  options: TimelineOptions = {},
): Promise<EventPage> {
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

export const INTERVALS = {
  minute: 'INTERVAL 1 MINUTE',
  hour: 'INTERVAL 1 HOUR',
  day: 'INTERVAL 1 DAY',
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
    `SELECT toUnixTimestamp64Milli(toDateTime64(toStartOfInterval(occurred_at, ${step}, 'UTC'), 3, 'UTC')) AS t, count() AS n
     FROM ${events(r)} WHERE ${q.where.join(' AND ')} GROUP BY t ORDER BY t`,
    q.params,
  );
  return found.map((f) => ({ start: new Date(Number(f.t)), count: Number(f.n) }));
}
