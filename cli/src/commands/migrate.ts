import { existsSync } from 'node:fs';
import {
  AuditStoreInputError,
  isEmbeddedTarget,
  MAX_RETENTION_DAYS,
  quoteClusterName,
} from '@otel-audit/clickhouse';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import { openStore, STORE_HELP, STORE_OPTIONS, storeTarget, str } from '../store-options.js';

/** How long migrate waits for a silent server statement. */
const MIGRATE_REQUEST_TIMEOUT_MS = 600_000;

// Checked here, before the store is opened: opening an embedded one creates its directory.
function days(value: string | undefined, flag: string, min: 0 | 1): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > MAX_RETENTION_DAYS)
    throw new UsageError(
      `--${flag}: expected a whole number of days ${min}..${MAX_RETENTION_DAYS}, got ${JSON.stringify(value)}`,
    );
  return Number(value);
}

function clusterName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    quoteClusterName(value);
  } catch (error) {
    if (error instanceof AuditStoreInputError) throw new UsageError(`--${error.message}`);
    throw error;
  }
  return value;
}

export const migrate: Command = {
  name: 'migrate',
  summary: 'create or upgrade the ClickHouse tables (idempotent)',
  usage: `migrate [options]

  --cluster NAME                 run every DDL ON CLUSTER with Replicated engines
  --logs-engine Null|MergeTree   keep raw otel_logs rows (MergeTree) or only the audit tables (Null, default);
                                 chosen when otel_logs is created: another one later is refused
  --raw-logs-retention-days N    TTL of raw log rows in days (1..${MAX_RETENTION_DAYS}), MergeTree otel_logs only
                                 (default 7 when created; given later, the TTL changes)
  --retention-days N             TTL of audit events in days (0..${MAX_RETENTION_DAYS}), set on every run that
                                 gives it, for events already stored too; 0 removes it (keep forever); left out,
                                 the TTL stays as it is (none at first)
  --adopt-otel-logs              attach the audit views to an existing otel_logs that otel-audit did not create
                                 (e.g. the one a collector's ClickHouse exporter fills with every log: the views
                                 then run on every insert into it); without it such a table is refused
  --json                         print the result as JSON

${STORE_HELP}`,
  options: {
    ...STORE_OPTIONS,
    cluster: { type: 'string' },
    'logs-engine': { type: 'string' },
    'raw-logs-retention-days': { type: 'string' },
    'retention-days': { type: 'string' },
    'adopt-otel-logs': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, ctx) {
    const logsEngine = str(values, 'logs-engine');
    if (logsEngine !== undefined && logsEngine !== 'Null' && logsEngine !== 'MergeTree') {
      throw new UsageError(`--logs-engine: expected Null or MergeTree, got ${JSON.stringify(logsEngine)}`);
    }
    const retentionDays = days(str(values, 'retention-days'), 'retention-days', 0);
    const rawLogsRetentionDays = days(str(values, 'raw-logs-retention-days'), 'raw-logs-retention-days', 1);
    const cluster = clusterName(str(values, 'cluster'));
    if (cluster !== undefined && isEmbeddedTarget(storeTarget(values, ctx.env)))
      throw new UsageError(
        '--cluster: applies to a ClickHouse server (--url); an embedded store (--data-dir) has no cluster',
      );
    // A new directory would be created by opening it, then refused by the store: refused here first.
    const target = storeTarget(values, ctx.env);
    if (
      rawLogsRetentionDays !== undefined &&
      logsEngine !== 'MergeTree' &&
      isEmbeddedTarget(target) &&
      !existsSync(target.path)
    )
      throw new UsageError(
        '--raw-logs-retention-days: applies only with --logs-engine MergeTree (a new store gets a Null otel_logs, which keeps no rows)',
      );
    // A server's ON CLUSTER statements and SYSTEM SYNC REPLICA stay silent until done: 10 min, not 30 s.
    const store = await openStore(values, ctx.env, MIGRATE_REQUEST_TIMEOUT_MS);
    try {
      const result = await store.migrate(
        {
          ...(cluster !== undefined && { cluster }),
          ...(logsEngine !== undefined && { logsEngine }),
          ...(retentionDays !== undefined && { retentionDays }),
          ...(rawLogsRetentionDays !== undefined && { rawLogsRetentionDays }),
          ...(values['adopt-otel-logs'] === true && { adoptLogsTable: true }),
        },
        // Progress on stderr: 0006 copies every target key, minutes on a large database.
        { onMigration: (name) => ctx.stderr(`applying ${name}\n`) },
      );
      if (values.json) await ctx.stdout(`${JSON.stringify({ database: store.database, ...result })}\n`);
      else {
        for (const name of result.applied) await ctx.stdout(`applied ${name}\n`);
        for (const table of result.recreated) await ctx.stdout(`created ${table} again (it was missing)\n`);
        await ctx.stdout(
          `database ${store.database}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied\n`,
        );
      }
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
