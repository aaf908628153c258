import { type ClickHouseClient, ClickHouseError, type ClickHouseSettings } from '@clickhouse/client';
import { BASE_SETTINGS, type OpenedClient, openClient, type StoreTarget } from './connection.js';
import { AuditStoreError, NotClickHouseError, StoreClosedError, StoreUnreachableError } from './errors.js';
import { serverFailure } from './failures.js';
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
  private closed = false;
  /** Server only: the first call's check that the URL answers as ClickHouse (kept once it passed). */
  private answersAsClickHouse: Promise<void> | undefined;

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
    return this.call(() =>
      runMigrations(this.opened.client, migration, undefined, hooks, this.opened.commandOnDefault),
    );
  }

  /** Migrations of this release the store's database lacks, or has from a newer release (see migrations.ts). */
  migrationStatus(): Promise<MigrationStatus> {
    return this.call(() => migrationStatus(this.opened.client, { database: this.opened.database }));
  }

  /** Migrations, tables, their sizes and retention (reads system tables only; see status.ts). */
  status(): Promise<StoreStatus> {
    return this.call(() => storeStatus(this.opened.client, this.opened.database));
  }

  /** Inserts exporter-shaped rows; resolves after they (and the views' rows) are committed. */
  insertLogs(rows: readonly OtelLogRow[]): Promise<void> {
    return this.call(() => insertLogs(this.opened, rows));
  }

  /**
   * Writes the target keys of stored events again from audit_events (see rewriteTargetKeys): for events of an
   * insert that failed, which may have landed without their keys.
   */
  rewriteTargetKeys(eventIds: readonly string[]): Promise<void> {
    return this.call(() => rewriteTargetKeys(this.opened, eventIds));
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
    return this.call(async () => {
      const result = await this.opened.client.query({
        query: sql.replaceAll('{db}', this.opened.db),
        query_params: params,
        format: 'JSONEachRow',
        clickhouse_settings: { ...BASE_SETTINGS, ...settings },
      });
      return result.json<T>();
    });
  }

  /** Runs one statement that returns no rows (DDL, OPTIMIZE, ...), with the store's settings. */
  async command(sql: string, params: QueryParams = {}, settings: ClickHouseSettings = {}): Promise<void> {
    await this.call(() =>
      this.opened.client.command({
        query: sql.replaceAll('{db}', this.opened.db),
        query_params: params,
        clickhouse_settings: { ...BASE_SETTINGS, ...settings },
      }),
    );
  }

  /** One event by id, or undefined. */
  getEvent(tenant: string, id: string): Promise<StoredAuditEvent | undefined> {
    return this.call(() => getEvent(this.opened, tenant, id));
  }

  /** What one actor did, newest first. */
  actorTimeline(tenant: string, actor: ActorRef, options?: TimelineOptions): Promise<EventPage> {
    return this.call(() => actorTimeline(this.opened, tenant, actor, options));
  }

  /** What happened to one target, newest first. */
  targetHistory(tenant: string, target: TargetRef, options?: TimelineOptions): Promise<EventPage> {
    return this.call(() => targetHistory(this.opened, tenant, target, options));
  }

  /** Events matching every filter given, newest first, one page at a time. */
  search(filter: EventFilter, page?: PageOptions): Promise<EventPage> {
    return this.call(() => search(this.opened, filter, page));
  }

  countByAction(filter: EventFilter): Promise<ActionCount[]> {
    return this.call(() => countByAction(this.opened, filter));
  }

  countOverTime(filter: EventFilter, interval?: Interval): Promise<TimeBucket[]> {
    return this.call(() => countOverTime(this.opened, filter, interval));
  }

  /** Streams matching events as NDJSON or CSV; resolves with the row count. */
  exportEvents(filter: EventFilter, options: ExportOptions): Promise<number> {
    // The caller's own callbacks' errors (a closed stdout's EPIPE) reach it as they were thrown, never as the server's.
    const theirs = new WeakSet<object>();
    const own =
      <A extends unknown[], R>(callback: (...args: A) => R) =>
      async (...args: A): Promise<Awaited<R>> => {
        try {
          return await callback(...args);
        } catch (error) {
          if (typeof error === 'object' && error !== null) theirs.add(error);
          throw error;
        }
      };
    const wrapped =
      typeof options === 'object' && options !== null && typeof options.write === 'function'
        ? {
            ...options,
            write: own(options.write),
            ...(typeof options.onProgress === 'function' && { onProgress: own(options.onProgress) }),
          }
        : options;
    return this.call(
      () => exportEvents(this.opened, filter, wrapped),
      (error) => typeof error === 'object' && error !== null && theirs.has(error),
    );
  }

  /** Closes the connection; calls made later fail with StoreClosedError. Calls already running are not waited for. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opened.client.close();
  }

  /**
   * Runs one call of the store: refused once closed; on a server, the first call checks the URL answers as
   * ClickHouse (an empty 200 from another service read as "no events"); failures typed (see failures.ts).
   */
  private async call<T>(run: () => Promise<T>, passThrough?: (error: unknown) => boolean): Promise<T> {
    if (this.closed) throw new StoreClosedError();
    const url = this.opened.serverUrl;
    try {
      if (url !== undefined) await this.checkAnswersAsClickHouse(url);
      return await run();
    } catch (error) {
      if (passThrough?.(error)) throw error;
      if (this.closed && !(error instanceof AuditStoreError)) throw new StoreClosedError({ cause: error });
      throw url === undefined ? error : serverFailure(error, url);
    }
  }

  private checkAnswersAsClickHouse(url: string): Promise<void> {
    this.answersAsClickHouse ??= answersAsClickHouse(this.opened.client, url).catch((error: unknown) => {
      this.answersAsClickHouse = undefined; // checked again by the next call
      throw error;
    });
    return this.answersAsClickHouse;
  }
}

const HANDSHAKE = 'otel-audit';

/**
 * Whether the server answers a constant query as ClickHouse does. Any error in ClickHouse's own words (a database
 * not created yet, credentials refused) proves it is ClickHouse: the call that follows reports it.
 */
async function answersAsClickHouse(client: ClickHouseClient, url: string): Promise<void> {
  let answer: unknown;
  try {
    const result = await client.query({
      query: `SELECT '${HANDSHAKE}' AS handshake`,
      format: 'JSONEachRow',
      clickhouse_settings: BASE_SETTINGS,
    });
    answer = await result.json();
  } catch (error) {
    if (error instanceof ClickHouseError) return;
    // Down (or a proxy's page for a server that is down): not known yet, checked again by the next call.
    const failure = serverFailure(error, url);
    if (failure instanceof StoreUnreachableError) throw failure;
    throw new NotClickHouseError(url, firstLine(error), { cause: error });
  }
  const rows = answer as { handshake?: unknown }[];
  if (!Array.isArray(rows) || rows.length !== 1 || rows[0]?.handshake !== HANDSHAKE)
    throw new NotClickHouseError(url, `a query answered ${JSON.stringify(answer).slice(0, 200)}`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
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
