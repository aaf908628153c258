import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import {
  AUDIT_ATTRIBUTES,
  AUDIT_TABLES,
  type AuditAttributeName,
  CRUD_VALUES,
  OUTCOME_VALUES,
} from '@otel-audit/sdk/conventions';
import { BASE_SETTINGS } from './connection.js';
import { AuditStoreError, AuditStoreInputError, MigrationChecksumError } from './errors.js';
import { quoteIdentifier } from './identifiers.js';

/** Works from src/ (tsx, vitest) and from dist/ (built package): both sit next to migrations/. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface MigrationOptions {
  /** Database of every table (default `default`); created when missing. */
  database?: string;
  /** Cluster name: every DDL gets `ON CLUSTER` and the engines become Replicated*. */
  cluster?: string;
  /** `Null` (default: keep only the audit tables) or `MergeTree` (also keep the raw log rows). */
  /**
   * `otel_logs` is created once: on an existing database a `logsEngine` different from the table's engine is
   * refused (nothing is changed), never silently ignored.
   */
  logsEngine?: 'Null' | 'MergeTree';
  /**
   * Days to keep raw log rows; only with a MergeTree `otel_logs` (default 7 when it is created). Given on an
   * existing database, the table's TTL is changed to it.
   */
  rawLogsRetentionDays?: number;
  /**
   * Days to keep audit events (all audit tables), applied on every migrate that gives it; `0` removes the TTL
   * (keep forever). Unset: the TTL stays as it is (none on a new database).
   */
  retentionDays?: number;
}

export interface Migration {
  version: number;
  name: string;
  /** sha256 of the file as written (placeholders unrendered, so installation options do not change it). */
  checksum: string;
  template: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const template = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        checksum: createHash('sha256').update(template).digest('hex'),
        template,
      };
    });
}

const sqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const enumType = (values: readonly string[], first: string) =>
  `Enum8(${[first, ...values.filter((v) => v !== first)].map((v, i) => `${sqlString(v)} = ${i}`).join(', ')})`;

/** Longest retention (about 274 years): keeps the TTL arithmetic far from DateTime64's range. */
export const MAX_RETENTION_DAYS = 100_000;

function days(value: number | undefined, field: string, min: 0 | 1): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > MAX_RETENTION_DAYS) {
    throw new AuditStoreInputError(
      field,
      `must be a whole number of days between ${min} and ${MAX_RETENTION_DAYS}${min === 0 ? ' (0: keep forever)' : ''}, got ${value}`,
    );
  }
  return value;
}

/** Values of every `{{placeholder}}` the migration files use. */
export function placeholders(options: MigrationOptions = {}): Record<string, string> {
  const db = quoteIdentifier(options.database ?? 'default', 'database');
  const cluster = options.cluster === undefined ? undefined : quoteIdentifier(options.cluster, 'cluster');
  const replicated = (engine: string) => (cluster ? `Replicated${engine}` : engine);
  const rawDays = days(options.rawLogsRetentionDays, 'rawLogsRetentionDays', 1) ?? 7;
  const logsEngine = options.logsEngine ?? 'Null';
  if (logsEngine !== 'Null' && logsEngine !== 'MergeTree') {
    throw new AuditStoreInputError(
      'logsEngine',
      `must be "Null" or "MergeTree", got ${JSON.stringify(logsEngine)}`,
    );
  }
  const values: Record<string, string> = {
    db,
    on_cluster: cluster ? `ON CLUSTER ${cluster}` : '',
    MergeTree: replicated('MergeTree'),
    ReplacingMergeTree: replicated('ReplacingMergeTree'),
    logs_engine:
      logsEngine === 'Null'
        ? 'ENGINE = Null'
        : `ENGINE = ${replicated('MergeTree')}\nPARTITION BY toDate(Timestamp)\n` +
          'ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)\n' +
          `TTL ${ttlOf('toDateTime64(Timestamp, 3)', rawDays)}\n` +
          'SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1',
    enum_crud: enumType(CRUD_VALUES, 'unknown'),
    enum_outcome: enumType(OUTCOME_VALUES, 'success'),
    values_crud: `(${CRUD_VALUES.map(sqlString).join(', ')})`,
    values_outcome: `(${OUTCOME_VALUES.map(sqlString).join(', ')})`,
  };
  for (const [name, key] of Object.entries(AUDIT_ATTRIBUTES) as [AuditAttributeName, string][]) {
    values[`attr_${name}`] = sqlString(key);
  }
  return values;
}

