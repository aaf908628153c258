import {
  AUDIT_TABLES,
  CRUD_VALUES,
  type Crud,
  MAX_REFERENCE_LENGTH,
  OUTCOME_VALUES,
  type Outcome,
} from '@otel-audit/sdk/conventions';
import { AuditStoreInputError } from '../errors.js';
import { decodeCursor, queryFingerprint } from './cursor.js';

/**
 * Longest accepted string filter value, in UTF-16 code units (JavaScript's length): keeps parameters (sent in the
 * URL to a server) within limits. The SDK refuses longer tenants, actions, actor and target ids and types, so
 * every event it records can be read.
 */
export const MAX_VALUE_LENGTH = MAX_REFERENCE_LENGTH;
/** Most entries of `actions`, for the same reason. */
export const MAX_ACTIONS = 100;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;
/** The last sort key of a newest-first page, after (occurred_at, event_id): see CursorKey. */
export const ACTOR_ORDER = 'cityHash64(actor_id)';

export interface ActorRef {
  id: string;
  type?: string | undefined;
}

export interface TargetRef {
  type: string;
  id: string;
}

/** Filters shared by every read. `tenant` is required: no read crosses tenants. */
export interface EventFilter {
  tenant: string;
  /** Exact actions, or prefixes ending in `.*` (`billing.*`); `*` alone matches every action. */
  actions?: readonly string[] | undefined;
  crud?: readonly Crud[] | undefined;
  outcome?: Outcome | undefined;
  actor?: ActorRef | undefined;
  target?: TargetRef | undefined;
  /** Inclusive lower bound on occurred_at. */
  from?: Date | undefined;
  /** Exclusive upper bound on occurred_at. */
  to?: Date | undefined;
}

export interface PageOptions {
  /** Rows per page (default 100, at most 10000). `undefined` = left out (for `exactOptionalPropertyTypes`). */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface BuiltQuery {
  /** Conditions on audit_events (AND-ed). */
  where: string[];
  params: Record<string, unknown>;
  limit: number;
  /**
   * Set when a page combines a target with other filters: the target's keys cannot be limited to one page
   * then, so the caller reads them newest first in windows of time (see `search`). `where` holds the
   * conditions on audit_target_keys for the target, time filters and cursor.
   */
  targetKeyScan?: { where: string[] };
  /**
   * Set for a page of one target with nothing else to filter: the check that a row holds the target, left out
   * of `where` for the caller to compute as a column (see `search`).
   */
  targetCheck?: string;
}

/** A time window `[fromMs, toMs)` on occurred_at, added to the key and row conditions (chunked target reads). */
export interface TimeWindow {
  fromMs?: number;
  toMs?: number;
}

// Every key a reader accepts (kept complete by the types): a misspelt or misplaced one (`actorId`, `limit` in a
// filter) would otherwise be ignored and the read return more than asked, or page the same rows forever.
const FILTER_KEYS: Record<keyof EventFilter, true> = {
  tenant: true,
  actions: true,
  crud: true,
  outcome: true,
  actor: true,
  target: true,
  from: true,
  to: true,
};
const PAGE_KEYS: Record<keyof PageOptions, true> = { limit: true, cursor: true };
// A stored event's own actor or target (with its name and fields) is a natural argument: those two are ignored.
const ACTOR_KEYS: Record<keyof ActorRef | 'name' | 'fields', true> = {
  id: true,
  type: true,
  name: true,
  fields: true,
};
const TARGET_KEYS: Record<keyof TargetRef | 'name' | 'fields', true> = {
  type: true,
  id: true,
  name: true,
  fields: true,
};

/** Throws AuditStoreInputError for the first own key of `value` that `known` does not list. */
export function refuseUnknownKeys(
  value: object,
  known: Record<string, true>,
  where: string,
  prefix = '',
): void {
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue;
    const hint =
      where === 'a filter' && Object.hasOwn(PAGE_KEYS, key)
        ? ': limit and cursor go in the page argument'
        : ` (it takes ${Object.keys(known).join(', ')})`;
    throw new AuditStoreInputError(`${prefix}${key}`, `is not a key of ${where}${hint}`);
  }
}

/** The keys an actor timeline or target history takes in its options: filters and paging, not the tenant. */
export const TIMELINE_OPTION_KEYS: Record<string, true> = Object.fromEntries(
  [...Object.keys(FILTER_KEYS), ...Object.keys(PAGE_KEYS)]
    .filter((k) => k !== 'tenant')
    .map((k) => [k, true]),
);

function text(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string') throw new AuditStoreInputError(field, 'must be a string');
  if (!allowEmpty && value.length === 0) throw new AuditStoreInputError(field, 'must not be empty');
  if (value.length > MAX_VALUE_LENGTH) {
    throw new AuditStoreInputError(
      field,
      `is ${value.length} characters long, at most ${MAX_VALUE_LENGTH} allowed`,
    );
  }
  return value;
}

function date(value: unknown, field: string): number {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new AuditStoreInputError(field, 'must be a valid Date');
  return value.getTime();
}

