import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_ATTRIBUTES, AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_SETTINGS } from '../src/connection.js';
import {
  AuditStore,
  AuditStoreInputError,
  loadMigrations,
  MigrationChecksumError,
  migrationSql,
  migrationStatus,
  runMigrations,
} from '../src/index.js';
import { targetHistory } from '../src/query/operations.js';
import { logRow } from './support.js';

let store: AuditStore;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'otel-audit-mig-'));
  store = await AuditStore.open({ path: dir, database: 'audit_db' });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration runner', () => {
  it('applies every migration once, records checksums, and is idempotent', async () => {
    const first = await store.migrate({
      retentionDays: 400,
      logsEngine: 'MergeTree',
      rawLogsRetentionDays: 3,
    });
    expect(first.applied).toEqual(loadMigrations().map((m) => m.name));
    const second = await store.migrate({ retentionDays: 400 });
    expect(second).toEqual({ applied: [], alreadyApplied: first.applied, recreated: [] });
    const recorded = await store.query<{ name: string; checksum: string }>(
      `SELECT name, checksum FROM {db}.${AUDIT_TABLES.migrations} ORDER BY version`,
    );
    expect(recorded).toEqual(loadMigrations().map((m) => ({ name: m.name, checksum: m.checksum })));
  });

  it('creates the tables in the configured database with the chosen engines and TTLs', async () => {
    const tables = await store.query<{ name: string; engine: string; create_table_query: string }>(
      `SELECT name, engine, create_table_query FROM system.tables WHERE database = 'audit_db' ORDER BY name`,
    );
    const byName = Object.fromEntries(tables.map((t) => [t.name, t]));
    expect(byName[AUDIT_TABLES.logs]?.engine).toBe('MergeTree');
    expect(byName[AUDIT_TABLES.logs]?.create_table_query).toMatch(
      /TTL toDateTime64\(Timestamp, 3\) \+ toIntervalDay\(3\)/,
    );
    for (const t of [AUDIT_TABLES.events, AUDIT_TABLES.byTarget]) {
      expect(byName[t]?.engine).toBe('ReplacingMergeTree');
      expect(byName[t]?.create_table_query).toMatch(/TTL occurred_at \+ toIntervalDay\(400\)/);
    }
    // A new database has no keys to rewrite: no mutation for the retention.
    expect(
      await store.query('SELECT command FROM system.mutations WHERE database = {d:String}', {
        d: 'audit_db',
      }),
    ).toEqual([]);
    // Wider merges for the narrow by-target table only (0005, kept in 0006; why: collector/README.md, Benchmark).
    expect(byName[AUDIT_TABLES.byTarget]?.create_table_query).toMatch(/merge_selector_base = 10/);
    expect(byName[AUDIT_TABLES.events]?.create_table_query).not.toMatch(/merge_selector_base/);
    await store.insertLogs([logRow({ tenant: 'db-check' })]);
    const [n] = await store.query<{ n: string }>(
      `SELECT count() AS n FROM audit_db.${AUDIT_TABLES.events} WHERE tenant = 'db-check'`,
    );
    expect(n?.n).toBe('1');
  });

  it('upgrades a database of an earlier release: later migrations apply, rows already stored stay as they were', async () => {
    const up = (migrations = loadMigrations()) =>
      runMigrations(store.client, { database: 'upgrade_db' }, migrations);
    const insert = (row: ReturnType<typeof logRow>) =>
      store.client.insert({ table: `upgrade_db.${AUDIT_TABLES.logs}`, values: [row], format: 'JSONEachRow' });
    const malformed = async (tenant: string) =>
      (
        await store.query<{ m: string }>(
          `SELECT malformed AS m FROM upgrade_db.${AUDIT_TABLES.events} FINAL WHERE tenant = {tenant:String}`,
          { tenant },
        )
      ).map((r) => r.m);
    const all = loadMigrations();
    const first = all.filter((m) => m.version <= 3);
    expect((await up(first)).applied).toEqual(first.map((m) => m.name));
    const odd = { [AUDIT_ATTRIBUTES.lastOccurredAt]: '1' };
    await insert(logRow({ tenant: 'before', attributes: odd }));
    expect(await malformed('before')).toEqual(['']);
    expect((await up()).applied).toEqual(all.filter((m) => m.version > 3).map((m) => m.name));
    await insert(logRow({ tenant: 'after', attributes: odd }));
    expect(await malformed('before')).toEqual(['']);
    expect(await malformed('after')).toEqual([AUDIT_ATTRIBUTES.lastOccurredAt]);
  });

  it('0006 moves the target keys into audit_target_keys: rows copied, retention carried over, safe to run again', async () => {
    const db = 'keys_db';
    const all = loadMigrations();
    await runMigrations(
      store.client,
      { database: db },
      all.filter((m) => m.version <= 5),
    );
    const insert = (rows: ReturnType<typeof logRow>[]) =>
      store.client.insert({ table: `${db}.${AUDIT_TABLES.logs}`, values: rows, format: 'JSONEachRow' });
    const doc = (id: string) => ({ type: 'doc', id });
    // Days before today (midnight UTC), and how a key shows them: the retention below is 400 days.
    const ago = (days: number) => new Date(Math.floor(Date.now() / 86_400_000 - days) * 86_400_000);
    const key = (id: string, at: Date) => `${id} ${at.toISOString().replace('T', ' ').replace('Z', '')}`;
    const [d75, d45, d15, d10, d800] = [ago(75), ago(45), ago(15), ago(10), ago(800)];
    await insert([
      logRow({ tenant: 'k', targets: [doc('a'), doc('b')], occurredAt: d75 }),
      logRow({ tenant: 'k', targets: [doc('a')], occurredAt: d45 }),
      logRow({ tenant: 'k', targets: [], occurredAt: d15 }),
      // Past the retention, not merged away yet: the copy takes its key, the carried TTL must remove it.
      logRow({ tenant: 'k', targets: [doc('old')], occurredAt: d800 }),
    ]);
    // The retention an earlier release's migrate set on its two audit tables, after these rows were written and
    // as the runner does it: not materialized, so no part holding them carries it yet (else it could remove
    // the expired key before the upgrade; a test of what the upgrade does must not race that).
    for (const table of ['audit_events', 'audit_events_by_target'])
      await store.client.command({
        query: `ALTER TABLE ${db}.${table} MODIFY TTL occurred_at + INTERVAL 400 DAY`,
        clickhouse_settings: { ...BASE_SETTINGS, materialize_ttl_after_modify: 0 },
      });
    const keys = async (table: string = AUDIT_TABLES.byTarget) =>
      (
        await store.query<{ key: string }>(
          `SELECT concat(target_id, ' ', toString(occurred_at)) AS key FROM ${db}.${table}
           WHERE tenant = 'k' GROUP BY key ORDER BY key`,
        )
      ).map((r) => r.key);
    const tables = async () =>
      (
        await store.query<{ name: string }>(
          'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
          { db },
        )
      ).map((r) => r.name);
    const mutations = async () =>
      (
        await store.query<{ command: string }>(
          'SELECT command FROM system.mutations WHERE database = {db:String} AND table = {t:String}',
          { db, t: AUDIT_TABLES.byTarget },
        )
      ).map((m) => m.command);
    const recorded = async () =>
      (
        await store.query<{ name: string }>(
          `SELECT name FROM ${db}.${AUDIT_TABLES.migrations} ORDER BY version`,
        )
      ).map((r) => r.name);
    expect(await tables()).toContain('audit_events_by_target');
    expect(await keys('audit_events_by_target')).toContain(key('old', d800));

    // A run that fails after 0006's statements, before the copied keys got their retention: 0006 is not
    // recorded, so the next run applies it again, materialization included.
    const failing = new Proxy(store.client, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'command') return typeof value === 'function' ? value.bind(target) : value;
        return (params: { query: string }) =>
          /MATERIALIZE TTL/.test(params.query)
            ? Promise.reject(new Error('connection reset'))
            : target.command(params as Parameters<typeof target.command>[0]);
      },
    });
    await expect(runMigrations(failing, { database: db })).rejects.toThrow(/connection reset/);
    expect(await recorded()).not.toContain('0006_audit_target_keys');

    expect((await runMigrations(store.client, { database: db })).applied).toEqual(['0006_audit_target_keys']);
    expect(await recorded()).toContain('0006_audit_target_keys');
    const copied = [key('a', d75), key('a', d45), key('b', d75)];
    // The expired key goes with the TTL materialized on the copied keys (a mutation: it runs in the background).
    await expect.poll(() => keys(), { timeout: 20_000, interval: 100 }).toEqual(copied);
    // Materialized, not left to merges: a copied part that is never merged again would keep its keys.
    expect(await mutations()).toEqual(['(MATERIALIZE TTL)']);
    expect(await tables()).not.toContain('audit_events_by_target');
    expect(await tables()).not.toContain('audit_events_by_target_mv');
    const [ddl] = await store.query<{ q: string }>(
      'SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = {t:String}',
      { db, t: AUDIT_TABLES.byTarget },
    );
    // The retention given on an earlier migrate, carried over from audit_events; one partition.
    expect(ddl?.q).toMatch(/TTL occurred_at \+ toIntervalDay\(400\)/);
    expect(ddl?.q).not.toMatch(/PARTITION BY/);
    for (const setting of [
      'index_granularity = 1024',
      'min_bytes_for_wide_part = 1000000000000',
      'min_rows_for_wide_part = 1000000000000',
      'merge_selector_base = 10',
      'merge_with_ttl_timeout = 86400',
    ])
      expect(ddl?.q).toContain(setting);
    // A migrate with nothing to apply rewrites nothing (with or without a retention).
    await runMigrations(store.client, { database: db });
    await runMigrations(store.client, { database: db, retentionDays: 400 });
    expect(await mutations()).toEqual(['(MATERIALIZE TTL)']);

    // New events reach the new table through its view, and a page of the target reads them.
    await insert([logRow({ tenant: 'k', targets: [doc('a')], occurredAt: d10 })]);
    const all4 = [key('a', d75), key('a', d45), key('a', d10), key('b', d75)];
    expect(await keys()).toEqual(all4);
    const page = await targetHistory({ client: store.client, db: `\`${db}\`` }, 'k', doc('a'), { limit: 2 });
    expect(page.events.map((e) => e.occurredAt.toISOString())).toEqual([
      d10.toISOString(),
      d45.toISOString(),
    ]);

    // A run interrupted after 0006's statements, before it was recorded, repeats them all: the copy adds every
    // key again (they collapse) and the expired one again, which the TTL materialized again removes.
    await store.client.command({
      query: `ALTER TABLE ${db}.${AUDIT_TABLES.migrations} DELETE WHERE version = 6`,
      clickhouse_settings: { ...BASE_SETTINGS, mutations_sync: '1' },
    });
    expect((await runMigrations(store.client, { database: db })).applied).toEqual(['0006_audit_target_keys']);
    await expect.poll(() => keys(), { timeout: 20_000, interval: 100 }).toEqual(all4);
    await store.command(`OPTIMIZE TABLE ${db}.${AUDIT_TABLES.byTarget} FINAL`);
    const [n] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${db}.${AUDIT_TABLES.byTarget}`);
    expect(n?.n).toBe('4');
  });

  it('0006 carries a retention written in the earlier 32-bit form, and refuses to guess one it cannot read', async () => {
    const upgrade = async (db: string, ttl: string, options: { retentionDays?: number } = {}) => {
      await runMigrations(
        store.client,
        { database: db },
        loadMigrations().filter((m) => m.version <= 5),
      );
      for (const table of ['audit_events', 'audit_events_by_target'])
        await store.client.command({
          query: `ALTER TABLE ${db}.${table} MODIFY TTL ${ttl}`,
          clickhouse_settings: { ...BASE_SETTINGS, materialize_ttl_after_modify: 0 },
        });
      return runMigrations(store.client, { database: db, ...options });
    };
    const keysTtl = async (db: string) =>
      (
        await store.query<{ q: string }>(
          'SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = {t:String}',
          { db, t: AUDIT_TABLES.byTarget },
        )
      )[0]?.q;
    await upgrade('keys_old_ttl_db', 'toDateTime(occurred_at) + INTERVAL 30 DAY');
    expect(await keysTtl('keys_old_ttl_db')).toMatch(/TTL occurred_at \+ toIntervalDay\(30\) SETTINGS/);
    await expect(upgrade('keys_month_ttl_db', 'occurred_at + INTERVAL 1 MONTH')).rejects.toThrow(
      /audit_events has a TTL this version does not read.*retentionDays \(--retention-days\)/,
    );
    await runMigrations(store.client, { database: 'keys_month_ttl_db', retentionDays: 31 });
    expect(await keysTtl('keys_month_ttl_db')).toMatch(/TTL occurred_at \+ toIntervalDay\(31\) SETTINGS/);
  });

  it('an upgrade through 0006 that removes the retention (0) leaves no TTL on either table', async () => {
    const db = 'keys_forever_db';
    await runMigrations(
      store.client,
      { database: db },
      loadMigrations().filter((m) => m.version <= 5),
    );
    for (const table of ['audit_events', 'audit_events_by_target'])
      await store.command(`ALTER TABLE ${db}.${table} MODIFY TTL occurred_at + INTERVAL 30 DAY`);
    // audit_target_keys is created without a TTL in this run: removing one it does not have would fail.
    await runMigrations(store.client, { database: db, retentionDays: 0 });
    const ddl = await store.query<{ name: string; q: string }>(
      'SELECT name, create_table_query AS q FROM system.tables WHERE database = {db:String} AND name IN {t:Array(String)}',
      { db, t: [AUDIT_TABLES.events, AUDIT_TABLES.byTarget] },
    );
    expect(ddl).toHaveLength(2);
    for (const { q } of ddl) expect(q).not.toMatch(/TTL/);
  });

  it('reports what a database lacks or has from a newer release, and migrate refuses a newer one', async () => {
    const names = loadMigrations().map((m) => m.name);
    // Never migrated (the database does not even exist): everything pending.
    expect(await migrationStatus(store.client, { database: 'status_db' })).toEqual({
      pending: names,
      unknown: [],
      migrated: false,
      changed: [],
    });
    await runMigrations(store.client, { database: 'status_db' });
    expect(await migrationStatus(store.client, { database: 'status_db' })).toEqual({
      pending: [],
      unknown: [],
      migrated: true,
      changed: [],
    });
    // A recorded checksum that is not this release's file: named, as migrate would refuse it.
    await store.client.command({
      query: "ALTER TABLE status_db.otel_audit_migrations UPDATE checksum = 'x' WHERE version = 2",
      clickhouse_settings: { ...BASE_SETTINGS, mutations_sync: '1' },
    });
    expect((await migrationStatus(store.client, { database: 'status_db' })).changed).toEqual([names[1]]);
    // A newer release recorded a migration this one does not have.
    await store.command(
      "INSERT INTO status_db.otel_audit_migrations VALUES (99, '0099_from_the_future', 'x', now64(3, 'UTC'))",
    );
    expect((await migrationStatus(store.client, { database: 'status_db' })).unknown).toEqual([
      '0099_from_the_future',
    ]);
    await expect(runMigrations(store.client, { database: 'status_db' })).rejects.toThrow(
      /^database status_db was migrated by a newer release \(0099_from_the_future\): this release does not know its tables; use that release/,
    );
  });

  it('refuses a cluster for a database that was not migrated with one, before changing anything', async () => {
    await expect(runMigrations(store.client, { database: 'audit_db', cluster: 'c1' })).rejects.toThrow(
      /^cluster: audit_events is ReplacingMergeTree, not replicated: this database was not migrated with a cluster; leave --cluster out/,
    );
  });

  it('gives a checkout with CRLF line endings the same checksums (the same release)', () => {
    const crlf = mkdtempSync(join(tmpdir(), 'otel-audit-crlf-'));
    try {
      for (const m of loadMigrations())
        writeFileSync(join(crlf, `${m.name}.sql`), m.template.replace(/\n/g, '\r\n'));
      expect(loadMigrations(crlf).map((m) => m.checksum)).toEqual(loadMigrations().map((m) => m.checksum));
    } finally {
      rmSync(crlf, { recursive: true, force: true });
    }
  });

  it('reads the migrations from OTEL_AUDIT_MIGRATIONS_DIR (a bundled app ships a copy), and says where it looked', () => {
    const copy = mkdtempSync(join(tmpdir(), 'otel-audit-bundled-'));
    const before = process.env.OTEL_AUDIT_MIGRATIONS_DIR;
    try {
      for (const m of loadMigrations()) writeFileSync(join(copy, `${m.name}.sql`), m.template);
      process.env.OTEL_AUDIT_MIGRATIONS_DIR = copy;
      expect(loadMigrations().map((m) => m.checksum)).toEqual(
        loadMigrations(undefined).map((m) => m.checksum),
      );
      rmSync(join(copy, '0003_audit_events_by_target.sql'));
      expect(loadMigrations().map((m) => m.name)).not.toContain('0003_audit_events_by_target');
      // Two files of one number (two branches merged): both applied once, then every migrate refused the database.
      writeFileSync(join(copy, '0099_branch_a.sql'), 'SELECT 1');
      writeFileSync(join(copy, '0099_branch_b.sql'), 'SELECT 2');
      expect(() => loadMigrations()).toThrow(/0099_branch_a and 0099_branch_b in .* have the same number/);
      rmSync(join(copy, '0099_branch_b.sql'));
      // A file that looks like a migration but is not named like one was skipped without a word.
      for (const misnamed of ['0100_addColumn.sql', '0100-other.sql', '010_short.sql']) {
        writeFileSync(join(copy, misnamed), 'SELECT 3');
        expect(() => loadMigrations()).toThrow(
          new RegExp(`${misnamed} is not named like a migration \\(NNNN_name\\.sql`),
        );
        rmSync(join(copy, misnamed));
      }
      expect(loadMigrations().map((m) => m.name)).toContain('0099_branch_a');
      process.env.OTEL_AUDIT_MIGRATIONS_DIR = join(copy, 'missing');
      expect(() => loadMigrations()).toThrow(
        new RegExp(`cannot read the migration files in ${join(copy, 'missing')} .*OTEL_AUDIT_MIGRATIONS_DIR`),
      );
      process.env.OTEL_AUDIT_MIGRATIONS_DIR = tmpdir();
      expect(() => loadMigrations()).toThrow(/no migration files \(NNNN_name\.sql\) in/);
    } finally {
      if (before === undefined) delete process.env.OTEL_AUDIT_MIGRATIONS_DIR;
      else process.env.OTEL_AUDIT_MIGRATIONS_DIR = before;
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a read of a database not migrated (or missing a table of a later migration) says to run migrate', async () => {
    // No database at all (UNKNOWN_DATABASE), and a database without the tables (UNKNOWN_TABLE, as a release
    // before 0006 lacks audit_target_keys).
    await store.command('CREATE DATABASE IF NOT EXISTS half_migrated');
    for (const db of ['`never_migrated`', '`half_migrated`']) {
      await expect(targetHistory({ client: store.client, db }, 't', { type: 'a', id: 'b' })).rejects.toThrow(
        /database `\w+` lacks a table this release reads \(.+\): run migrate first/,
      );
    }
    await store.command('DROP DATABASE half_migrated');
  });

  it('refuses to run when an applied migration changed', async () => {
    const changed = loadMigrations().map((m, i) =>
      i === 1 ? { ...m, checksum: 'edited', template: `${m.template}\n` } : m,
    );
    await expect(runMigrations(store.client, { database: 'audit_db' }, changed)).rejects.toThrow(
      MigrationChecksumError,
    );
    await expect(runMigrations(store.client, { database: 'audit_db' }, changed)).rejects.toThrow(
      /0002_audit_events was applied with checksum [0-9a-f]{64} but this release.s file has edited.*Use the release that applied it/,
    );
  });

  it('applies installation options to an existing database, or refuses them before changing anything', async () => {
    const ddl = async (table: string) =>
      (
        await store.query<{ q: string }>(
          'SELECT create_table_query AS q FROM system.tables WHERE database = {d:String} AND name = {t:String}',
          { d: 'audit_db', t: table },
        )
      )[0]?.q ?? '';
    // otel_logs exists as MergeTree (first test): its engine cannot change.
    await expect(store.migrate({ logsEngine: 'Null', retentionDays: 9 })).rejects.toThrow(
      /^logsEngine: otel_logs already exists with ENGINE = MergeTree/,
    );
    expect(await ddl(AUDIT_TABLES.events)).toMatch(/toIntervalDay\(400\)/);
    // Raw-log retention changes on the existing table; unset retention leaves the audit TTL alone.
    await store.migrate({ logsEngine: 'MergeTree', rawLogsRetentionDays: 5 });
    expect(await ddl(AUDIT_TABLES.logs)).toMatch(/TTL toDateTime64\(Timestamp, 3\) \+ toIntervalDay\(5\)/);
    expect(await ddl(AUDIT_TABLES.events)).toMatch(/toIntervalDay\(400\)/);
    // 0 = keep forever: the TTL goes, and giving 0 again (no TTL left) is fine.
    await store.migrate({ retentionDays: 0 });
    await store.migrate({ retentionDays: 0 });
    for (const t of [AUDIT_TABLES.events, AUDIT_TABLES.byTarget]) expect(await ddl(t)).not.toMatch(/TTL/);
    await store.migrate({ retentionDays: 400 });
    for (const t of [AUDIT_TABLES.events, AUDIT_TABLES.byTarget])
      expect(await ddl(t)).toMatch(/toIntervalDay\(400\)/);

    // A Null otel_logs keeps no rows: a raw retention for it is refused, not dropped.
    const other = (options: Parameters<typeof runMigrations>[1]) =>
      runMigrations(store.client, { database: 'null_db', ...options });
    await other({});
    await expect(other({ rawLogsRetentionDays: 3 })).rejects.toThrow(
      /^rawLogsRetentionDays: otel_logs has ENGINE = Null/,
    );
    await expect(other({ logsEngine: 'MergeTree' })).rejects.toThrow(/^logsEngine: .*ENGINE = Null/);
    expect((await other({ logsEngine: 'Null' })).applied).toEqual([]);
  });

  it('keeps events for a long retention (past 2106: 32-bit DateTime wrapped it into the past) and drops expired ones', async () => {
    const count = async (tenant: string) =>
      (
        await store.query<{ n: string }>(
          `SELECT count() AS n FROM audit_db.${AUDIT_TABLES.events} WHERE tenant = {tenant:String}`,
          { tenant },
        )
      )[0]?.n;
    const optimize = () =>
      Promise.all(
        [AUDIT_TABLES.events, AUDIT_TABLES.byTarget].map((t) =>
          store.command(`OPTIMIZE TABLE audit_db.${t} FINAL`),
        ),
      );
    // Rows are inserted after the TTL is set: a part's TTL is computed when it is written.
    await store.migrate({ retentionDays: 36_500 });
    await store.insertLogs([logRow({ tenant: 'ttl-recent', occurredAt: new Date() })]);
    await optimize();
    expect(await count('ttl-recent')).toBe('1');
    await store.migrate({ retentionDays: 100_000 });
    await store.insertLogs([logRow({ tenant: 'ttl-recent', occurredAt: new Date() })]);
    await optimize();
    expect(await count('ttl-recent')).toBe('2');
    // The TTL still expires what is older than the retention.
    await store.migrate({ retentionDays: 30 });
    await store.insertLogs([logRow({ tenant: 'ttl-old', occurredAt: new Date('2020-01-15T00:00:00Z') })]);
    await optimize();
    expect(await count('ttl-old')).toBe('0');
    expect(await count('ttl-recent')).toBe('2');
    await store.migrate({ retentionDays: 400 });
  });

  it('a longer retention keeps what the shorter one would have expired (parts kept their old expiry)', async () => {
    const tables = [AUDIT_TABLES.events, AUDIT_TABLES.byTarget];
    const count = async (table: string) =>
      (
        await store.query<{ n: string }>(
          `SELECT toString(count()) AS n FROM audit_db.${table} WHERE tenant = 'ttl-lengthened'`,
        )
      )[0]?.n;
    await store.migrate({ retentionDays: 30 });
    // Written under 30 days, 40 days old: expired there (TTL merges held off so it is not gone before the change).
    for (const table of tables) await store.command(`SYSTEM STOP TTL MERGES audit_db.${table}`);
    await store.insertLogs([
      logRow({
        tenant: 'ttl-lengthened',
        occurredAt: new Date(Date.now() - 40 * 86_400_000),
        targets: [{ type: 'doc', id: 'd' }],
      }),
    ]);
    await store.migrate({ retentionDays: 3650 });
    for (const table of tables) {
      await store.command(`SYSTEM START TTL MERGES audit_db.${table}`);
      await store.command(`OPTIMIZE TABLE audit_db.${table} FINAL`);
      expect(await count(table), table).toBe('1');
    }
    await store.migrate({ retentionDays: 400 });
  });

  it('recomputes stored expiry on every change: 30 -> 0 -> 3650 keeps, a first retention expires old rows, a failed change resumes with the new one', async () => {
    const tables = [AUDIT_TABLES.events, AUDIT_TABLES.byTarget];
    const count = async (tenant: string) =>
      (
        await store.query<{ n: string }>(
          `SELECT toString(count()) AS n FROM audit_db.${AUDIT_TABLES.events} WHERE tenant = {tenant:String}`,
          { tenant },
        )
      )[0]?.n;
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);
    const mergeAll = async () => {
      for (const table of tables) {
        await store.command(`SYSTEM START TTL MERGES audit_db.${table}`);
        await store.command(`OPTIMIZE TABLE audit_db.${table} FINAL`);
      }
    };
    // Through 0 (REMOVE TTL leaves each part's stored expiry): setting a retention again applied the old one.
    await store.migrate({ retentionDays: 30 });
    for (const table of tables) await store.command(`SYSTEM STOP TTL MERGES audit_db.${table}`);
    await store.insertLogs([logRow({ tenant: 'ttl-through-0', occurredAt: daysAgo(40) })]);
    await store.migrate({ retentionDays: 0 });
    await store.migrate({ retentionDays: 3650 });
    await mergeAll();
    expect(await count('ttl-through-0')).toBe('1');

    // A first retention on rows written without one: their parts had no expiry, so they were never deleted.
    await store.migrate({ retentionDays: 0 });
    await store.insertLogs([logRow({ tenant: 'ttl-first', occurredAt: daysAgo(100) })]);
    await store.migrate({ retentionDays: 30 });
    await mergeAll();
    expect(await count('ttl-first')).toBe('0');

    // A change that failed after its MODIFY TTL (3650 -> 10) and is run again with another one (3650): the
    // table stays marked until it has the final TTL (merges restarted under 10 days deleted rows meanwhile).
    await store.migrate({ retentionDays: 3650 });
    // With a target: both tables hold parts to recompute.
    await store.insertLogs([
      logRow({ tenant: 'ttl-resumed', occurredAt: daysAgo(20), targets: [{ type: 'doc', id: 'r' }] }),
    ]);
    const commands: string[] = [];
    const recording = (failAt?: RegExp) =>
      new Proxy(store.client, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (property === 'command')
            return (params: { query: string }) => {
              commands.push(params.query.replace(/\s+/g, ' '));
              return failAt?.test(params.query)
                ? Promise.reject(new Error('simulated failure'))
                : target.command(params as Parameters<typeof target.command>[0]);
            };
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    await expect(
      runMigrations(recording(/MATERIALIZE TTL/), { database: 'audit_db', retentionDays: 10 }),
    ).rejects.toThrow(/simulated failure/);
    commands.length = 0;
    await runMigrations(recording(), { database: 'audit_db', retentionDays: 3650 });
    const events = commands.filter((c) => new RegExp(`audit_db\`?\\.${AUDIT_TABLES.events}( |$)`).test(c));
    const started = events.findIndex((c) => c.startsWith('SYSTEM START TTL MERGES'));
    const modified = events.findIndex((c) => c.includes('MODIFY TTL occurred_at + INTERVAL 3650 DAY'));
    expect(modified).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThan(modified);
    expect(events.filter((c) => c.includes('MATERIALIZE TTL'))).toHaveLength(1);
    // Both tables were changing: neither merges again before both have their final TTL and expiry (a kill in
    // between left audit_events merging under the dead run's 10 days).
    const changed = commands.flatMap((c, i) => (/MODIFY TTL|MATERIALIZE TTL/.test(c) ? [i] : []));
    const restarted = commands.flatMap((c, i) => (c.startsWith('SYSTEM START TTL MERGES') ? [i] : []));
    expect(changed.length).toBeGreaterThanOrEqual(3);
    expect(restarted.length).toBe(2);
    expect(Math.min(...restarted)).toBeGreaterThan(Math.max(...changed));
    // Marked keys first, freed events first: a kill in between leaves extra keys, never an event without its key.
    const at = (verb: RegExp, table: string) =>
      commands.findIndex((c) => verb.test(c) && new RegExp(`audit_db\`?\\.${table}( |$)`).test(c));
    expect(at(/MODIFY SETTING/, AUDIT_TABLES.byTarget)).toBeLessThan(
      at(/MODIFY SETTING/, AUDIT_TABLES.events),
    );
    expect(at(/RESET SETTING/, AUDIT_TABLES.events)).toBeLessThan(at(/RESET SETTING/, AUDIT_TABLES.byTarget));
    // Each table's durable mark before its SYSTEM STOP, which on a server outlives a migrate that dies: one
    // sent before the mark was never undone by later runs (TTL merges off until a restart, expired rows kept).
    for (const table of tables)
      expect(at(/MODIFY SETTING/, table)).toBeLessThan(at(/^SYSTEM STOP TTL MERGES/, table));
    await mergeAll();
    expect(await count('ttl-resumed')).toBe('1');
    await store.migrate({ retentionDays: 400 });
  });

  it("gives the target keys audit_events' retention when a migrate changing it died between the two tables", async () => {
    const ttlOf = async (table: string) =>
      /TTL occurred_at \+ toIntervalDay\((\d+)\)/.exec(
        (
          await store.query<{ engine_full: string }>(
            `SELECT engine_full FROM system.tables WHERE database = 'audit_db' AND name = {table:String}`,
            { table },
          )
        )[0]?.engine_full ?? '',
      )?.[1];
    const alter = (table: string, clause: string) =>
      store.client.command({
        query: `ALTER TABLE audit_db.${table} ${clause}`,
        clickhouse_settings: { ...BASE_SETTINGS, materialize_ttl_after_modify: 0 },
      });
    await store.migrate({ retentionDays: 30 });
    // Died after audit_events (3650 days), before the keys: a plain migrate (serve runs one at start) left the
    // keys expiring at 30 days, and target pages lost events their actor timelines still showed.
    await alter(AUDIT_TABLES.events, 'MODIFY TTL occurred_at + toIntervalDay(3650)');
    await store.migrate();
    expect([await ttlOf(AUDIT_TABLES.events), await ttlOf(AUDIT_TABLES.byTarget)]).toEqual(['3650', '3650']);
    // Died after removing audit_events' TTL: the keys lose theirs too.
    await alter(AUDIT_TABLES.events, 'REMOVE TTL');
    await store.migrate();
    expect([await ttlOf(AUDIT_TABLES.events), await ttlOf(AUDIT_TABLES.byTarget)]).toEqual([
      undefined,
      undefined,
    ]);
    await store.migrate({ retentionDays: 400 });
    expect([await ttlOf(AUDIT_TABLES.events), await ttlOf(AUDIT_TABLES.byTarget)]).toEqual(['400', '400']);
  });

  it('rewrites a TTL an earlier release wrote on 32-bit time (a long retention then dropped every new row)', async () => {
    const ddl = async (table: string) =>
      (
        await store.query<{ q: string }>(
          "SELECT create_table_query AS q FROM system.tables WHERE database = 'audit_db' AND name = {t:String}",
          { t: table },
        )
      )[0]?.q ?? '';
    const modify = (table: string, ttl: string) =>
      store.client.command({
        query: `ALTER TABLE audit_db.${table} MODIFY TTL ${ttl}`,
        clickhouse_settings: { ...BASE_SETTINGS, materialize_ttl_after_modify: 0 },
      });
    const all = [AUDIT_TABLES.events, AUDIT_TABLES.byTarget, AUDIT_TABLES.logs];
    // Rows written under the 32-bit TTL: their parts carry expiry times that wrapped into the past (no TTL merge
    // has run yet: stopped here, as on a store whose merges had not come to them).
    for (const table of all) await store.command(`SYSTEM STOP TTL MERGES audit_db.${table}`);
    for (const table of [AUDIT_TABLES.events, AUDIT_TABLES.byTarget])
      await modify(table, 'toDateTime(occurred_at) + INTERVAL 36500 DAY');
    await modify(AUDIT_TABLES.logs, 'toDateTime(Timestamp) + INTERVAL 3 DAY');
    await store.insertLogs([
      logRow({ tenant: 'ttl-32-before', occurredAt: new Date(), targets: [{ type: 'doc', id: 'd1' }] }),
    ]);
    // A migrate with nothing to apply and no retention given, as serve runs at every start (it starts the TTL
    // merges of the tables it rewrites again).
    expect((await store.migrate()).applied).toEqual([]);
    for (const table of all) await store.command(`SYSTEM START TTL MERGES audit_db.${table}`);
    for (const table of [AUDIT_TABLES.events, AUDIT_TABLES.byTarget])
      expect(await ddl(table)).toMatch(/TTL occurred_at \+ toIntervalDay\(36500\) SETTINGS/);
    expect(await ddl(AUDIT_TABLES.logs)).toMatch(
      /TTL toDateTime64\(Timestamp, 3\) \+ toIntervalDay\(3\) SETTINGS/,
    );
    await store.insertLogs([logRow({ tenant: 'ttl-32', occurredAt: new Date() })]);
    for (const table of all) await store.command(`OPTIMIZE TABLE audit_db.${table} FINAL`);
    const counts = await store.query<{ tenant: string; n: string }>(
      `SELECT tenant, toString(count()) AS n FROM audit_db.${AUDIT_TABLES.events}
       WHERE tenant IN ('ttl-32', 'ttl-32-before') GROUP BY tenant ORDER BY tenant`,
    );
    // Also the rows written before the rewrite: their parts' TTL was recomputed (a merge deleted them before).
    expect(counts).toEqual([
      { tenant: 'ttl-32', n: '1' },
      { tenant: 'ttl-32-before', n: '1' },
    ]);
    const [raw] = await store.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM audit_db.${AUDIT_TABLES.logs} WHERE LogAttributes['${AUDIT_ATTRIBUTES.tenant}'] = 'ttl-32-before'`,
    );
    expect(raw?.n).toBe('1');
    const [keys] = await store.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM audit_db.${AUDIT_TABLES.byTarget} WHERE tenant = 'ttl-32-before'`,
    );
    expect(keys?.n).toBe('1');
    await store.migrate({ retentionDays: 400 });
  });

  it('keeps rows written under a 32-bit TTL through a removal then a new retention, and through a migrate that died mid-way', async () => {
    const tables = [AUDIT_TABLES.events, AUDIT_TABLES.byTarget];
    const ttlTo = (table: string, ttl: string) =>
      store.client.command({
        query: `ALTER TABLE audit_db.${table} MODIFY TTL ${ttl}`,
        clickhouse_settings: { ...BASE_SETTINGS, materialize_ttl_after_modify: 0 },
      });
    const count = async (tenant: string) =>
      (
        await store.query<{ n: string }>(
          `SELECT toString(count()) AS n FROM audit_db.${AUDIT_TABLES.events} WHERE tenant = {tenant:String}`,
          { tenant },
        )
      )[0]?.n;
    const writeUnder32BitTtl = async (tenant: string, occurredAt = new Date()) => {
      for (const table of tables) {
        await store.command(`SYSTEM STOP TTL MERGES audit_db.${table}`);
        await ttlTo(table, 'toDateTime(occurred_at) + INTERVAL 36500 DAY');
      }
      await store.insertLogs([logRow({ tenant, occurredAt, targets: [{ type: 'doc', id: 'd' }] })]);
    };
    const mergeAll = async () => {
      for (const table of tables) {
        await store.command(`SYSTEM START TTL MERGES audit_db.${table}`);
        await store.command(`OPTIMIZE TABLE audit_db.${table} FINAL`);
      }
    };
    // Retention 0 (REMOVE TTL) and later a retention again: the parts' wrapped expiry came back with it.
    await writeUnder32BitTtl('ttl-32-removed');
    await store.migrate({ retentionDays: 0 });
    await store.migrate({ retentionDays: 400 });
    await mergeAll();
    expect(await count('ttl-32-removed')).toBe('1');

    // A migrate that failed after rewriting the TTL (parts not recomputed yet), then a restart (SYSTEM STOP TTL
    // MERGES ends with the process; reopening the store merged the wrapped parts away): the table's mark keeps
    // TTL merges off, and the next migrate finishes the recomputation and clears the mark.
    // Two parts in a partition of their own (a month back): an ordinary merge of them dropped both (their stored
    // TTL said expired) although no TTL merge could run.
    const monthAgo = new Date(Date.now() - 31 * 86_400_000);
    await writeUnder32BitTtl('ttl-32-resumed', monthAgo);
    await writeUnder32BitTtl('ttl-32-resumed', monthAgo);
    const failing = new Proxy(store.client, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'command')
          return (params: { query: string }) =>
            params.query.includes('MATERIALIZE TTL')
              ? Promise.reject(new Error('simulated failure'))
              : target.command(params as Parameters<typeof target.command>[0]);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(runMigrations(failing, { database: 'audit_db' })).rejects.toThrow(
      /recomputing the TTL of audit_events's parts .* run migrate again to finish \(simulated failure\)/,
    );
    await store.close();
    store = await AuditStore.open({ path: dir, database: 'audit_db' });
    await store.command(`OPTIMIZE TABLE audit_db.${AUDIT_TABLES.events}`);
    expect(await count('ttl-32-resumed')).toBe('2');
    // The other table was marked before the first one failed: its keys are there too.
    await store.command(`OPTIMIZE TABLE audit_db.${AUDIT_TABLES.byTarget}`);
    const [keys] = await store.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM audit_db.${AUDIT_TABLES.byTarget} WHERE tenant = 'ttl-32-resumed'`,
    );
    expect(Number(keys?.n)).toBeGreaterThan(0);
    await store.migrate();
    const marked = await store.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = 'audit_db' AND (engine_full LIKE '%materialize_ttl_recalculate_only%' OR engine_full LIKE '%max_number_of_merges_with_ttl_in_pool%' OR engine_full LIKE '%max_bytes_to_merge_at%')",
    );
    expect(marked).toEqual([]);
    await mergeAll();
    expect(await count('ttl-32-resumed')).toBe('2');
  });

  it('creates a missing otel_logs before the pending migrations, which read it (an upgrade from 0001 failed)', async () => {
    const db = 'recreate_early_db';
    await runMigrations(
      store.client,
      { database: db },
      loadMigrations().filter((m) => m.version <= 1),
    );
    await store.command(`DROP TABLE ${db}.${AUDIT_TABLES.logs} SYNC`);
    const result = await runMigrations(store.client, { database: db });
    expect(result.recreated).toEqual([AUDIT_TABLES.logs]);
    expect(result.applied).toEqual(
      loadMigrations()
        .slice(1)
        .map((m) => m.name),
    );
  });

  it('creates otel_logs again when it was dropped to change its engine (every insert failed without it)', async () => {
    await store.command(`DROP TABLE audit_db.${AUDIT_TABLES.logs} SYNC`);
    const result = await store.migrate({ logsEngine: 'MergeTree', rawLogsRetentionDays: 5 });
    expect(result).toMatchObject({ applied: [], recreated: [AUDIT_TABLES.logs] });
    const [logs] = await store.query<{ engine: string; q: string }>(
      "SELECT engine, create_table_query AS q FROM system.tables WHERE database = 'audit_db' AND name = {t:String}",
      { t: AUDIT_TABLES.logs },
    );
    expect(logs?.engine).toBe('MergeTree');
    expect(logs?.q).toMatch(/TTL toDateTime64\(Timestamp, 3\) \+ toIntervalDay\(5\)/);
    // The views read the new table: an insert reaches the audit tables again.
    const row = logRow({ tenant: 'recreated' });
    await store.insertLogs([row]);
    const [n] = await store.query<{ n: string }>(
      `SELECT count() AS n FROM audit_db.${AUDIT_TABLES.events} WHERE tenant = 'recreated'`,
    );
    expect(n?.n).toBe('1');
    expect((await store.migrate()).recreated).toEqual([]);
  });

  it("refuses an otel_logs it did not create (a collector's own table of every log) unless told to adopt it", async () => {
    const db = 'platform_logs_db';
    await store.command(`CREATE DATABASE ${db}`);
    // The table the contrib exporter creates itself (create_schema: true, v0.149): TimestampTime added.
    await store.command(`CREATE TABLE ${db}.${AUDIT_TABLES.logs} (
      Timestamp DateTime64(9), TimestampTime DateTime DEFAULT toDateTime(Timestamp), TraceId String, SpanId String,
      TraceFlags UInt8, SeverityText LowCardinality(String), SeverityNumber UInt8, ServiceName LowCardinality(String),
      Body String, ResourceSchemaUrl LowCardinality(String), ResourceAttributes Map(LowCardinality(String), String),
      ScopeSchemaUrl LowCardinality(String), ScopeName String, ScopeVersion LowCardinality(String),
      ScopeAttributes Map(LowCardinality(String), String), LogAttributes Map(LowCardinality(String), String),
      EventName String
    ) ENGINE = MergeTree PARTITION BY toDate(TimestampTime) ORDER BY (ServiceName, TimestampTime, Timestamp)`);
    const refused = await runMigrations(store.client, { database: db }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuditStoreInputError);
    expect(String(refused)).toMatch(
      /otel-audit did not create it \(it has columns TimestampTime\).*--adopt-otel-logs/,
    );
    // Nothing changed: no migrations table, no audit table, no view on the platform's table.
    const tables = () =>
      store.query<{ name: string }>(
        'SELECT name FROM system.tables WHERE database = {d:String} ORDER BY name',
        {
          d: db,
        },
      );
    expect((await tables()).map((t) => t.name)).toEqual([AUDIT_TABLES.logs]);

    const adopted = await runMigrations(store.client, { database: db, adoptLogsTable: true });
    expect(adopted.applied).toEqual(loadMigrations().map((m) => m.name));
    const row = logRow({ tenant: 'adopted' });
    await store.command(
      `INSERT INTO ${db}.${AUDIT_TABLES.logs} (Timestamp, ServiceName, LogAttributes) VALUES ({ts:String}, 'svc', {attrs:Map(String, String)})`,
      { ts: String(row.Timestamp), attrs: row.LogAttributes },
    );
    const [n] = await store.query<{ n: string }>(
      `SELECT count() AS n FROM ${db}.${AUDIT_TABLES.events} WHERE tenant = 'adopted'`,
    );
    expect(n?.n).toBe('1');
    // Recorded now: later runs need no flag.
    expect((await runMigrations(store.client, { database: db })).applied).toEqual([]);
  });

  it('finishes a first migrate that died after creating otel_logs (its own table, nothing recorded yet)', async () => {
    const db = 'interrupted_first_db';
    await store.command(`CREATE DATABASE ${db}`);
    const [first] = loadMigrations();
    if (!first) throw new Error('no migrations');
    for (const query of migrationSql({ database: db }, [first])) await store.command(query);
    const result = await runMigrations(store.client, { database: db });
    expect(result.applied).toEqual(loadMigrations().map((m) => m.name));
  });

  it('validates identifiers and retention values before running anything', async () => {
    for (const database of ['a;DROP TABLE x', 'db`x', '', 'é', '1abc', 'x'.repeat(65)]) {
      expect(() => migrationSql({ database })).toThrow(AuditStoreInputError);
      await expect(AuditStore.open({ path: dir, database })).rejects.toThrow(
        /database: .* is not a valid identifier/,
      );
    }
    // The engine's own databases: migrate "succeeded" into system, whose tables the next process did not see.
    for (const database of [
      'system',
      'information_schema',
      'INFORMATION_SCHEMA',
      '_temporary_and_external_tables',
    ]) {
      expect(() => migrationSql({ database })).toThrow(/database: .* is a database of the engine itself/);
      await expect(AuditStore.open({ path: dir, database })).rejects.toThrow(
        /database: .* is a database of the engine itself/,
      );
    }
    for (const cluster of ['c` OR 1', 'c\\', 'c\n', ''])
      expect(() => migrationSql({ cluster }), JSON.stringify(cluster)).toThrow(
        /^cluster: .* is not a cluster name/,
      );
    expect(() => migrationSql({ retentionDays: -1 })).toThrow(/retentionDays/);
    expect(() => migrationSql({ rawLogsRetentionDays: 0, logsEngine: 'MergeTree' })).toThrow(
      /rawLogsRetentionDays/,
    );
    expect(() => migrationSql({ rawLogsRetentionDays: 3, logsEngine: 'Null' })).toThrow(
      /rawLogsRetentionDays: applies only with logsEngine "MergeTree"/,
    );
    expect(() => migrationSql({ rawLogsRetentionDays: 3 })).toThrow(/rawLogsRetentionDays: applies only/);
    // A new database: refused before anything is created (the default Null otel_logs would drop it).
    await expect(
      runMigrations(store.client, { database: 'fresh_db', rawLogsRetentionDays: 3 }),
    ).rejects.toThrow(/^rawLogsRetentionDays: applies only with logsEngine "MergeTree"/);
    const created = await store.query<{ name: string }>(
      "SELECT name FROM system.databases WHERE name = 'fresh_db'",
    );
    expect(created).toEqual([]);
    expect(() => migrationSql({ retentionDays: 1.5 })).toThrow(/retentionDays/);
    expect(() => migrationSql({ logsEngine: 'Log' as 'Null' })).toThrow(/logsEngine/);
  });
});