/** Renders a migration into its statements; an unknown placeholder is a bug in the file, so it throws. */
export function renderMigration(
  migration: Pick<Migration, 'name' | 'template'>,
  options: MigrationOptions = {},
): string[] {
  const values = placeholders(options);
  const sql = migration.template
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined)
        throw new AuditStoreError(`migration ${migration.name}: unknown placeholder {{${name}}}`);
      return value;
    });
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Every statement `migrate` would run for a fresh database, in order (for review and for cluster tests). */
export function migrationSql(options: MigrationOptions = {}, migrations = loadMigrations()): string[] {
  checkRawRetention(options, options.logsEngine ?? 'Null');
  return [
    ...setupSql(options),
    ...migrations.flatMap((m) => renderMigration(m, options)),
    ...retentionSql(options),
  ];
}

/** A raw-log retention for a Null otel_logs (asked for, or the default) would be dropped: refused instead. */
function checkRawRetention(options: MigrationOptions, logsEngine: string): void {
  if (options.rawLogsRetentionDays !== undefined && logsEngine === 'Null')
    throw new AuditStoreInputError(
      'rawLogsRetentionDays',
      'applies only with logsEngine "MergeTree" (otel_logs is Null unless logsEngine says otherwise)',
    );
}

function setupSql(options: MigrationOptions): string[] {
  const v = placeholders(options);
  return [
    `CREATE DATABASE IF NOT EXISTS ${v.db} ${v.on_cluster}`.trim(),
    `CREATE TABLE IF NOT EXISTS ${v.db}.${AUDIT_TABLES.migrations} ${v.on_cluster} ` +
      "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')) " +
      `ENGINE = ${v.MergeTree} ORDER BY version`,
  ];
}

/**
 * A TTL `days` after a DateTime64(3) expression: 64-bit time. On 32-bit DateTime (ends 2106-02-07) a date past
 * 2106 wraps into the past, and a long retention (36,500 days) would delete everything at the next merge.
 */
function ttlOf(time: string, days: number): string {
  return `${time} + INTERVAL ${days} DAY`;
}

/** TTL statements for the audit tables; `hasTtl` says whether they carry one now (REMOVE TTL fails without). */
function retentionSql(options: MigrationOptions, hasTtl = false): string[] {
  const keep = days(options.retentionDays, 'retentionDays', 0);
  if (keep === undefined || (keep === 0 && !hasTtl)) return [];
  const v = placeholders(options);
  return [AUDIT_TABLES.events, AUDIT_TABLES.byTarget].map((table) =>
    keep === 0
      ? `ALTER TABLE ${v.db}.${table} ${v.on_cluster} REMOVE TTL`
      : `ALTER TABLE ${v.db}.${table} ${v.on_cluster} MODIFY TTL ${ttlOf('occurred_at', keep)}`,
  );
}

interface ExistingTables {
  /** Engine of otel_logs (`Null`, `MergeTree`, `ReplicatedMergeTree`), when it exists. */
  logsEngine?: string;
  /** Whether audit_events has a table TTL. */
  eventsTtl: boolean;
}

