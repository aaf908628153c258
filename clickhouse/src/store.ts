import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { BASE_SETTINGS, type OpenedClient, openClient, type StoreTarget } from './connection.js';
import { type MigrationOptions, type MigrationResult, runMigrations } from './migrations.js';
import { insertLogs, type OtelLogRow } from './otel-logs.js';

export type QueryParams = Record<string, unknown>;

/**
 * The audit store: one object for a ClickHouse server or an embedded chDB directory, same SQL on both.
 * Query operations live in queries.ts and are attached below.
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
  migrate(options: Omit<MigrationOptions, 'database'> = {}): Promise<MigrationResult> {
    return runMigrations(this.opened.client, { ...options, database: this.opened.database });
  }

  /** Inserts exporter-shaped rows; resolves after they (and the views' rows) are committed. */
  insertLogs(rows: readonly OtelLogRow[]): Promise<void> {
    return insertLogs(this.opened.client, this.opened.db, rows);
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

  async close(): Promise<void> {
    await this.opened.client.close();
  }
}