export function checkTenant(tenant: unknown): string {
  return text(tenant, 'tenant');
}

export function checkLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new AuditStoreInputError('limit', `must be a whole number between 1 and ${MAX_LIMIT}`);
  }
  return limit;
}

/**
 * Checks a filter and page as every read of the store does, without a store (the same AuditStoreInputError):
 * a client of serve's query API refuses what the store would before it builds a URL from the values.
 */
export function checkQuery(filter: EventFilter, page: PageOptions = {}): void {
  buildFilter('`db`', filter, page);
}

/** A row holds the target (its key may be shared with another event of the same actor and millisecond). */
const TARGET_CHECK = 'arrayExists(t -> t.type = {target_type:String} AND t.id = {target_id:String}, targets)';

/**
 * Builds the WHERE of a read on audit_events. Every value is a query parameter; SQL text only comes from
 * this file. audit_events is sorted by (tenant, actor_id, occurred_at, event_id), so an actor filter is a key
 * range. A target filter reads (actor_id, occurred_at) keys from audit_target_keys (sorted for it) and
 * checks each full row contains the target; when nothing else filters, the keys are limited to one page, so
 * a hot target reads only one page of rows; with other filters, `search` reads the keys in growing windows of
 * time until the page is full (`targetKeyScan`); `keysPerPage = false` asks for that scan for a target alone.
 */
export function buildFilter(
  db: string,
  filter: EventFilter,
  page: PageOptions = {},
  paged = true,
  window: TimeWindow = {},
  keysPerPage = true,
): BuiltQuery {
  if (typeof filter !== 'object' || filter === null)
    throw new AuditStoreInputError('filter', 'must be an object');
  if (typeof page !== 'object' || page === null)
    throw new AuditStoreInputError('page', 'must be an object ({ limit?, cursor? }) or left out');
  refuseUnknownKeys(filter, FILTER_KEYS, 'a filter');
  refuseUnknownKeys(page, PAGE_KEYS, 'the page options');
  const params: Record<string, unknown> = { tenant: checkTenant(filter.tenant) };
  const limit = checkLimit(page.limit);
  const where = ['tenant = {tenant:String}'];
  // Conditions on occurred_at alone: they hold on the key table as well as on the full rows.
  const timeWhere: string[] = [];
  let cursorMs: string | undefined;
  let onlyKeyFilters = true;
  let targetCheck: string | undefined;

  if (filter.from !== undefined) {
    params.from_ms = date(filter.from, 'from');
    timeWhere.push("occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')");
  }
  if (filter.to !== undefined) {
    params.to_ms = date(filter.to, 'to');
    if (params.from_ms !== undefined && (params.to_ms as number) <= (params.from_ms as number))
      throw new AuditStoreInputError(
        'to',
        `must be after from (${filter.from?.toISOString()}): the range [from, to) holds no time`,
      );
    timeWhere.push("occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')");
  }
  // Integers from `search` itself, never from callers.
  if (window.fromMs !== undefined) {
    params.window_from_ms = window.fromMs;
    timeWhere.push("occurred_at >= fromUnixTimestamp64Milli({window_from_ms:Int64}, 'UTC')");
  }
  if (window.toMs !== undefined) {
    params.window_to_ms = window.toMs;
    timeWhere.push("occurred_at < fromUnixTimestamp64Milli({window_to_ms:Int64}, 'UTC')");
  }
  if (paged && page.cursor !== undefined) {
    const key = decodeCursor(page.cursor);
    if (key.query !== queryFingerprint(filter))
      throw new AuditStoreInputError(
        'cursor',
        'was returned for another query (another tenant or other filters): page with the tenant and filters ' +
          'that returned it, or start again without it',
      );
    params.cursor_ms = key.occurredAtMs;
    params.cursor_id = key.eventId;
    cursorMs = "fromUnixTimestamp64Milli({cursor_ms:Int64}, 'UTC')";
    if (key.actorHash !== undefined) params.cursor_actor = key.actorHash;
    where.push(
      `occurred_at <= ${cursorMs}`,
      key.actorHash === undefined
        ? `(occurred_at, event_id) < (${cursorMs}, toUUID({cursor_id:String}))`
        : `(occurred_at, event_id, ${ACTOR_ORDER}) < (${cursorMs}, toUUID({cursor_id:String}), {cursor_actor:UInt64})`,
    );
  }

  if (filter.actions !== undefined) {
    if (!Array.isArray(filter.actions))
      throw new AuditStoreInputError('actions', 'must be an array of strings');
    if (filter.actions.length > MAX_ACTIONS)
      throw new AuditStoreInputError(
        'actions',
        `has ${filter.actions.length} entries, at most ${MAX_ACTIONS} allowed`,
      );
    const exact: string[] = [];
    const prefixes: string[] = [];
    filter.actions.forEach((a, i) => {
      const value = text(a, `actions[${i}]`);
      const prefix = value === '*' ? '' : value.endsWith('.*') ? value.slice(0, -1) : undefined;
      // A `*` anywhere else (`billing*`, `*.paid`) would be taken as a character and match nothing; so would `.*`.
      if ((prefix ?? value).includes('*') || prefix === '.')
        throw new AuditStoreInputError(
          `actions[${i}]`,
          `${JSON.stringify(value)}: a wildcard is a trailing ".*" (billing.*) or "*" alone`,
        );
      if (prefix !== undefined) prefixes.push(prefix);
      else exact.push(value);
    });
    if (filter.actions.length > 0) {
      params.actions = exact;
      params.action_prefixes = prefixes;
      where.push(
        '(action IN {actions:Array(String)} OR arrayExists(p -> startsWith(action, p), {action_prefixes:Array(String)}))',
      );
      onlyKeyFilters = false;
    }
  }
  if (filter.crud !== undefined) {
    if (!Array.isArray(filter.crud)) throw new AuditStoreInputError('crud', 'must be an array');
    filter.crud.forEach((c, i) => {
      if (!CRUD_VALUES.includes(c))
        throw new AuditStoreInputError(`crud[${i}]`, `must be one of ${CRUD_VALUES.join(', ')}`);
    });
    if (filter.crud.length > 0) {
      // Deduplicated: at most the four values reach the query, however often a caller repeats them.
      params.crud = [...new Set(filter.crud)];
      where.push('toString(crud) IN {crud:Array(String)}');
      onlyKeyFilters = false;
    }
  }
  if (filter.outcome !== undefined) {
    if (!OUTCOME_VALUES.includes(filter.outcome)) {
      throw new AuditStoreInputError('outcome', `must be one of ${OUTCOME_VALUES.join(', ')}`);
    }
    params.outcome = filter.outcome;
    where.push('toString(outcome) = {outcome:String}');
    onlyKeyFilters = false;
  }

  const keyWhere = ['tenant = {tenant:String}', ...timeWhere];
  if (filter.actor !== undefined) {
    if (typeof filter.actor === 'object' && filter.actor !== null)
      refuseUnknownKeys(filter.actor, ACTOR_KEYS, 'an actor', 'actor.');
    params.actor_id = text(filter.actor?.id, 'actor.id');
    where.push('actor_id = {actor_id:String}');
    keyWhere.push('actor_id = {actor_id:String}');
    if (filter.actor.type !== undefined) {
      params.actor_type = text(filter.actor.type, 'actor.type');
      where.push('actor_type = {actor_type:String}');
      onlyKeyFilters = false;
    }
  }
  if (filter.target !== undefined) {
    if (typeof filter.target === 'object' && filter.target !== null)
      refuseUnknownKeys(filter.target, TARGET_KEYS, 'a target', 'target.');
    params.target_type = text(filter.target?.type, 'target.type');
    params.target_id = text(filter.target?.id, 'target.id');
    keyWhere.push('target_type = {target_type:String}', 'target_id = {target_id:String}');
    const pageOfKeys = paged && onlyKeyFilters && keysPerPage;
    where.push(
      `(actor_id, occurred_at) IN (${targetKeys(db, keyWhere, pageOfKeys ? limit : undefined, cursorMs)})`,
    );
    if (pageOfKeys) targetCheck = TARGET_CHECK;
    else where.push(TARGET_CHECK);
  }
  where.push(...timeWhere);
  const scan =
    paged && filter.target !== undefined && !(onlyKeyFilters && keysPerPage)
      ? { targetKeyScan: { where: cursorMs ? [...keyWhere, `occurred_at <= ${cursorMs}`] : keyWhere } }
      : {};
  return { where, params, limit, ...scan, ...(targetCheck !== undefined && { targetCheck }) };
}

