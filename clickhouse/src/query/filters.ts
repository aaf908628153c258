import {
  AUDIT_TABLES,
  CRUD_VALUES,
  type Crud,
  OUTCOME_VALUES,
  type Outcome,
} from '@otel-audit/sdk/conventions';
import { AuditStoreInputError } from '../errors.js';
import { decodeCursor } from './cursor.js';

/** Longest accepted string filter value: keeps parameters (sent in the URL to a server) within limits. */
export const MAX_VALUE_LENGTH = 4096;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

export interface ActorRef {
  id: string;
  type?: string;
}

export interface TargetRef {
  type: string;
  id: string;
}

/** Filters shared by every read. `tenant` is required: no read crosses tenants. */
export interface EventFilter {
  tenant: string;
  /** Exact actions, or prefixes ending in `.*` (`billing.*`); `*` alone matches every action. */
  actions?: readonly string[];
  crud?: readonly Crud[];
  outcome?: Outcome;
  actor?: ActorRef;
  target?: TargetRef;
  /** Inclusive lower bound on occurred_at. */
  from?: Date;
  /** Exclusive upper bound on occurred_at. */
  to?: Date;
}

export interface PageOptions {
  /** Rows per page (default 100, at most 10000). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface BuiltQuery {
  /** Conditions on audit_events (AND-ed). */
  where: string[];
  params: Record<string, unknown>;
  limit: number;
}

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
 * Builds the WHERE of a read on audit_events. Every value is a query parameter; SQL text only comes from
 * this file. An actor or target filter goes through its narrow table (sorted for it) as a key subquery;
 * when nothing else filters, that subquery is limited too, so a hot target reads only one page of keys.
 */
export function buildFilter(
  db: string,
  filter: EventFilter,
  page: PageOptions = {},
  paged = true,
): BuiltQuery {
  if (typeof filter !== 'object' || filter === null)
    throw new AuditStoreInputError('filter', 'must be an object');
  const params: Record<string, unknown> = { tenant: checkTenant(filter.tenant) };
  const limit = checkLimit(page.limit);
  const where = ['tenant = {tenant:String}'];
  const keyWhere: string[] = [];
  let onlyKeyFilters = true;

  if (filter.from !== undefined) {
    params.from_ms = date(filter.from, 'from');
    keyWhere.push("occurred_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')");
  }
  if (filter.to !== undefined) {
    params.to_ms = date(filter.to, 'to');
    keyWhere.push("occurred_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')");
  }
  if (paged && page.cursor !== undefined) {
    const key = decodeCursor(page.cursor);
    params.cursor_ms = key.occurredAtMs;
    params.cursor_id = key.eventId;
    keyWhere.push(
      "occurred_at <= fromUnixTimestamp64Milli({cursor_ms:Int64}, 'UTC')",
      "(occurred_at, event_id) < (fromUnixTimestamp64Milli({cursor_ms:Int64}, 'UTC'), toUUID({cursor_id:String}))",
    );
  }

  if (filter.actions !== undefined) {
    if (!Array.isArray(filter.actions))
      throw new AuditStoreInputError('actions', 'must be an array of strings');
    const exact: string[] = [];
    const prefixes: string[] = [];
    filter.actions.forEach((a, i) => {
      const value = text(a, `actions[${i}]`);
      if (value === '*') prefixes.push('');
      else if (value.endsWith('.*')) prefixes.push(value.slice(0, -1));
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
      params.crud = filter.crud;
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

  const keyTables: { table: string; conditions: string[] }[] = [];
  if (filter.target !== undefined) {
    params.target_type = text(filter.target?.type, 'target.type');
    params.target_id = text(filter.target?.id, 'target.id');
    keyTables.push({
      table: AUDIT_TABLES.byTarget,
      conditions: ['target_type = {target_type:String}', 'target_id = {target_id:String}'],
    });
  }
  if (filter.actor !== undefined) {
    params.actor_id = text(filter.actor?.id, 'actor.id');
    const conditions = ['actor_id = {actor_id:String}'];
    if (filter.actor.type !== undefined) {
      params.actor_type = text(filter.actor.type, 'actor.type');
      conditions.push('actor_type = {actor_type:String}');
    }
    if (keyTables.length > 0) {
      // Target and actor together: the target's keys drive, the actor is checked on the full rows.
      where.push(...conditions);
      onlyKeyFilters = false;
    } else {
      keyTables.push({ table: AUDIT_TABLES.byActor, conditions });
    }
  }

  const [keys] = keyTables;
  if (keys) {
    const limitKeys =
      paged && onlyKeyFilters ? ` ORDER BY occurred_at DESC, event_id DESC LIMIT ${limit}` : '';
    where.push(
      // DISTINCT rather than FINAL: collapses not-yet-merged duplicate keys, and measured ~20% faster.
      `(occurred_at, event_id) IN (SELECT DISTINCT occurred_at, event_id FROM ${db}.${keys.table} WHERE ${[
        'tenant = {tenant:String}',
        ...keys.conditions,
        ...keyWhere,
      ].join(' AND ')}${limitKeys})`,
    );
  }
  where.push(...keyWhere);
  return { where, params, limit };
}
