import type { StoreStatus, TableStatus } from '@otel-audit/clickhouse';
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { migrateCommand, openReader, READ_HELP, READ_OPTIONS } from '../open-reader.js';
import { storeTarget } from '../store-options.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

function retention(table: TableStatus): string {
  // A Null table holds nothing, so it has nothing to keep.
  if (table.engine === 'Null') return '-';
  if (table.retentionDays !== undefined)
    return `${table.retentionDays} days${table.ttlOn32BitTime ? ' (on 32-bit time: run migrate)' : ''}`;
  return table.ttl ?? 'forever';
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function report(status: StoreStatus, migrate: string): string {
  const { applied, pending, unknown, changed } = status.migrations;
  const lines = status.migrated
    ? [
        `database ${status.database}: ${applied.length} of ${applied.length + pending.length} migrations applied`,
      ]
    : [`database ${status.database}: no otel-audit tables (never migrated, or a mistyped --database)`];
  if (!status.migrated) lines.push(`if it is the database you meant, create the tables with \`${migrate}\``);
  else if (pending.length > 0) lines.push(`pending: ${pending.join(', ')} (run \`${migrate}\`)`);
  if (unknown.length > 0) lines.push(`from a newer release: ${unknown.join(', ')} (use that release)`);
  if (changed.length > 0)
    lines.push(
      `changed since applied: ${changed.join(', ')} (this release's file differs from the one applied: migrate ` +
        'refuses the store; use the release that applied it)',
    );
  if (status.missing.length > 0)
    lines.push(
      `missing: ${status.missing.join(', ')} (inserts fail without it: run \`${migrate}\`, which creates it again)`,
    );
  const recalculating = status.tables.filter((t) => t.ttlRecalculationPending).map((t) => t.name);
  if (recalculating.length > 0)
    lines.push(
      `TTL recomputation unfinished on ${recalculating.join(', ')} (a migrate stopped part-way; no merge runs ` +
        `there until it is finished, so parts pile up): run \`${migrate}\``,
    );
  if (status.tables.some((t) => t.ttlOn32BitTime))
    lines.push(
      `a retention on 32-bit time (an earlier release's): past 2106 it wraps and deletes new rows: run \`${migrate}\``,
    );
  if (status.tables.length > 0) {
    lines.push(
      '',
      table([
        ['table', 'engine', 'rows', 'on disk', 'retention'],
        ...status.tables.map((t) => [
          t.name,
          t.engine,
          t.rows.toLocaleString('en-US'),
          bytes(t.bytesOnDisk),
          retention(t),
        ]),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

export const status: Command = {
  name: 'status',
  summary: "a store's migrations, tables, sizes and retention",
  usage: `status [--json]

  --json               print the status as JSON: {"database","migrated",
                       "migrations":{"applied","pending","unknown","changed"},"missing",
                       "tables":[{"name","engine","rows","bytesOnDisk","ttl"?,"retentionDays"?,"ttlOn32BitTime"?,
                       "ttlRecalculationPending"?}]}

Rows count what is on disk: a re-sent event counts twice until a merge collapses it. A store whose migrations
are pending or from a newer release is shown, not refused (the query commands refuse it).

${READ_HELP}`,
  options: { ...READ_OPTIONS, json: { type: 'boolean' } },
  async run(values, _positionals, ctx) {
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env, { requireMigrated: false });
    try {
      const found = await store.status();
      await ctx.stdout(
        values.json === true
          ? `${JSON.stringify(found)}\n`
          : report(found, migrateCommand(storeTarget(values, ctx.env))),
      );
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
