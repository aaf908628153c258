import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { text } from 'node:stream/consumers';
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
import { quoteClusterName, quoteDatabase } from './identifiers.js';
import { OTEL_LOG_COLUMNS } from './otel-logs.js';

/** Works from src/ (tsx, vitest) and from dist/ (built package): both sit next to migrations/. */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export interface MigrationOptions {
  /** Database of every table (default `default`); created when missing. */
  database?: string | undefined;
  /** Cluster name: every DDL gets `ON CLUSTER` and the engines become Replicated*. */
  cluster?: string | undefined;
  /** `Null` (default: keep only the audit tables) or `MergeTree` (also keep the raw log rows). */
  /**
   * `otel_logs` is created once: on an existing database a `logsEngine` different from the table's engine is
   * refused (nothing is changed), never silently ignored.
   */
  logsEngine?: 'Null' | 'MergeTree' | undefined;
  /**
   * Days to keep raw log rows; only with a MergeTree `otel_logs` (default 7 when it is created). Given on an
   * existing database, the table's TTL is changed to it.
   */
  rawLogsRetentionDays?: number | undefined;
  /**
   * Days to keep audit events (all audit tables), applied on every migrate that gives it; `0` removes the TTL
   * (keep forever). Unset: the TTL stays as it is (none on a new database), and a table a later migration adds
   * gets audit_events' TTL.
   */
  retentionDays?: number | undefined;
  /**
   * Attach the audit views to an `otel_logs` that otel-audit did not create (other columns than the exporter's
   * INSERT, e.g. the table a collector's ClickHouse exporter already fills with every log). Without it such a
   * table is refused: the views would then run on every insert into it, audit record or not.
   */
  adoptLogsTable?: boolean | undefined;
}

export interface Migration {
  version: number;
  name: string;
  /**
   * sha256 of the file as written, line endings as LF (placeholders unrendered, so installation options do not
   * change it).
   */
  checksum: string;
  template: string;
}

/** Progress of a migrate run (e.g. for a CLI: a data-copying migration can take minutes on a large database). */
export interface MigrationHooks {
  /** Called before a pending migration's first statement runs. */
  onMigration?: ((name: string) => void) | undefined;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
  /**
   * Tables an applied migration created that were missing and were created again (otel_logs, dropped to change
   * its engine as the refusal of another logsEngine says).
   */
  recreated: string[];
}

/**
 * The migration files: `OTEL_AUDIT_MIGRATIONS_DIR` when set (an app bundled into one file has no package folder
 * next to its code: it ships a copy of this package's migrations/ and names it there), else the package's own.
 */
export function loadMigrations(dir = process.env.OTEL_AUDIT_MIGRATIONS_DIR || MIGRATIONS_DIR): Migration[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (cause) {
    throw new AuditStoreError(
      `cannot read the migration files in ${dir} (${(cause as Error).message}): an app bundled into one file ` +
        "must ship a copy of @otel-audit/clickhouse's migrations/ folder and set OTEL_AUDIT_MIGRATIONS_DIR to it",
      { cause },
    );
  }
  const named = files.filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f));
  // A file that looks like a migration but is not named like one would be skipped without a word.
  const misnamed = files.filter((f) => /^\d+.*\.sql$/i.test(f) && !named.includes(f));
  if (misnamed.length > 0)
    throw new AuditStoreError(
      `${join(dir, misnamed[0] as string)} is not named like a migration (NNNN_name.sql, name in [a-z0-9_]): ` +
        'rename it, or move it out of the folder',
    );
  const migrations = named.sort().map((file) => {
    // A checkout with CRLF line endings (git autocrlf on Windows) is the same release: same checksum.
    const template = readFileSync(join(dir, file), 'utf8').replace(/\r\n/g, '\n');
    return {
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      checksum: createHash('sha256').update(template).digest('hex'),
      template,
    };
  });
  if (migrations.length === 0)
    throw new AuditStoreError(
      `no migration files (NNNN_name.sql) in ${dir}: is it a copy of the migrations/ folder?`,
    );
  // Applied versions are recorded by number: two files of one number (two branches merged) would both apply
  // once, then every later migrate would compare one's checksum with the other's and refuse the database.
  for (const [i, m] of migrations.entries()) {
    const next = migrations[i + 1];
    if (next?.version === m.version)
      throw new AuditStoreError(
        `${m.name} and ${next.name} in ${dir} have the same number: give the later one the next free number`,
      );
  }
  return migrations;
}