/**
 * Keys of a target's events. GROUP BY collapses not-yet-merged duplicates (not DISTINCT: with LIMIT … WITH TIES
 * this engine returned fewer keys than tied, and pages silently skipped events of actors sharing a
 * millisecond). With a page limit, every key
 * older than the cursor yields at least one row past it, so `limit` such keys fill the page. Rows are ordered
 * by (occurred_at, event_id) but keys by (occurred_at, actor_id), so the last millisecond is taken whole
 * (WITH TIES); keys in the cursor's own millisecond may all be on earlier pages, so they come on top.
 */
function targetKeys(
  db: string,
  conditions: string[],
  limit: number | undefined,
  cursorMs: string | undefined,
) {
  const from = `${db}.${AUDIT_TABLES.byTarget}`;
  const select = (extra: string[]) =>
    `SELECT actor_id, occurred_at FROM ${from} WHERE ${[...conditions, ...extra].join(' AND ')} GROUP BY actor_id, occurred_at`;
  if (limit === undefined) return select(cursorMs ? [`occurred_at <= ${cursorMs}`] : []);
  const page = (extra: string[]) => `${select(extra)} ORDER BY occurred_at DESC LIMIT ${limit} WITH TIES`;
  if (!cursorMs) return page([]);
  return `${select([`occurred_at = ${cursorMs}`])} UNION ALL SELECT * FROM (${page([`occurred_at < ${cursorMs}`])})`;
}