async function existingTables(
  client: ClickHouseClient,
  options: MigrationOptions,
  settings: ClickHouseSettings,
): Promise<ExistingTables> {
  const rows = await (
    await client.query({
      query:
        'SELECT name, engine, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}',
      query_params: { db: options.database ?? 'default', names: [AUDIT_TABLES.logs, AUDIT_TABLES.events] },
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ name: string; engine: string; engine_full: string }>();
  const logs = rows.find((r) => r.name === AUDIT_TABLES.logs);
  const events = rows.find((r) => r.name === AUDIT_TABLES.events);
  return {
    ...(logs && { logsEngine: logs.engine }),
    eventsTtl: events !== undefined && /\bTTL\b/.test(events.engine_full),
  };
}

/** Installation options that cannot apply to the tables as they exist are refused before anything runs. */
function checkOptionsAgainst(existing: ExistingTables, options: MigrationOptions): void {
  if (existing.logsEngine === undefined) {
    checkRawRetention(options, options.logsEngine ?? 'Null');
    return;
  }
  const isNull = existing.logsEngine === 'Null';
  if (options.logsEngine !== undefined && (options.logsEngine === 'Null') !== isNull) {
    throw new AuditStoreInputError(
      'logsEngine',
      `${AUDIT_TABLES.logs} already exists with ENGINE = ${existing.logsEngine}; its engine is chosen when it is ` +
        `created. To change it, drop ${AUDIT_TABLES.logs} (it holds only raw log rows, the audit tables keep ` +
        'their data; stop writers first) and migrate again',
    );
  }
  if (options.rawLogsRetentionDays !== undefined && isNull) {
    throw new AuditStoreInputError(
      'rawLogsRetentionDays',
      `${AUDIT_TABLES.logs} has ENGINE = Null and keeps no rows: a retention applies only to a MergeTree one`,
    );
  }
}

/**
 * Applies the migrations not yet recorded, in order, and records each with its checksum. Idempotent (every
 * statement is IF NOT EXISTS, so a run interrupted mid-migration can be repeated). Refuses to run at all when
 * an applied migration's file changed.
 */
export async function runMigrations(
  client: ClickHouseClient,
  options: MigrationOptions = {},
  migrations = loadMigrations(),
): Promise<MigrationResult> {
  const v = placeholders(options);
  const settings: ClickHouseSettings = {
    ...BASE_SETTINGS,
    materialize_ttl_after_modify: 0,
    // A server answers a long statement (0006 copies every target key) only when it ends: progress headers
    // every 20 s keep the client's 30 s idle timeout from closing the request meanwhile. Node caps response
    // headers at 16 KB, which these reach after ~40 min of one statement.
    send_progress_in_http_headers: 1,
    http_headers_progress_interval_ms: '20000',
  };
  const existing = await existingTables(client, options, settings);
  checkOptionsAgainst(existing, options);
  for (const query of setupSql(options)) await client.command({ query, clickhouse_settings: settings });
  const rows = await (
    await client.query({
      query: `SELECT version, name, checksum FROM ${v.db}.${AUDIT_TABLES.migrations} ORDER BY version`,
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ version: number; name: string; checksum: string }>();
  const applied = new Map(rows.map((r) => [Number(r.version), r]));
  for (const m of migrations) {
    const previous = applied.get(m.version);
    if (previous && previous.checksum !== m.checksum) {
      throw new MigrationChecksumError(m.version, m.name, previous.checksum, m.checksum);
    }
  }
  const result: MigrationResult = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    if (applied.has(m.version)) {
      result.alreadyApplied.push(m.name);
      continue;
    }
    for (const query of renderMigration(m, options))
      await client.command({ query, clickhouse_settings: settings });
    await client.insert({
      table: `${v.db}.${AUDIT_TABLES.migrations}`,
      values: [
        {
          version: m.version,
          name: m.name,
          checksum: m.checksum,
          applied_at: new Date().toISOString().replace('T', ' ').replace('Z', ''),
        },
      ],
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    });
    result.applied.push(m.name);
  }
  const logsTtl =
    options.rawLogsRetentionDays !== undefined && existing.logsEngine !== undefined
      ? [
          `ALTER TABLE ${v.db}.${AUDIT_TABLES.logs} ${v.on_cluster} MODIFY TTL ${ttlOf('toDateTime64(Timestamp, 3)', options.rawLogsRetentionDays)}`,
        ]
      : [];
  // audit_events created by this run has no TTL yet: what it had before the run is what it has now.
  for (const query of [...retentionSql(options, existing.eventsTtl), ...logsTtl])
    await client.command({ query, clickhouse_settings: settings });
  if (options.retentionDays === undefined) await carryRetention(client, options, settings);
  return result;
}

/** N of `TTL occurred_at + toIntervalDay(N)` as system.tables shows the audit tables' TTL. */
const TTL_DAYS = /\bTTL occurred_at \+ toIntervalDay\((\d+)\)/;

/**
 * A table a later migration created (0006 rebuilt the by-target table) starts without the retention chosen on
 * an earlier migrate: it gets audit_events' TTL, so its keys (actor and target ids) expire with the events.
 */
async function carryRetention(
  client: ClickHouseClient,
  options: MigrationOptions,
  settings: ClickHouseSettings,
): Promise<void> {
  const rows = await (
    await client.query({
      query:
        'SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}',
      query_params: {
        db: options.database ?? 'default',
        names: [AUDIT_TABLES.events, AUDIT_TABLES.byTarget],
      },
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ name: string; engine_full: string }>();
  const days = (name: string) => TTL_DAYS.exec(rows.find((r) => r.name === name)?.engine_full ?? '')?.[1];
  const events = days(AUDIT_TABLES.events);
  if (events === undefined || days(AUDIT_TABLES.byTarget) !== undefined) return;
  const v = placeholders(options);
  await client.command({
    query: `ALTER TABLE ${v.db}.${AUDIT_TABLES.byTarget} ${v.on_cluster} MODIFY TTL ${ttlOf('occurred_at', Number(events))}`,
    clickhouse_settings: settings,
  });
}