const sqlString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const enumType = (values: readonly string[], first: string) =>
  `Enum8(${[first, ...values.filter((v) => v !== first)].map((v, i) => `${sqlString(v)} = ${i}`).join(', ')})`;

/** Longest retention (about 274 years): keeps the TTL arithmetic far from DateTime64's range. */
export const MAX_RETENTION_DAYS = 100_000;

function days(value: number | undefined, field: string, min: 0 | 1): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > MAX_RETENTION_DAYS) {
    // A string shows its quotes ("30" looks valid otherwise); anything else but a number only its type.
    const got =
      typeof value === 'number' ? value : typeof value === 'string' ? JSON.stringify(value) : typeof value;
    throw new AuditStoreInputError(
      field,
      `must be a whole number of days between ${min} and ${MAX_RETENTION_DAYS}${min === 0 ? ' (0: keep forever)' : ''}, got ${got}`,
    );
  }
  return value;
}

/** Values of every `{{placeholder}}` the migration files use. */
export function placeholders(options: MigrationOptions = {}): Record<string, string> {
  const db = quoteDatabase(options.database ?? 'default');
  const cluster = options.cluster === undefined ? undefined : quoteClusterName(options.cluster);
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
    // A statement of its own in a migration; rendered empty (and left out) without a cluster.
    sync_replica_audit_events: cluster ? `SYSTEM SYNC REPLICA ${db}.${AUDIT_TABLES.events} LIGHTWEIGHT` : '',
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
    ...setupSql(options, true),
    ...migrations.flatMap((m) => renderMigration(m, options)),
    ...retentionSql(options),
  ];
}

/** A raw-log retention for a Null otel_logs (asked for, or the default) would be dropped: refused instead. */
function checkRawRetention(options: MigrationOptions, logsEngine: string): void {
  if (options.rawLogsRetentionDays !== undefined && logsEngine === 'Null')
    throw new AuditStoreInputError(
      'rawLogsRetentionDays',
      'applies only with logsEngine "MergeTree" (--logs-engine MergeTree; otel_logs is Null unless that says otherwise)',
    );
}

/** Creates the database when missing (on a server, runMigrations sends it through `createDatabase`). */
export function createDatabaseSql(options: MigrationOptions): string {
  const v = placeholders(options);
  return `CREATE DATABASE IF NOT EXISTS ${v.db} ${v.on_cluster}`.trim();
}

