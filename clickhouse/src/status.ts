import type { ClickHouseClient } from '@clickhouse/client';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { BASE_SETTINGS } from './connection.js';
import {
  isMissingDatabase,
  loadMigrations,
  type Migration,
  migrationStatus,
  RECALCULATION_MARK,
} from './migrations.js';

/** One table of the store as the engine reports it. */
export interface TableStatus {
  name: string;
  /** `MergeTree`, `ReplacingMergeTree`, `Null`, or their `Replicated…` forms on a cluster. */
  engine: string;
  /** Rows in active parts: a re-sent event counts twice until a merge collapses it. */
  rows: number;
  /** Compressed bytes of the active parts (this replica). */
  bytesOnDisk: number;
  /** The table's TTL expression as the engine prints it; absent when rows are kept forever. */
  ttl?: string;
  /** Days rows are kept, when the TTL is the `<time> + N days` form migrate writes. */
  retentionDays?: number;
  /**
   * The TTL is on 32-bit time, as releases before 2026-11-23 wrote it: past 2106 it wraps into the past, so a
   * long retention deletes new rows at once. The next migrate rewrites it.
   */
  ttlOn32BitTime?: true;
  /**
   * A migrate began recomputing the TTL of this table's parts (after a retention change, or from a 32-bit TTL)
   * and did not finish; no merge runs on it meanwhile. The next migrate finishes it.
   */
  ttlRecalculationPending?: true;
}

/** What a store holds and how it is set up: migrations, tables, their sizes and retention. */
export interface StoreStatus {
  database: string;
  /** Whether the database was ever migrated (has the migrations table): false for a new or mistyped name. */
  migrated: boolean;
  migrations: {
    /** Migrations of this release the database has recorded, in order. */
    applied: string[];
    /** Migrations of this release it has not (all of them when it was never migrated). */
    pending: string[];
    /** Migrations a newer release recorded. */
    unknown: string[];
    /** Migrations recorded with another checksum than this release's file (migrate refuses the database). */
    changed: string[];
  };
  /** The audit tables and otel_logs that exist, in the order of AUDIT_TABLES (views left out). */
  tables: TableStatus[];
  /**
   * Tables every applied migration should have left that do not exist (otel_logs dropped to change its
   * engine: inserts fail until the next migrate creates it again). Empty while migrations are pending.
   */
  missing: string[];
}

/** The TTLs migrate writes (and wrote before 2026-11-23), whole: any other TTL is shown only as its text. */
const DAYS =
  /^(occurred_at|toDateTime\(occurred_at\)|toDateTime64\(Timestamp, 3\)|toDateTime\(Timestamp\)) \+ toIntervalDay\((\d+)\)$/;

/** The TTL clause of a table's `engine_full` (it ends at SETTINGS, or at the end). */
function ttlOf(engineFull: string): Pick<TableStatus, 'ttl' | 'retentionDays' | 'ttlOn32BitTime'> {
  const ttl = / TTL (.+?)(?: SETTINGS |$)/.exec(engineFull)?.[1];
  if (ttl === undefined) return {};
  const match = DAYS.exec(ttl);
  return {
    ttl,
    ...(match && { retentionDays: Number(match[2]) }),
    ...(match?.[1]?.startsWith('toDateTime(') && { ttlOn32BitTime: true as const }),
  };
}

/** Reads a database's status from system tables and the migrations table; never changes anything. */
export async function storeStatus(
  client: ClickHouseClient,
  database: string,
  migrations: readonly Migration[] = loadMigrations(),
): Promise<StoreStatus> {
  const names = [AUDIT_TABLES.logs, AUDIT_TABLES.events, AUDIT_TABLES.byTarget, AUDIT_TABLES.migrations];
  const { pending, unknown, migrated, changed } = await migrationStatus(client, { database }, [
    ...migrations,
  ]);
  // A server refuses any request naming a database that does not exist (chDB answers no rows): no tables then.
  const rows = await client
    .query({
      // One row per table, sizes summed over its active parts (none yet: 0).
      query: `SELECT t.name AS name, t.engine AS engine, t.engine_full AS engine_full,
                toString(sum(p.rows)) AS rows, toString(sum(p.bytes_on_disk)) AS bytes
              FROM system.tables AS t
              LEFT JOIN (SELECT table, rows, bytes_on_disk FROM system.parts
                         WHERE database = {db:String} AND active) AS p ON p.table = t.name
              WHERE t.database = {db:String} AND t.name IN {names:Array(String)}
              GROUP BY t.name, t.engine, t.engine_full`,
      query_params: { db: database, names },
      format: 'JSONEachRow',
      clickhouse_settings: BASE_SETTINGS,
    })
    .then((result) =>
      result.json<{ name: string; engine: string; engine_full: string; rows: string; bytes: string }>(),
    )
    .catch((error: unknown) => {
      if (migrated || !isMissingDatabase(error)) throw error;
      return [];
    });
  const pendingSet = new Set(pending);
  return {
    database,
    migrated,
    migrations: {
      applied: migrations.filter((m) => !pendingSet.has(m.name)).map((m) => m.name),
      pending,
      unknown,
      changed,
    },
    missing:
      migrated && pending.length === 0 && unknown.length === 0
        ? names.filter((name) => !rows.some((r) => r.name === name))
        : [],
    tables: names.flatMap((name) => {
      const row = rows.find((r) => r.name === name);
      if (row === undefined) return [];
      return [
        {
          name,
          engine: row.engine,
          rows: Number(row.rows),
          bytesOnDisk: Number(row.bytes),
          ...ttlOf(row.engine_full),
          ...(RECALCULATION_MARK.test(row.engine_full) && {
            ttlRecalculationPending: true as const,
          }),
        },
      ];
    }),
  };
}