describe('cluster mode (generated SQL)', () => {
  const sql = migrationSql({
    cluster: 'audit_cluster',
    database: 'audit',
    retentionDays: 30,
    logsEngine: 'MergeTree',
  });

  it('puts ON CLUSTER on every DDL statement', () => {
    expect(sql.length).toBeGreaterThan(8);
    const [copies, ddl] = [
      sql.filter((s) => s.startsWith('INSERT')),
      sql.filter((s) => !/^(INSERT|SYSTEM) /.test(s)),
    ];
    for (const statement of ddl)
      expect(statement).toMatch(/^(CREATE|ALTER|DROP) .*ON CLUSTER `audit_cluster`/s);
    // 0006's copy of the target keys: INSERT has no ON CLUSTER (the replicated table carries its rows), and
    // this replica first fetches what the others wrote.
    expect(copies).toHaveLength(1);
    const sync = sql.findIndex((s) => s.startsWith('SYSTEM SYNC REPLICA `audit`.audit_events LIGHTWEIGHT'));
    expect(sync).toBeGreaterThan(-1);
    expect(sql[sync + 1]).toBe(copies[0]);
    expect(migrationSql({}).some((s) => s.startsWith('SYSTEM'))).toBe(false);
    expect(copies[0]).toMatch(/^INSERT INTO `audit`\.audit_target_keys .*FROM `audit`\.audit_events\b/s);
  });

  it('uses Replicated engines for every table and keeps views and Null tables as they are', () => {
    const engines = sql.flatMap((s) => [...s.matchAll(/ENGINE = (\w+)/g)].map((m) => m[1]));
    // migrations table, otel_logs (MergeTree in this options set), audit_events, audit_events_by_target (0003,
    // replaced in 0006), audit_target_keys
    expect(engines).toHaveLength(5);
    for (const e of engines) expect(e).toMatch(/^Replicated(Replacing)?MergeTree$/);
    expect(migrationSql({ cluster: 'c' }).some((s) => /ENGINE = Null/.test(s))).toBe(true);
  });

  it('takes cluster names as servers name them (hyphens, a macro), back-quoted, and they parse', async () => {
    for (const [cluster, written] of [
      ['all-replicated', 'ON CLUSTER `all-replicated`'],
      ['{cluster}', "ON CLUSTER '{cluster}'"],
      ["c' OR 1", "ON CLUSTER `c' OR 1`"],
    ] as const) {
      const statements = migrationSql({ cluster, database: 'audit' });
      const ddl = statements.filter((s) => !/^(INSERT|SYSTEM) /.test(s));
      for (const statement of ddl) expect(statement).toContain(written);
      for (const query of ddl) {
        const [parsed] = await store.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', {
          q: query,
        });
        // Parsed as one name (formatQuery writes it its own way).
        expect(parsed?.f, query).toContain(`ON CLUSTER`);
        expect(parsed?.f, query).toContain(cluster);
      }
    }
  });

  it('writes statements the engine parses', async () => {
    for (const query of sql) {
      const [parsed] = await store.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: query });
      expect(parsed?.f.length).toBeGreaterThan(0);
    }
  });

  it('qualifies every table with the configured database', () => {
    for (const s of sql.filter((x) => /^CREATE (TABLE|MATERIALIZED VIEW)/.test(x))) {
      expect(s).toMatch(/^CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS `audit`\.\w+/);
    }
    expect(sql.join('\n')).not.toMatch(/\{\{|\}\}/);
  });
});