function setupSql(options: MigrationOptions, createDatabase: boolean): string[] {
  const v = placeholders(options);
  return [
    ...(createDatabase ? [createDatabaseSql(options)] : []),
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

/** TTL statements for the audit tables of a new database (none carries a TTL yet, so `0` needs none). */
function retentionSql(options: MigrationOptions): string[] {
  const keep = days(options.retentionDays, 'retentionDays', 0);
  if (keep === undefined || keep === 0) return [];
  const v = placeholders(options);
  return [AUDIT_TABLES.events, AUDIT_TABLES.byTarget].map(
    (table) => `ALTER TABLE ${v.db}.${table} ${v.on_cluster} MODIFY TTL ${ttlOf('occurred_at', keep)}`,
  );
}

interface ExistingTables {
  /** Engine of otel_logs (`Null`, `MergeTree`, `ReplicatedMergeTree`), when it exists. */
  logsEngine?: string;
  /** Its columns in order, when it exists. */
  logsColumns?: string[];
  /** Whether the migrations table records 0001 (which created otel_logs). */
  logsMigrationRecorded?: boolean;
  /** Engine of audit_events when it existed before this run (an upgrade; `Replicated…` on a cluster). */
  eventsEngine?: string;
}

async function existingTables(
  client: ClickHouseClient,
  options: MigrationOptions,
  settings: ClickHouseSettings,
): Promise<ExistingTables> {
  const rows = await (
    await client.query({
      query:
        'SELECT name, engine FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}',
      query_params: {
        db: options.database ?? 'default',
        names: [AUDIT_TABLES.logs, AUDIT_TABLES.events, AUDIT_TABLES.migrations],
      },
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ name: string; engine: string }>();
  const logs = rows.find((r) => r.name === AUDIT_TABLES.logs);
  const events = rows.find((r) => r.name === AUDIT_TABLES.events);
  if (!logs) return { ...(events && { eventsEngine: events.engine }) };
  const columns = await (
    await client.query({
      query:
        'SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String} ORDER BY position',
      query_params: { db: options.database ?? 'default', table: AUDIT_TABLES.logs },
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ name: string }>();
  let recorded = false;
  if (rows.some((r) => r.name === AUDIT_TABLES.migrations)) {
    const [found] = await (
      await client.query({
        query: `SELECT count() AS n FROM ${placeholders(options).db}.${AUDIT_TABLES.migrations} WHERE name = {name:String}`,
        query_params: { name: LOGS_MIGRATION },
        format: 'JSONEachRow',
        clickhouse_settings: settings,
      })
    ).json<{ n: string }>();
    recorded = Number(found?.n ?? 0) > 0;
  }
  return {
    logsEngine: logs.engine,
    logsColumns: columns.map((c) => c.name),
    logsMigrationRecorded: recorded,
    ...(events && { eventsEngine: events.engine }),
  };
}

/**
 * An otel_logs this release did not create: other columns than 0001's (an interrupted first migrate leaves
 * exactly those), and no migration recorded that created it.
 */
function foreignLogsTable(existing: ExistingTables): string[] | undefined {
  const columns = existing.logsColumns;
  if (columns === undefined || existing.logsMigrationRecorded) return undefined;
  const ours =
    columns.length === OTEL_LOG_COLUMNS.length && OTEL_LOG_COLUMNS.every((c, i) => columns[i] === c);
  return ours ? undefined : columns;
}

/** Installation options that cannot apply to the tables as they exist are refused before anything runs. */
function checkOptionsAgainst(existing: ExistingTables, options: MigrationOptions): void {
  // A migration run without ON CLUSTER on replicated tables (or with it on plain ones) would change one replica
  // only, then record itself as applied for all.
  if (existing.eventsEngine !== undefined) {
    const replicated = existing.eventsEngine.startsWith('Replicated');
    if (replicated && options.cluster === undefined)
      throw new AuditStoreInputError(
        'cluster',
        `${AUDIT_TABLES.events} is ${existing.eventsEngine}: this database was migrated with a cluster; give the ` +
          'same cluster (--cluster) so every replica gets the migration (serve migrates without one: run ' +
          '`otel-audit migrate --cluster …`, then serve with --skip-migrations)',
      );
    if (!replicated && options.cluster !== undefined)
      throw new AuditStoreInputError(
        'cluster',
        `${AUDIT_TABLES.events} is ${existing.eventsEngine}, not replicated: this database was not migrated with a ` +
          'cluster; leave --cluster out',
      );
  }
  if (existing.logsEngine === undefined) {
    checkRawRetention(options, options.logsEngine ?? 'Null');
    return;
  }
  const foreign = foreignLogsTable(existing);
  const lacking = OTEL_LOG_COLUMNS.filter((c) => !foreign?.includes(c));
  if (foreign !== undefined && options.adoptLogsTable === true && lacking.length > 0)
    throw new AuditStoreInputError(
      'adoptLogsTable',
      `${options.database ?? 'default'}.${AUDIT_TABLES.logs} lacks columns the audit views read ` +
        `(${lacking.join(', ')}): it cannot be adopted; migrate into a database of its own`,
    );
  if (foreign !== undefined && options.adoptLogsTable !== true) {
    const extra = foreign.filter((c) => !(OTEL_LOG_COLUMNS as readonly string[]).includes(c));
    const database = options.database ?? 'default';
    throw new AuditStoreInputError(
      'database',
      `${database}.${AUDIT_TABLES.logs} already exists and otel-audit did not create it (${
        extra.length > 0
          ? `it has columns ${extra.slice(0, 5).join(', ')}`
          : "its columns differ from the exporter's INSERT"
      }): it is probably where a collector's ClickHouse exporter writes every log, and the audit views would run ` +
        'on every insert into it. Migrate into a database of its own (--database, and the same ' +
        'OTEL_AUDIT_CLICKHOUSE_DATABASE for the collector), or attach the views to this table on purpose with ' +
        '`otel-audit migrate --adopt-otel-logs` (adoptLogsTable: true)',
    );
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

/** What a database has recorded against what this release knows. */
export interface MigrationStatus {
  /** Migrations of this release the database has not recorded (all of them when it was never migrated). */
  pending: string[];
  /** Migrations the database has recorded that this release does not know: a newer release migrated it. */
  unknown: string[];
  /** Whether the database has a migrations table at all. */
  migrated: boolean;
  /**
   * Migrations recorded with another checksum than this release's file: migrate refuses the database (the
   * release that applied them knows what they did).
   */
  changed: string[];
}

/** Names of recorded migrations this release does not have (a newer release recorded them), sorted. */
function unknownMigrations(
  recorded: readonly { version: number | string; name: string }[],
  migrations: readonly Migration[],
): string[] {
  const known = new Set(migrations.map((m) => m.version));
  return [...new Set(recorded.filter((r) => !known.has(Number(r.version))).map((r) => r.name))].sort();
}

/** ClickHouse's codes for a table or database that does not exist (UNKNOWN_TABLE, UNKNOWN_DATABASE). */
/** Whether an engine error is the given one, by its code or its name in the message (chDB gives only that). */
function isEngineError(error: unknown, code: string, name: string): boolean {
  const e = error as { code?: unknown; clickhouseCode?: unknown; message?: unknown };
  return (
    String(e?.clickhouseCode ?? e?.code ?? '') === code ||
    new RegExp(`\\b${name}\\b`).test(String(e?.message ?? ''))
  );
}

/** The engine's "Database x does not exist" (a server answers it to any request naming that database). */
export function isMissingDatabase(error: unknown): boolean {
  return isEngineError(error, '81', 'UNKNOWN_DATABASE');
}

export function isMissingTable(error: unknown): boolean {
  return isEngineError(error, '60', 'UNKNOWN_TABLE') || isMissingDatabase(error);
}

/**
 * Which migrations a database lacks, or has from a newer release: a reader of a store an earlier release made,
 * or whose migrate did not finish, would meet missing or incomplete tables; one of a newer release, tables it
 * does not know. Reads the migrations table directly (a user granted SELECT on it alone can ask).
 */
export async function migrationStatus(
  client: ClickHouseClient,
  options: Pick<MigrationOptions, 'database'> = {},
  migrations = loadMigrations(),
): Promise<MigrationStatus> {
  const v = placeholders({ database: options.database ?? 'default' });
  let recorded: { version: number | string; name: string; checksum: string }[];
  try {
    recorded = await (
      await client.query({
        query: `SELECT version, name, checksum FROM ${v.db}.${AUDIT_TABLES.migrations}`,
        format: 'JSONEachRow',
        clickhouse_settings: BASE_SETTINGS,
      })
    ).json<{ version: number | string; name: string; checksum: string }>();
  } catch (error) {
    if (!isMissingTable(error)) throw error;
    return { pending: migrations.map((m) => m.name), unknown: [], migrated: false, changed: [] };
  }
  const done = new Map(recorded.map((r) => [Number(r.version), r.checksum]));
  return {
    pending: migrations.filter((m) => !done.has(m.version)).map((m) => m.name),
    unknown: unknownMigrations(recorded, migrations),
    migrated: true,
    changed: migrations
      .filter((m) => done.has(m.version) && done.get(m.version) !== m.checksum)
      .map((m) => m.name),
  };
}

/**
 * Applies the migrations not yet recorded, in order, and records each with its checksum. Idempotent (every
 * statement can run again: IF [NOT] EXISTS, and 0006's copy only adds keys that collapse), so a run
 * interrupted mid-migration can be repeated. Refuses to run at all when an applied migration's file changed.
 */
export async function runMigrations(
  client: ClickHouseClient,
  options: MigrationOptions = {},
  migrations = loadMigrations(),
  hooks: MigrationHooks = {},
  /**
   * Runs `CREATE DATABASE` through a connection that does not name the database: a server refuses every request
   * of `client` (which names it) while it does not exist. Called only then, after the options were checked.
   */
  createDatabase?: (query: string) => Promise<void>,
): Promise<MigrationResult> {
  const v = placeholders(options);
  days(options.retentionDays, 'retentionDays', 0);
  const settings: ClickHouseSettings = {
    ...BASE_SETTINGS,
    materialize_ttl_after_modify: 0,
    // A server answers a long statement (0006 copies every target key) only when it ends: progress headers
    // every 10 s keep the client's 30 s idle timeout from closing the request meanwhile (the client accepts
    // 1 MB of headers for this, see connection.ts: ~10 h of them).
    send_progress_in_http_headers: 1,
    http_headers_progress_interval_ms: '10000',
    // An ON CLUSTER statement answers with a table of hosts by default; `none` keeps its body empty (a failure
    // on a host still fails it), so an answer with a body can only be an error (runStatement).
    distributed_ddl_output_mode: 'none',
  };
  let existing: ExistingTables = {};
  let missingDatabase = false;
  try {
    existing = await existingTables(client, options, settings);
  } catch (error) {
    if (createDatabase === undefined || !isMissingDatabase(error)) throw error;
    missingDatabase = true;
  }
  checkOptionsAgainst(existing, options);
  if (missingDatabase) await createDatabase?.(createDatabaseSql(options));
  // Created just above, through the other connection: not a second ON CLUSTER statement.
  for (const query of setupSql(options, !missingDatabase))
    await client.command({ query, clickhouse_settings: settings });
  const rows = await (
    await client.query({
      query: `SELECT version, name, checksum FROM ${v.db}.${AUDIT_TABLES.migrations} ORDER BY version`,
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ version: number; name: string; checksum: string }>();
  const applied = new Map(rows.map((r) => [Number(r.version), r]));
  const newer = unknownMigrations(rows, migrations);
  if (newer.length > 0)
    throw new AuditStoreError(
      `database ${options.database ?? 'default'} was migrated by a newer release (${newer.join(', ')}): this ` +
        'release does not know its tables; use that release',
    );
  for (const m of migrations) {
    const previous = applied.get(m.version);
    if (previous && previous.checksum !== m.checksum) {
      throw new MigrationChecksumError(m.version, m.name, previous.checksum, m.checksum);
    }
  }
  const record = (m: Migration) =>
    client.insert({
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
  const result: MigrationResult = { applied: [], alreadyApplied: [], recreated: [] };
  // otel_logs dropped after its migration was recorded (to change its engine): without it every insert fails,
  // so it is created again, with this run's engine and raw-log retention; before the pending migrations, which
  // may read it (0004 changes the view on it).
  const logsMigration = migrations.find((m) => m.name === LOGS_MIGRATION);
  if (existing.logsEngine === undefined && logsMigration && applied.has(logsMigration.version)) {
    for (const query of renderMigration(logsMigration, options))
      await client.command({ query, clickhouse_settings: settings });
    result.recreated.push(AUDIT_TABLES.logs);
  }
  // A migration that copies keys is recorded only once their retention is materialized (below): a run that
  // fails in between applies it again, materialization included.
  const copied: Migration[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) {
      result.alreadyApplied.push(m.name);
      continue;
    }
    hooks.onMigration?.(m.name);
    for (const [i, query] of renderMigration(m, options).entries())
      await runStatement(
        client,
        query,
        `otel-audit-migrate-${options.database ?? 'default'}-${m.name}-${i}`,
        settings,
      );
    if (COPY_KEYS.has(m.name)) copied.push(m);
    else await record(m);
    result.applied.push(m.name);
  }
  // On a new database the copy found nothing: no rewrite to do. otel_logs created by this run has its TTL.
  await applyRetention(
    client,
    options,
    settings,
    copied.length > 0 && existing.eventsEngine !== undefined,
    existing.logsEngine !== undefined ? options.rawLogsRetentionDays : undefined,
  );
  for (const m of copied) await record(m);
  return result;
}

/**
 * Runs one statement of a migration file, with a fixed query id: when an earlier run's statement still runs on
 * a server (a client that gave up does not stop it), this run fails with QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING
 * instead of doing it a second time alongside. Once a server has sent progress headers it can no longer answer
 * with an error status: an error that comes later is in the body (older servers end it as if it succeeded), so
 * the body is read and must be empty, as a statement that succeeded leaves it with `wait_end_of_query`.
 */
async function runStatement(
  client: ClickHouseClient,
  query: string,
  queryId: string,
  settings: ClickHouseSettings,
): Promise<void> {
  const { stream } = await client.exec({ query, query_id: queryId, clickhouse_settings: settings });
  const body = (await text(stream)).trim();
  if (body.length > 0)
    throw new AuditStoreError(
      `migration statement ${queryId} failed on the server after it had started answering: ${body.slice(0, 1000)}`,
    );
}

/**
 * The durable mark of a table whose parts' TTL a migrate is recomputing: MATERIALIZE TTL only recomputes (deletes
 * nothing), no TTL merge runs, and no merge at all (an ordinary merge also drops a part whose stored TTL says it
 * expired; persistent, unlike SYSTEM STOP TTL MERGES). All reset when it is done.
 */
const MARK = {
  materialize_ttl_recalculate_only: 1,
  max_number_of_merges_with_ttl_in_pool: 0,
  max_bytes_to_merge_at_max_space_in_pool: 1,
  max_bytes_to_merge_at_min_space_in_pool: 1,
} as const;

/** A table's `engine_full` carries MARK: a recomputation a migrate began and did not finish. */
export const RECALCULATION_MARK = /\bmaterialize_ttl_recalculate_only = 1\b/;

/** The migration that creates otel_logs (and nothing else). */
const LOGS_MIGRATION = '0001_otel_logs';

/** Migrations that copy rows into the by-target table (into parts written without its TTL). */
const COPY_KEYS: ReadonlySet<string> = new Set(['0006_audit_target_keys']);

/**
 * N of `TTL occurred_at + toIntervalDay(N)` as system.tables shows the audit tables' TTL, also in the form
 * migrate wrote before 2026-11-23 (`toDateTime(occurred_at) + …`, 32-bit time: group 1).
 */
const TTL_DAYS = /\bTTL (toDateTime\()?occurred_at\)? \+ toIntervalDay\((\d+)\)/;
/** The same for otel_logs: `toDateTime64(Timestamp, 3) + …`, or before 2026-11-23 `toDateTime(Timestamp) + …`. */
const LOGS_TTL_DAYS =
  /\bTTL (toDateTime\(Timestamp\)|toDateTime64\(Timestamp, 3\)) \+ toIntervalDay\((\d+)\)/;

interface TableTtl {
  has: boolean;
  days?: number;
  /**
   * Written on 32-bit DateTime by a release before 2026-11-23: past 2106 the sum wraps into the past, so a long
   * retention (36,500 days) deletes every new row at its first merge. Rewritten to 64-bit time by every migrate.
   */
  time32?: boolean;
  /**
   * A recomputation of its parts' TTL started by an earlier migrate and not finished (the table still has
   * materialize_ttl_recalculate_only = 1, set first as the durable mark): this migrate finishes it.
   */
  recalculating?: boolean;
}

function tableTtl(engineFull: string, form: RegExp): TableTtl {
  const match = form.exec(engineFull);
  return {
    has: /\bTTL\b/.test(engineFull),
    ...(match && { days: Number(match[2]), time32: match[1]?.startsWith('toDateTime(') === true }),
    ...(RECALCULATION_MARK.test(engineFull) && { recalculating: true }),
  };
}

async function auditTableTtls(
  client: ClickHouseClient,
  options: MigrationOptions,
  settings: ClickHouseSettings,
): Promise<Record<string, TableTtl>> {
  const rows = await (
    await client.query({
      query:
        'SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}',
      query_params: {
        db: options.database ?? 'default',
        names: [AUDIT_TABLES.events, AUDIT_TABLES.byTarget, AUDIT_TABLES.logs],
      },
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ name: string; engine_full: string }>();
  return Object.fromEntries(
    rows.map((r) => [
      r.name,
      tableTtl(r.engine_full, r.name === AUDIT_TABLES.logs ? LOGS_TTL_DAYS : TTL_DAYS),
    ]),
  );
}

/** What a migrate does to one table's TTL: set one of `days`, remove it, or leave it as it is. */
type TtlPlan = { set: number } | 'remove' | 'keep';

/**
 * Recomputing a table's TTL rewrites its parts (compact parts: the whole table), the old ones kept until cleaned
 * up. Without room the engine does not fail: the mutation waits for space, and migrate hung silently holding the
 * store (31 minutes with 5 MB free on a 79 MB store, until space was freed). Checked before anything changes.
 */
async function checkRoomToRewrite(
  client: ClickHouseClient,
  options: MigrationOptions,
  settings: ClickHouseSettings,
  tables: string[],
  resumed: boolean,
): Promise<void> {
  // Per disk: the parts there, and its space not yet reserved by running merges.
  const disks = await (
    await client.query({
      query: `SELECT p.disk_name AS disk, sum(p.bytes_on_disk) AS needed, any(d.unreserved_space) AS free
        FROM system.parts AS p INNER JOIN system.disks AS d ON d.name = p.disk_name
        WHERE p.database = {db:String} AND p.active AND p.table IN {names:Array(String)} GROUP BY p.disk_name`,
      query_params: { db: options.database ?? 'default', names: tables },
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    })
  ).json<{ disk: string; needed: string; free: string }>();
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  for (const { disk, needed, free } of disks) {
    // The engine reserves 1.1x a part before rewriting it (with 1.04x free it waited for good), and old parts
    // stay until cleaned up: room for a copy of them all, plus that tenth.
    const wanted = Math.ceil(Number(needed) * REWRITE_ROOM);
    if (Number(free) < wanted)
      throw new AuditStoreError(
        `${resumed ? 'finishing the retention change an earlier migrate left unfinished' : 'a retention change'} ` +
          `rewrites the parts of ${tables.join(' and ')} (${mib(Number(needed))} on ClickHouse disk ` +
          `"${disk}"), which needs ${mib(wanted)} free there and has ${mib(Number(free))}: free at least ` +
          `${mib(wanted - Number(free))} and run migrate again (this run changed nothing)`,
      );
  }
}

/** Free space a TTL recomputation needs, per byte of the parts it rewrites. */
const REWRITE_ROOM = 1.15;

/**
 * Applies `retentionDays` to both audit tables as they are after the migrations (REMOVE TTL only where there
 * is one). Left out, audit_events' TTL stays (on 64-bit time) and audit_target_keys follows it: a table a later
 * migration created (0006's) gets it, and so do keys a migrate that died between the two tables left on the old
 * one. `rawLogsDays` is otel_logs' new retention (a table that existed before this run). Keys a migration of this
 * run copied (`copiedKeys`), some already expired (copied from events not yet merged away), get their TTL
 * materialized before that migration is recorded.
 *
 * Parts keep the expiry they were written with (materialize_ttl_after_modify = 0), and a merge drops a part whose
 * stored expiry passed whatever the table says: a retention lengthened from 30 to 3650 days (also through 0 in
 * between) still deleted the events stored before at 30 days; parts written without a TTL never expire; a TTL on
 * 32-bit time wrapped into the past. So every table whose TTL changes is marked first (MARK: no merge at all, also
 * across a crash), all of them before any is changed; then each gets its final TTL and its parts' expiry is
 * recomputed once (MATERIALIZE TTL, recalculate only), and only then merges run again. A table an earlier migrate
 * left marked is finished the same way, with this run's TTL.
 */
async function applyRetention(
  client: ClickHouseClient,
  options: MigrationOptions,
  settings: ClickHouseSettings,
  copiedKeys: boolean,
  rawLogsDays: number | undefined,
): Promise<void> {
  const keep = days(options.retentionDays, 'retentionDays', 0);
  const ttl = await auditTableTtls(client, options, settings);
  const v = placeholders(options);
  const alter = (table: string, clause: string) =>
    client.command({
      query: `ALTER TABLE ${v.db}.${table} ${v.on_cluster} ${clause}`,
      clickhouse_settings: settings,
    });
  const merges = (table: string, verb: 'STOP' | 'START') =>
    client.command({
      query: `SYSTEM ${verb} TTL MERGES ${v.on_cluster} ${v.db}.${table}`,
      clickhouse_settings: settings,
    });

  const events = ttl[AUDIT_TABLES.events];
  if (keep === undefined && events?.has && events.days === undefined && !ttl[AUDIT_TABLES.byTarget]?.has)
    throw new AuditStoreError(
      `${AUDIT_TABLES.events} has a TTL this version does not read, so ${AUDIT_TABLES.byTarget} could not get ` +
        'the same retention: migrate again with retentionDays (--retention-days) to set it on both tables',
    );
  // The TTL each existing table ends with.
  const plans = new Map<string, TtlPlan>();
  const keepOr64Bit = (own: TableTtl | undefined): TtlPlan =>
    own?.time32 && own.days !== undefined ? { set: own.days } : 'keep';
  const logs = ttl[AUDIT_TABLES.logs];
  if (logs !== undefined)
    plans.set(AUDIT_TABLES.logs, rawLogsDays !== undefined ? { set: rawLogsDays } : keepOr64Bit(logs));
  const keys = ttl[AUDIT_TABLES.byTarget];
  // What this run asks of both audit tables, if anything.
  const asked: TtlPlan | undefined = keep === 0 ? 'remove' : keep !== undefined ? { set: keep } : undefined;
  if (events !== undefined) plans.set(AUDIT_TABLES.events, asked ?? keepOr64Bit(events));
  if (keys !== undefined) {
    let follow: TtlPlan;
    if (events?.days !== undefined) follow = { set: events.days };
    else if (events?.has === false) follow = 'remove';
    else follow = keepOr64Bit(keys); // audit_events' TTL is one this version does not read: the keys keep theirs
    plans.set(AUDIT_TABLES.byTarget, asked ?? follow);
  }
  /** Whether the plan changes the table's TTL (or finishes a recomputation an earlier migrate began). */
  const changes = (table: string, plan: TtlPlan): boolean => {
    const own = ttl[table] as TableTtl;
    if (own.recalculating || own.time32) return true;
    if (plan === 'keep') return false;
    if (plan === 'remove') return own.has;
    return !(own.has && own.days === plan.set);
  };
  const changing = [...plans].filter(([table, plan]) => changes(table, plan));
  // Nothing changes on most runs (every serve start): no look at the parts then.
  const withParts = new Set(
    changing.length === 0
      ? []
      : (
          await (
            await client.query({
              query:
                'SELECT DISTINCT table FROM system.parts WHERE database = {db:String} AND active AND table IN {names:Array(String)}',
              query_params: { db: options.database ?? 'default', names: changing.map(([table]) => table) },
              format: 'JSONEachRow',
              clickhouse_settings: settings,
            })
          ).json<{ table: string }>()
        ).map((r) => r.table),
  );
  const form = (table: string) =>
    table === AUDIT_TABLES.logs ? 'toDateTime64(Timestamp, 3)' : 'occurred_at';
  const setTtl = async (table: string, plan: TtlPlan) => {
    if (plan === 'remove') {
      if (ttl[table]?.has) await alter(table, 'REMOVE TTL');
    } else if (plan !== 'keep') await alter(table, `MODIFY TTL ${ttlOf(form(table), plan.set)}`);
  };
  // No part yet (a table this run created, empty): nothing to recompute. Copied keys get their TTL materialized
  // below (deleting the expired ones at once) instead of recomputed.
  const recomputed = changing.filter(
    ([table]) =>
      ttl[table]?.recalculating || (withParts.has(table) && !(copiedKeys && table === AUDIT_TABLES.byTarget)),
  );
  if (recomputed.length > 0)
    await checkRoomToRewrite(
      client,
      options,
      settings,
      recomputed.map(([t]) => t),
      recomputed.some(([t]) => ttl[t]?.recalculating),
    );
  for (const [table, plan] of changing)
    if (!recomputed.some(([other]) => other === table)) await setTtl(table, plan);

  // Every table to recompute is marked before any is changed: a migrate that dies part-way leaves each of them
  // marked, and the next one finishes them (a table left unmarked with its old expiry would be merged away).
  // The keys first, and freed last (below): a migrate dying between two tables can leave keys of events already
  // gone (reads check every row), never an event its target page cannot find.
  // The mark before SYSTEM STOP: on a server a STOP outlives the migrate, and one sent by a run that died
  // before marking was never undone (TTL merges off until the server restarts, expired events kept).
  for (const [table] of [...recomputed].reverse()) {
    await alter(
      table,
      `MODIFY SETTING ${Object.entries(MARK)
        .map(([k, value]) => `${k} = ${value}`)
        .join(', ')}`,
    );
    await merges(table, 'STOP');
  }
  // Every table gets its final TTL and expiry before any merges again: a migrate that died after the first
  // table was done left it merging under that run's retention while the next run wanted another (rows lost).
  for (const [table, plan] of recomputed) {
    await setTtl(table, plan);
    // Without a TTL there is nothing to recompute (and the engine refuses MATERIALIZE TTL); a part's stale
    // expiry is recomputed when a TTL comes back (a change from none).
    if (plan === 'remove' || (plan === 'keep' && !ttl[table]?.has)) continue;
    try {
      await client.command({
        query: `ALTER TABLE ${v.db}.${table} ${v.on_cluster} MATERIALIZE TTL`,
        clickhouse_settings: { ...settings, mutations_sync: '2' },
      });
    } catch (error) {
      throw new AuditStoreError(
        `recomputing the TTL of ${table}'s parts (under its new TTL) failed; merges of ${table} stay off ` +
          `so nothing is deleted meanwhile: run migrate again to finish (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
  for (const [table] of recomputed) {
    await merges(table, 'START');
    await alter(table, `RESET SETTING ${Object.keys(MARK).join(', ')}`);
  }
  const keysPlan = plans.get(AUDIT_TABLES.byTarget);
  const keysTtl =
    keysPlan !== undefined && keysPlan !== 'remove' && (keysPlan !== 'keep' || keys?.has === true);
  if (copiedKeys && keysTtl) await alter(AUDIT_TABLES.byTarget, 'MATERIALIZE TTL');
}
