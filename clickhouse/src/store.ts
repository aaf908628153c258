import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { BASE_SETTINGS, type OpenedClient, openClient, type StoreTarget } from './connection.js';
import {
  type MigrationHooks,
  type MigrationOptions,
  type MigrationResult,
  type MigrationStatus,
  migrationStatus,
  runMigrations,
} from './migrations.js';
import { insertLogs, type OtelLogRow } from './otel-logs.js';
import { type ExportOptions, exportEvents } from './query/export.js';
import type { ActorRef, EventFilter, PageOptions, TargetRef } from './query/filters.js';
import {
  type ActionCount,
  actorTimeline,
  countByAction,
  countOverTime,
  type EventPage,
  getEvent,
  type Interval,
  search,
  type TimeBucket,
  type TimelineOptions,
  targetHistory,
} from './query/operations.js';
import type { StoredAuditEvent } from './query/rows.js';
import { type StoreStatus, storeStatus } from './status.js';
import { rewriteTargetKeys } from './target-keys.js';

export type QueryParams = Record<string, unknown>;

/**
 * The audit store: one object for a ClickHouse server or an embedded chDB directory, same SQL on both.
 * Every read takes a tenant and never returns another tenant's rows; the SQL lives in query/.
 */
export class AuditStore {
  protected constructor(protected readonly opened: OpenedClient) {}

  /** Opens a server (`{ url, username, password, database }`) or an embedded directory (`{ path }`). */
  static async open(target: StoreTarget): Promise<AuditStore> {
    return new AuditStore(await openClient(target));
  }

  /** Database holding the tables. */
  get database(): string {
    return this.opened.database;
  }

  /** Back-quoted database name, for qualified table names in SQL. */
  get db(): string {
    return this.opened.db;
  }

  /** The underlying client (advanced use; every call must pass `BASE_SETTINGS`, see connection.ts). */
  get client(): ClickHouseClient {
    return this.opened.client;
  }

  /** Applies pending migrations to this store's database (options other than `database` as in migrations.ts). */
  async migrate(
    options: Omit<MigrationOptions, 'database'> = {},
    hooks: MigrationHooks = {},
  ): Promise<MigrationResult> {
    const migration = { ...options, database: this.opened.database };
    return runMigrations(this.opened.client, migration, undefined, hooks, this.opened.commandOnDefault);
  }

  /** Migrations of this release the store's database lacks, or has from a newer release (see migrations.ts). */
  migrationStatus(): Promise<MigrationStatus> {
    return migrationStatus(this.opened.client, { database: this.opened.database });
  }

  /** Migrations, tables, their sizes and retention (reads system tables only; see status.ts). */
  status(): Promise<StoreStatus> {
    return storeStatus(this.opened.client, this.opened.database);
  }

  /** Inserts exporter-shaped rows; resolves after they (and the views' rows) are committed. */
  insertLogs(rows: readonly OtelLogRow[]): Promise<void> {
    return insertLogs(this.opened, rows);
  }

  /**
   * Writes the target keys of stored events again from audit_events (see rewriteTargetKeys): for events of an
   * insert that failed, which may have landed without their keys.
   */
  rewriteTargetKeys(eventIds: readonly string[]): Promise<void> {
    return rewriteTargetKeys(this.opened, eventIds);
  }

  /**
   * Raw read-only SQL returning JSON rows, with the store's settings (UTC, quoted 64-bit ints). Values go in
   * `params` as `{name:Type}` placeholders. `{db}` in the SQL is replaced by the qualified database name.
   */
  async query<T = Record<string, unknown>>(
    sql: string,
    params: QueryParams = {},
    settings: ClickHouseSettings = {},
  ): Promise<T[]> {
    const result = await this.opened.client.query({
      query: sql.replaceAll('{db}', this.opened.db),
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: { ...BASE_SETTINGS, ...settings },
    });
    return result.json<T>();
  }

  /** Runs one statement that returns no rows (DDL, OPTIMIZE, ...), with the store's settings. */
  async command(sql: string, params: QueryParams = {}, settings: ClickHouseSettings = {}): Promise<void> {
    await this.opened.client.command({
      query: sql.replaceAll('{db}', this.opened.db),
      query_params: params,
      clickhouse_settings: { ...BASE_SETTINGS, ...settings },
    });
  }

  /** One event by id, or undefined. */
  getEvent(tenant: string, id: string): Promise<StoredAuditEvent | undefined> {
    return getEvent(this.opened, tenant, id);
  }

  /** What one actor did, newest first. */
  actorTimeline(tenant: string, actor: ActorRef, options?: TimelineOptions): Promise<EventPage> {
    return actorTimeline(this.opened, tenant, actor, options);
  }

  /** What happened to one target, newest first. */
  targetHistory(tenant: string, target: TargetRef, options?: TimelineOptions): Promise<EventPage> {
    return targetHistory(this.opened, tenant, target, options);
  }

  /** Events matching every filter given, newest first, one page at a time. */
  search(filter: EventFilter, page?: PageOptions): Promise<EventPage> {
    return search(this.opened, filter, page);
  }

  countByAction(filter: EventFilter): Promise<ActionCount[]> {
    return countByAction(this.opened, filter);
  }

  countOverTime(filter: EventFilter, interval?: Interval): Promise<TimeBucket[]> {
    return countOverTime(this.opened, filter, interval);
  }

  /** Streams matching events as NDJSON or CSV; resolves with the row count. */
  exportEvents(filter: EventFilter, options: ExportOptions): Promise<number> {
    return exportEvents(this.opened, filter, options);
  }

  async close(): Promise<void> {
    await this.opened.client.close();
  }
}

/**
 * A store's read operations: what serve's query API answers with, and what the CLI reads, from the store or
 * through serve.
 */
export type AuditReads = Pick<
  AuditStore,
  | 'getEvent'
  | 'search'
  | 'actorTimeline'
  | 'targetHistory'
  | 'countByAction'
  | 'countOverTime'
  | 'exportEvents'
  | 'status'
>;
