import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore, loadMigrations, runMigrations, type StoreStatus } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES, AUDIT_SCOPE_NAME } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../src/index.js';
import { cli, LOCKS_VISIBLE } from './serve-support.js';

const root = mkdtempSync(join(tmpdir(), 'otel-audit-cli-'));
const dataDir = join(root, 'data');

const run = (...argv: string[]) => cli(argv);
const BULK = 800;

const row = (i: number, tenant = 'acme') => ({
  Timestamp: `${BigInt(Date.parse('2026-11-22T10:00:00Z') + i * 1000) * 1_000_000n}`,
  TraceId: '',
  SpanId: '',
  TraceFlags: 0,
  SeverityText: 'INFO',
  SeverityNumber: 9,
  ServiceName: 'svc',
  Body: JSON.stringify({ i }),
  ResourceSchemaUrl: '',
  ResourceAttributes: {},
  ScopeSchemaUrl: '',
  ScopeName: AUDIT_SCOPE_NAME,
  ScopeVersion: '1',
  ScopeAttributes: {},
  LogAttributes: {
    [AUDIT_ATTRIBUTES.action]: i % 2 ? 'billing.invoice.paid' : 'auth.session.created',
    [AUDIT_ATTRIBUTES.eventId]: `0193a5b0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    [AUDIT_ATTRIBUTES.tenant]: tenant,
    [AUDIT_ATTRIBUTES.actorId]: `u${i % 2}`,
    [AUDIT_ATTRIBUTES.actorType]: 'user',
    [AUDIT_ATTRIBUTES.targets]: JSON.stringify([{ id: `inv_${i % 3}`, type: 'invoice' }]),
    [AUDIT_ATTRIBUTES.crud]: 'update',
    [AUDIT_ATTRIBUTES.outcome]: 'success',
  },
  EventName: 'x',
});

beforeAll(async () => {
  const migrated = await run('migrate', '--data-dir', dataDir);
  expect(migrated.code).toBe(0);
  // Progress on stderr, one line per migration as it starts; the result on stdout.
  expect(migrated.err).toBe(
    loadMigrations()
      .map((m) => `applying ${m.name}\n`)
      .join(''),
  );
  expect(migrated.out).toMatch(/^applied 0001_otel_logs\n/);
  // The command closed its store: this process may open the directory again.
  const store = await AuditStore.open({ path: dataDir });
  await store.insertLogs([
    ...Array.from({ length: 6 }, (_, i) => row(i)),
    row(100, 'other'),
    // More than a pipe buffer (64 KiB) of export: enough for a reader to go away part-way.
    ...Array.from({ length: BULK }, (_, i) => row(1000 + i, 'bulk')),
    // Ids that try to forge a line, or to drive the terminal.
    (() => {
      const r = row(200, 'ctl');
      // A C1 control (U+009B starts a terminal sequence), DEL and a bidi override in the action too.
      r.LogAttributes[AUDIT_ATTRIBUTES.action] = 'ctl.\u009b31m.\u007fdone\u202e';
      r.LogAttributes[AUDIT_ATTRIBUTES.actorId] = 'mallory\n2026-11-22T10:00:00.000Z  forged  admin.grant';
      r.LogAttributes[AUDIT_ATTRIBUTES.targets] = JSON.stringify([
        { type: 'doc', id: '\u001b]0;pwned\u0007x' },
        { type: 'doc', id: 'lit\\u000a' },
        { type: 'doc', id: 'rtl\u202eexe.pdf' },
      ]);
      return r;
    })(),
  ]);
  await store.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('otel-audit (in process)', () => {
  it('reports what the store would refuse as a usage error before looking for a store (exit 2, the flag named)', async () => {
    const missing = join(root, 'no-store-here');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['events', '--tenant', 'a', '--action', 'bil*ling', '--data-dir', missing],
        {},
        /^otel-audit events: --action: /,
      ],
      [
        ['events', '--tenant', 'a', '--from', '2026-11-02', '--to', '2026-11-01', '--data-dir', missing],
        {},
        /^otel-audit events: --to: must be after from/,
      ],
      [
        ['export', '--tenant', 'a', '--database', 'system', '--data-dir', missing],
        {},
        /^otel-audit export: --database: "system" is a database of the engine itself/,
      ],
      [
        ['events', '--tenant', 'a', '--url', 'http://127.0.0.1:1/audit'],
        {},
        /^otel-audit events: --url: "http:\/\/127\.0\.0\.1:1\/audit" has a path \(\/audit\).*--database/,
      ],
      [
        ['events', '--tenant', 'a', '--url', 'http://127.0.0.1:1/?database=audit'],
        {},
        /^otel-audit events: --url: has \?database=: give the database with --database/,
      ],
      [
        // The URL's other parameters are the client's settings: the store names one it cannot use.
        ['events', '--tenant', 'a', '--url', 'http://127.0.0.1:1/?request_timeout=soon'],
        {},
        /^otel-audit events: url: is not usable: .*soon/,
      ],
      [
        ['events', '--tenant', 'a'],
        { [ENV.url]: 'http://127.0.0.1:1', [ENV.dataDir]: missing },
        /^otel-audit events: both OTEL_AUDIT_CLICKHOUSE_URL and OTEL_AUDIT_DATA_DIR are set/,
      ],
      [
        ['serve', '--data-dir', missing, '--skip-migrations', '--port', '0'],
        {},
        /^otel-audit serve: --skip-migrations: .* does not exist, so it holds no store: create it with `otel-audit migrate --data-dir /,
      ],
    ];
    for (const [argv, env, message] of cases) {
      const r = await cli(argv, env);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 2]);
      expect(r.err).toMatch(message);
    }
    // Nothing was created for any of them (serve's tokens included).
    expect(existsSync(missing)).toBe(false);
    // A flag picks the kind even with the other kind's variable set.
    const chosen = await cli(['events', '--tenant', 'a', '--data-dir', missing], {
      [ENV.url]: 'http://127.0.0.1:1',
    });
    expect(chosen.err).toMatch(/no otel-audit store at/);
  });

  it('migrate is idempotent and reports as JSON', async () => {
    const r = await run('migrate', '--data-dir', dataDir, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      database: 'default',
      applied: [],
      alreadyApplied: expect.any(Array),
    });
  });

  it('migrate: retention 0 removes the TTL; a logs engine the store was not created with is refused', async () => {
    const ttl = async () => {
      const store = await AuditStore.open({ path: dataDir });
      try {
        const [t] = await store.query<{ q: string }>(
          "SELECT create_table_query AS q FROM system.tables WHERE database = 'default' AND name = 'audit_events'",
        );
        return t?.q ?? '';
      } finally {
        await store.close();
      }
    };
    expect((await run('migrate', '--data-dir', dataDir, '--retention-days', '30')).code).toBe(0);
    expect(await ttl()).toMatch(/TTL occurred_at \+ toIntervalDay\(30\)/);
    expect((await run('migrate', '--data-dir', dataDir, '--retention-days', '0')).code).toBe(0);
    expect(await ttl()).not.toMatch(/TTL/);
    const engine = await run('migrate', '--data-dir', dataDir, '--logs-engine', 'MergeTree');
    expect(engine.code).toBe(2);
    expect(engine.err).toMatch(
      /^otel-audit migrate: --logs-engine: otel_logs already exists with ENGINE = Null/,
    );
    const raw = await run('migrate', '--data-dir', dataDir, '--raw-logs-retention-days', '3');
    expect(raw.code).toBe(2);
    expect(raw.err).toContain('--raw-logs-retention-days: otel_logs has ENGINE = Null and keeps no rows');
    // A new directory: refused before opening the store would create it.
    const fresh = join(root, 'never-created');
    const first = await run('migrate', '--data-dir', fresh, '--raw-logs-retention-days', '3');
    expect(first.code).toBe(2);
    expect(first.err).toContain('--raw-logs-retention-days: applies only with --logs-engine MergeTree');
    expect(existsSync(fresh)).toBe(false);
  });

  it('migrate refuses an otel_logs it did not create, and --adopt-otel-logs attaches the views to it', async () => {
    const platform = join(root, 'platform-logs');
    const withStore = async (sql: string[]) => {
      const store = await AuditStore.open({ path: platform });
      try {
        for (const statement of sql) await store.command(statement);
      } finally {
        await store.close();
      }
    };
    // A table of the platform's own that lacks columns the views read: not even adopted.
    await withStore([
      `CREATE TABLE {db}.otel_logs (Timestamp DateTime64(9), TimestampTime DateTime DEFAULT toDateTime(Timestamp),
       ServiceName LowCardinality(String), Body String, LogAttributes Map(LowCardinality(String), String))
       ENGINE = MergeTree ORDER BY (ServiceName, TimestampTime)`,
    ]);
    const lacking = await run('migrate', '--data-dir', platform, '--adopt-otel-logs');
    expect(lacking.code).toBe(2);
    expect(lacking.err).toMatch(/lacks columns the audit views read \(TraceId, SpanId, TraceFlags/);
    // The exporter's own table (create_schema: true).
    await withStore([
      'DROP TABLE {db}.otel_logs SYNC',
      `CREATE TABLE {db}.otel_logs (Timestamp DateTime64(9), TimestampTime DateTime DEFAULT toDateTime(Timestamp),
       TraceId String, SpanId String, TraceFlags UInt8, SeverityText LowCardinality(String), SeverityNumber UInt8,
       ServiceName LowCardinality(String), Body String, ResourceSchemaUrl LowCardinality(String),
       ResourceAttributes Map(LowCardinality(String), String), ScopeSchemaUrl LowCardinality(String),
       ScopeName String, ScopeVersion LowCardinality(String), ScopeAttributes Map(LowCardinality(String), String),
       LogAttributes Map(LowCardinality(String), String), EventName String)
       ENGINE = MergeTree ORDER BY (ServiceName, TimestampTime)`,
    ]);
    const refused = await run('migrate', '--data-dir', platform);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(
      /otel_logs already exists and otel-audit did not create it.*--adopt-otel-logs/,
    );
    const adopted = await run('migrate', '--data-dir', platform, '--adopt-otel-logs', '--json');
    expect(adopted.code).toBe(0);
    expect(JSON.parse(adopted.out).applied).toEqual(loadMigrations().map((m) => m.name));
  });

  it('status: migrations, each table with its rows, size and retention; JSON for scripts', async () => {
    expect((await run('migrate', '--data-dir', dataDir, '--retention-days', '400')).code).toBe(0);
    try {
      const r = await run('status', '--data-dir', dataDir, '--json');
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      const status = JSON.parse(r.out) as StoreStatus;
      expect(status.database).toBe('default');
      expect(status.migrated).toBe(true);
      expect(status.migrations).toEqual({
        applied: loadMigrations().map((m) => m.name),
        pending: [],
        unknown: [],
        changed: [],
      });
      expect(status.missing).toEqual([]);
      expect(status.tables.map((t) => [t.name, t.engine, t.retentionDays])).toEqual([
        ['otel_logs', 'Null', undefined],
        ['audit_events', 'ReplacingMergeTree', 400],
        ['audit_target_keys', 'ReplacingMergeTree', 400],
        ['otel_audit_migrations', 'MergeTree', undefined],
      ]);
      const events = status.tables.find((t) => t.name === 'audit_events');
      // Every inserted row is an event (6 + 1 + BULK + 1), each with one target key.
      expect(events?.rows).toBe(BULK + 8);
      expect(status.tables.find((t) => t.name === 'audit_target_keys')?.rows).toBeGreaterThan(0);
      expect(events?.ttl).toBe('occurred_at + toIntervalDay(400)');
      const text = await run('status', '--data-dir', dataDir);
      expect(text.code).toBe(0);
      const lines = text.out.split('\n');
      expect(lines[0]).toBe(
        `database default: ${loadMigrations().length} of ${loadMigrations().length} migrations applied`,
      );
      expect(lines.find((l) => l.startsWith('audit_events '))).toMatch(
        new RegExp(`^audit_events +ReplacingMergeTree +${BULK + 8} +[\\d.]+ (B|KiB|MiB) +400 days$`),
      );
      expect(lines.find((l) => l.startsWith('otel_logs '))).toMatch(/ -$/);
    } finally {
      expect((await run('migrate', '--data-dir', dataDir, '--retention-days', '0')).code).toBe(0);
    }
    const kept = JSON.parse((await run('status', '--data-dir', dataDir, '--json')).out) as StoreStatus;
    expect(kept.tables.find((t) => t.name === 'audit_events')).not.toHaveProperty('ttl');
    // A database never migrated (a typo): said so, with the command that would create it.
    const typo = await run('status', '--data-dir', dataDir, '--database', 'nope');
    expect(typo.code).toBe(0);
    expect(typo.out.split('\n').slice(0, 2)).toEqual([
      'database nope: no otel-audit tables (never migrated, or a mistyped --database)',
      `if it is the database you meant, create the tables with \`otel-audit migrate --data-dir ${dataDir} --database nope\``,
    ]);
    // A TTL migrate did not write is shown as its text, never read as a number of days it does not mean.
    const store = await AuditStore.open({ path: dataDir });
    try {
      await store.command(
        "ALTER TABLE audit_target_keys MODIFY TTL occurred_at + toIntervalDay(7) DELETE WHERE actor_id = 'x', occurred_at + toIntervalDay(30)",
      );
      const { storeStatus } = await import('@otel-audit/clickhouse');
      const keys = (await storeStatus(store.client, 'default')).tables.find(
        (t) => t.name === 'audit_target_keys',
      );
      expect(keys?.retentionDays).toBeUndefined();
      expect(keys?.ttl).toMatch(
        /^occurred_at \+ toIntervalDay\(7\) WHERE actor_id = 'x', occurred_at \+ toIntervalDay\(30\)$/,
      );
      await store.command('ALTER TABLE audit_target_keys REMOVE TTL');
    } finally {
      await store.close();
    }
  });

  it('status names a changed migration, a missing otel_logs and a 32-bit TTL; migrate repairs the last two', async () => {
    const original = loadMigrations()[4];
    const tamper = await AuditStore.open({ path: dataDir });
    try {
      await tamper.command('DROP TABLE otel_logs SYNC');
      // Not materialized: on 32-bit time this TTL has already expired every stored event.
      await tamper.client.command({
        query: 'ALTER TABLE audit_events MODIFY TTL toDateTime(occurred_at) + INTERVAL 36500 DAY',
        clickhouse_settings: { materialize_ttl_after_modify: 0 },
      });
      await tamper.client.command({
        query: `ALTER TABLE otel_audit_migrations UPDATE checksum = 'edited' WHERE name = '${original?.name}'`,
        clickhouse_settings: { mutations_sync: '1' },
      });
    } finally {
      await tamper.close();
    }
    const json = JSON.parse((await run('status', '--data-dir', dataDir, '--json')).out) as StoreStatus;
    expect(json.migrations.changed).toEqual([original?.name]);
    expect(json.missing).toEqual(['otel_logs']);
    expect(json.tables.find((t) => t.name === 'audit_events')).toMatchObject({
      retentionDays: 36500,
      ttlOn32BitTime: true,
    });
    const text = await run('status', '--data-dir', dataDir);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`changed since applied: ${original?.name} (this release's file differs`);
    expect(text.out).toContain(
      `missing: otel_logs (inserts fail without it: run \`otel-audit migrate --data-dir ${dataDir}\`, which creates it again)`,
    );
    expect(text.out).toMatch(/audit_events .* 36500 days \(on 32-bit time: run migrate\)\n/);
    // A recomputation a migrate left unfinished (the table still marked) is named too.
    const mark = await AuditStore.open({ path: dataDir });
    try {
      await mark.command('ALTER TABLE audit_target_keys MODIFY SETTING materialize_ttl_recalculate_only = 1');
    } finally {
      await mark.close();
    }
    const marked = await run('status', '--data-dir', dataDir);
    expect(marked.out).toContain(
      `TTL recomputation unfinished on audit_target_keys (a migrate stopped part-way; no merge runs there until it is finished, so parts pile up): run \`otel-audit migrate --data-dir ${dataDir}\``,
    );
    const markedJson = JSON.parse((await run('status', '--data-dir', dataDir, '--json')).out) as StoreStatus;
    expect(markedJson.tables.find((t) => t.name === 'audit_target_keys')?.ttlRecalculationPending).toBe(true);
    // migrate refuses the changed migration until its checksum is the release's again.
    const refused = await run('migrate', '--data-dir', dataDir);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/was applied with checksum edited/);
    // The operator's way out, not only the developer's rule.
    expect(refused.err).toContain('Use the release that applied it');
    const repair = await AuditStore.open({ path: dataDir });
    try {
      await repair.client.command({
        query: `ALTER TABLE otel_audit_migrations UPDATE checksum = '${original?.checksum}' WHERE name = '${original?.name}'`,
        clickhouse_settings: { mutations_sync: '1' },
      });
    } finally {
      await repair.close();
    }
    const migrated = await run('migrate', '--data-dir', dataDir);
    expect(migrated.code).toBe(0);
    expect(migrated.out).toContain('created otel_logs again (it was missing)\n');
    const after = JSON.parse((await run('status', '--data-dir', dataDir, '--json')).out) as StoreStatus;
    expect(after.migrations.changed).toEqual([]);
    expect(after.missing).toEqual([]);
    expect(after.tables.find((t) => t.name === 'otel_logs')?.engine).toBe('Null');
    expect(after.tables.find((t) => t.name === 'audit_events')).toMatchObject({ retentionDays: 36500 });
    expect(after.tables.find((t) => t.name === 'audit_events')).not.toHaveProperty('ttlOn32BitTime');
    // migrate finished the marked table's recomputation.
    expect(after.tables.find((t) => t.name === 'audit_target_keys')).not.toHaveProperty(
      'ttlRecalculationPending',
    );
    expect((await run('migrate', '--data-dir', dataDir, '--retention-days', '0')).code).toBe(0);
  });

  it('events: filters, JSON output and paging', async () => {
    const r = await run(
      'events',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--action',
      'billing.*',
      '--json',
    );
    expect(r.code).toBe(0);
    const page = JSON.parse(r.out) as {
      events: { id: string; action: string; tenant: string }[];
      nextCursor: string | null;
    };
    expect(page.events.map((e) => e.action)).toEqual([
      'billing.invoice.paid',
      'billing.invoice.paid',
      'billing.invoice.paid',
    ]);
    expect(page.nextCursor).toBeNull();
    const first = await run('events', '--data-dir', dataDir, '--tenant', 'acme', '--limit', '4');
    expect(first.out.trim().split('\n')).toHaveLength(4);
    const cursor = /--cursor (\S+)/.exec(first.err)?.[1];
    expect(cursor).toBeDefined();
    const second = await run(
      'events',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--limit',
      '4',
      '--cursor',
      cursor as string,
    );
    expect(second.out.trim().split('\n')).toHaveLength(2);
    expect(second.out).toContain('2026-11-22T10:00:00.000Z');
  });

  it('counts: per action (most first) or per minute/hour/day (UTC, oldest first), filtered; JSON for scripts', async () => {
    const byAction = await run('counts', '--data-dir', dataDir, '--tenant', 'acme');
    expect(byAction.err).toBe('');
    expect(byAction.code).toBe(0);
    expect(byAction.out).toBe('3  auth.session.created\n3  billing.invoice.paid\n');
    const json = await run('counts', '--data-dir', dataDir, '--tenant', 'acme', '--json');
    expect(JSON.parse(json.out)).toEqual([
      { action: 'auth.session.created', count: 3 },
      { action: 'billing.invoice.paid', count: 3 },
    ]);
    // Events 3, 4 and 5 of acme; then only the billing ones.
    const from = await run(
      'counts',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--from',
      '2026-11-22T10:00:03Z',
    );
    expect(from.out).toBe('2  billing.invoice.paid\n1  auth.session.created\n');
    const prefix = await run('counts', '--data-dir', dataDir, '--tenant', 'acme', '--action', 'billing.*');
    expect(prefix.out).toBe('3  billing.invoice.paid\n');

    // bulk: 800 events one second apart from 10:16:40 UTC.
    const minutes = await run(
      'counts',
      '--data-dir',
      dataDir,
      '--tenant',
      'bulk',
      '--by',
      'time',
      '--interval',
      'minute',
      '--json',
    );
    expect(minutes.code).toBe(0);
    const buckets = JSON.parse(minutes.out) as { start: string; count: number }[];
    expect(buckets).toHaveLength(14);
    expect(buckets[0]).toEqual({ start: '2026-11-22T10:16:00.000Z', count: 20 });
    expect(buckets.slice(1).every((b) => b.count === 60)).toBe(true);
    expect(buckets.at(-1)?.start).toBe('2026-11-22T10:29:00.000Z');
    const hours = await run('counts', '--data-dir', dataDir, '--tenant', 'bulk', '--by', 'time');
    expect(hours.out).toBe('800  2026-11-22T10:00:00.000Z\n');
    const days = await run(
      'counts',
      '--data-dir',
      dataDir,
      '--tenant',
      'bulk',
      '--by',
      'time',
      '--interval',
      'day',
    );
    expect(days.out).toBe('800  2026-11-22T00:00:00.000Z\n');

    const none = await run('counts', '--data-dir', dataDir, '--tenant', 'nobody');
    expect(none).toMatchObject({ code: 0, out: '', err: 'no events\n' });
    for (const [argv, message] of [
      [['--by', 'actor'], '--by: expected action or time, got "actor"'],
      [['--by', 'time', '--interval', 'week'], '--interval: expected one of minute, hour, day, got "week"'],
      [['--interval', 'day'], '--interval: applies with --by time only'],
    ] as const) {
      const r = await run('counts', '--data-dir', dataDir, '--tenant', 'acme', ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.split('\n')[0]).toBe(`otel-audit counts: ${message}`);
    }
  });

  it('prints control characters in stored values escaped (no forged lines, no terminal sequences)', async () => {
    const r = await run('events', '--data-dir', dataDir, '--tenant', 'ctl');
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.out).toContain('user:mallory\\u000a2026-11-22T10:00:00.000Z  forged  admin.grant');
    expect(r.out).toContain('doc:\\u001b]0;pwned\\u0007x');
    // A stored backslash is doubled, so it never reads as an escape; bidi overrides are escaped.
    expect(r.out).toContain('doc:lit\\\\u000a');
    expect(r.out).toContain('doc:rtl\\u202eexe.pdf');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character but the line ends.
    expect(r.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    // --json keeps the exact values (JSON escapes them).
    const json = await run('events', '--data-dir', dataDir, '--tenant', 'ctl', '--json');
    const [event] = (
      JSON.parse(json.out) as { events: { id: string; action: string; actor: { id: string } }[] }
    ).events;
    expect(event?.actor.id).toBe('mallory\n2026-11-22T10:00:00.000Z  forged  admin.grant');
    expect(event?.action).toBe('ctl.\u009b31m.\u007fdone\u202e');
    expect(r.out).toContain('ctl.\\u009b31m.\\u007fdone\\u202e');
    // JSON.stringify leaves C1 controls and bidi characters as they are: escaped here, same values parsed back.
    const counts = await run('counts', '--data-dir', dataDir, '--tenant', 'ctl');
    expect(counts.out).toBe('1  ctl.\\u009b31m.\\u007fdone\\u202e\n');
    const countsJson = await run('counts', '--data-dir', dataDir, '--tenant', 'ctl', '--json');
    expect(JSON.parse(countsJson.out)).toEqual([{ action: 'ctl.\u009b31m.\u007fdone\u202e', count: 1 }]);
    for (const out of [
      json.out,
      countsJson.out,
      (await run('event', event?.id ?? '', '--data-dir', dataDir, '--tenant', 'ctl', '--json')).out,
    ])
      expect(out).not.toMatch(/[\u007f-\u009f\u202e]/);
  });

  it('actor and target timelines are tenant-scoped', async () => {
    const a = await run('actor', 'u1', '--type', 'user', '--data-dir', dataDir, '--tenant', 'acme', '--json');
    expect(JSON.parse(a.out).events).toHaveLength(3);
    const t = await run('target', 'invoice:inv_0', '--data-dir', dataDir, '--tenant', 'acme', '--json');
    expect(JSON.parse(t.out).events.map((e: { id: string }) => e.id.slice(-1))).toEqual(['3', '0']);
    const t2 = await run('target', 'invoice', 'inv_1', '--data-dir', dataDir, '--tenant', 'other', '--json');
    expect(JSON.parse(t2.out).events.map((e: { tenant: string }) => e.tenant)).toEqual(['other']);
  });

  it('event: one event by id, whole, tenant-scoped; exit 3 when there is none', async () => {
    const id = `0193a5b0-0000-7000-8000-${(3).toString(16).padStart(12, '0')}`;
    const store = await AuditStore.open({ path: dataDir });
    const stored = await store.getEvent('acme', id);
    await store.close();
    expect(stored?.id).toBe(id);
    const json = await run('event', id, '--data-dir', dataDir, '--tenant', 'acme', '--json');
    expect(json.code).toBe(0);
    expect(json.err).toBe('');
    expect(json.out).toBe(`${JSON.stringify(stored)}\n`);
    const text = await run('event', id, '--data-dir', dataDir, '--tenant', 'acme');
    expect(text.code).toBe(0);
    expect(text.out).toBe(`${JSON.stringify(stored, null, 2)}\n`);
    // Another tenant's event, and an id that is no UUID: no event.
    for (const [eventId, tenant] of [
      [id, 'other'],
      ['not-a-uuid', 'acme'],
      ['..', 'acme'],
    ] as const) {
      const none = await run('event', eventId, '--data-dir', dataDir, '--tenant', tenant);
      expect(none).toEqual({ code: 3, out: '', err: `no event "${eventId}" in tenant "${tenant}"\n` });
    }
    const empty = await run('event', '', '--data-dir', dataDir, '--tenant', 'acme');
    expect(empty.code).toBe(2);
    expect(empty.err.split('\n')[0]).toBe(
      'otel-audit event: <event-id>: must be a non-empty string of at most 4096 characters',
    );
    expect((await run('event', '--data-dir', dataDir, '--tenant', 'acme')).code).toBe(2);
    // Values from whoever sent the event cannot reorder the terminal: bidi overrides come out escaped.
    const ctl = await run('events', '--data-dir', dataDir, '--tenant', 'ctl', '--json');
    const ctlId = (JSON.parse(ctl.out) as { events: { id: string }[] }).events[0]?.id as string;
    const shown = await run('event', ctlId, '--data-dir', dataDir, '--tenant', 'ctl');
    expect(shown.code).toBe(0);
    expect(shown.out).not.toMatch(/\u202e/);
    expect(shown.out).toContain('rtl\\u202eexe.pdf');
    expect(JSON.parse(shown.out).targets[2].id).toBe('rtl\u202eexe.pdf');
  });

  it('actor takes its type from --type or --actor-type; the generic --actor/--target flags are refused there', async () => {
    const ids = (r: { out: string }) =>
      (JSON.parse(r.out) as { events: { id: string }[] }).events.map((e) => e.id);
    const byType = await run(
      'actor',
      'u1',
      '--type',
      'user',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--json',
    );
    const byActorType = await run(
      'actor',
      'u1',
      '--actor-type',
      'user',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--json',
    );
    expect(byActorType.code).toBe(0);
    expect(ids(byActorType)).toEqual(ids(byType));
    expect(ids(byActorType)).toHaveLength(3);
    // Another type: the store filters on it (nothing of that type).
    const bot = await run(
      'actor',
      'u1',
      '--actor-type',
      'bot',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--json',
    );
    expect(ids(bot)).toEqual([]);
    const disagree = await run(
      'actor',
      'u1',
      '--type',
      'user',
      '--actor-type',
      'bot',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
    );
    expect(disagree.code).toBe(2);
    expect(disagree.err).toMatch(/--type user and --actor-type bot disagree/);

    const actorFlag = await run('actor', 'u1', '--actor', 'u2', '--data-dir', dataDir, '--tenant', 'acme');
    expect(actorFlag.code).toBe(2);
    expect(actorFlag.out).toBe('');
    expect(actorFlag.err).toMatch(
      /--actor does not apply to the actor command: the actor is its <actor-id> argument/,
    );
    const targetFlag = await run(
      'target',
      'invoice:inv_0',
      '--target',
      'invoice:inv_1',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
    );
    expect(targetFlag.code).toBe(2);
    expect(targetFlag.err).toMatch(/--target does not apply to the target command/);
    // The other subject's filter still works: target history of one actor.
    const t = await run(
      'target',
      'invoice:inv_0',
      '--actor',
      'u1',
      '--actor-type',
      'user',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--json',
    );
    expect(ids(t).map((id) => id.slice(-1))).toEqual(['3']);
    // Help lists only what applies.
    const help = await run('actor', '--help');
    expect(help.out).toMatch(/--actor-type TYPE/);
    expect(help.out).not.toMatch(/--actor ID/);
    expect((await run('target', '--help')).out).not.toMatch(/--target TYPE:ID/);
  });

  it('--from/--to: a date (midnight UTC) or an ISO date-time with a zone; anything else names the flag', async () => {
    const count = async (...flags: string[]) => {
      const r = await run('events', '--data-dir', dataDir, '--tenant', 'acme', '--json', ...flags);
      expect(r.code, r.err).toBe(0);
      return (JSON.parse(r.out) as { events: unknown[] }).events.length;
    };
    // Events are at 2026-11-22T10:00:00Z + i s, i = 0..5.
    expect(await count('--from', '2026-11-22', '--to', '2026-11-23')).toBe(6);
    expect(await count('--from', '2026-11-22T10:00:02Z')).toBe(4);
    expect(await count('--to', '2026-11-22T11:00:02+01:00')).toBe(2);
    expect(await count('--from', '2026-11-23')).toBe(0);
    // Digits past the millisecond widen each bound to its millisecond: the event stored at 10:00:02.000 (it may
    // have occurred at 10:00:02.0005, stored truncated) is inside both [..02.0005, ) and [ , ..02.0005).
    expect(await count('--from', '2026-11-22T10:00:02.0005Z')).toBe(4);
    expect(await count('--to', '2026-11-22T10:00:02.0005Z')).toBe(3);
    expect(await count('--from', '2026-11-22T10:00:02.0001Z', '--to', '2026-11-22T10:00:02.0009Z')).toBe(1);
    for (const [flag, value] of [
      ['--from', '12'],
      ['--to', '2026-11-22T10:00:00'],
      ['--from', 'yesterday'],
      ['--to', '2026-02-30'],
    ] as const) {
      const r = await run('events', '--data-dir', dataDir, '--tenant', 'acme', flag, value);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.err).toContain(
        `otel-audit events: ${flag}: ${JSON.stringify(value)} is not a date (2026-11-23, midnight UTC) or an ISO 8601 date-time with a zone`,
      );
    }
    expect((await run('events', '--help')).out).toMatch(
      /TIME is a date \(2026-11-23 = midnight UTC\) or an ISO 8601 date-time/,
    );
  });

  it('export writes NDJSON or CSV to a file with progress on stderr', async () => {
    const file = join(root, 'out.csv');
    const csv = ['export', '--data-dir', dataDir, '--tenant', 'acme', '--format', 'csv'];
    const r = await run(...csv, '--output', file);
    expect(r.code).toBe(0);
    expect(r.err).toContain('exported 6 events');
    expect(readFileSync(file, 'utf8').trim().split('\r\n')).toHaveLength(7);
    expect(readFileSync(file, 'utf8')).toMatch(/^id,occurred_at,/); // no byte order mark unless asked
    // --bom: one byte order mark before the header (stdout here), and nothing else changed.
    const bom = await run(...csv, '--bom');
    expect(bom.code).toBe(0);
    expect(bom.out).toBe(`\uFEFF${readFileSync(file, 'utf8')}`);
    // --output - is standard output, no file named "-".
    const dash = await run(...csv, '--output', '-');
    expect(dash.code).toBe(0);
    expect(dash.out).toBe(readFileSync(file, 'utf8'));
    expect(existsSync('-')).toBe(false);
    const bomFile = join(root, 'bom.csv');
    await run(
      'export',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--format',
      'csv',
      '--bom',
      '--output',
      bomFile,
    );
    expect(readFileSync(bomFile).subarray(0, 6)).toEqual(Buffer.from('\uFEFFid,', 'utf8'));
    // No match: the header alone, still after one mark.
    const none = await run('export', '--data-dir', dataDir, '--tenant', 'nobody', '--format', 'csv', '--bom');
    expect(none.out).toBe(`\uFEFF${readFileSync(file, 'utf8').split('\r\n')[0]}\r\n`);
    const ndjsonBom = await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--bom');
    expect(ndjsonBom.code).toBe(2);
    expect(ndjsonBom.err).toMatch(/^otel-audit export: --bom: applies with --format csv only\n/);
    const n = await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--actor', 'u0');
    expect(
      n.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).actor.id),
    ).toEqual(['u0', 'u0', 'u0']);
    // Storage order: the same events, by actor then time.
    const ids = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; actor: { id: string }; occurredAt: string });
    const byTime = ids((await run('export', '--data-dir', dataDir, '--tenant', 'acme')).out);
    const byActor = ids(
      (await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--order', 'actor')).out,
    );
    expect(byActor.map((e) => e.id).sort()).toEqual(byTime.map((e) => e.id).sort());
    const keys = byActor.map((e) => `${e.actor.id} ${e.occurredAt}`);
    expect(keys).toEqual([...keys].sort());
    const bad = await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--order', 'random');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^otel-audit export: --order: expected time or actor, got "random"\n/);
    const target = await run(
      'export',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--order',
      'actor',
      '--target',
      'a:b',
    );
    expect(target.code).toBe(2);
    expect(target.err).toContain('--order actor: not with --target');
  });

  it('export --output in a missing directory: exit 1, the reason on stderr, nothing created', async () => {
    const missing = join(root, 'no-such-dir');
    const r = await run(
      'export',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--output',
      join(missing, 'x.csv'),
    );
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `otel-audit export: cannot write ${join(missing, 'x.csv')}: directory ${missing} does not exist\n`,
    );
    expect(existsSync(missing)).toBe(false);
    const dir = await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--output', root);
    expect(dir.code).toBe(1);
    expect(dir.err).toMatch(/it is a directory/);
  });

  it('export --output replaces a file only with a complete export; a failed export leaves it as it was', async () => {
    const dir = join(root, 'replace');
    mkdirSync(dir);
    const file = join(dir, 'out.ndjson');
    writeFileSync(file, 'old\n');
    // Fails in the store (a value over the length limit) after the output was prepared.
    const failed = await run(
      'export',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--action',
      'x'.repeat(5000),
      '--output',
      file,
    );
    expect(failed.code).toBe(2);
    expect(failed.err).toMatch(/action/);
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['out.ndjson']);
    const ok = await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--output', file);
    expect(ok.code).toBe(0);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(6);
    expect(readdirSync(dir)).toEqual(['out.ndjson']);
  });

  it('export --output keeps an existing file mode and writes through a symlink (the link stays a link)', async () => {
    const dir = join(root, 'modes');
    mkdirSync(dir);
    const secret = join(dir, 'secret.ndjson');
    writeFileSync(secret, 'old\n', { mode: 0o600 });
    chmodSync(secret, 0o600);
    expect((await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--output', secret)).code).toBe(0);
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    expect(readFileSync(secret, 'utf8').trim().split('\n')).toHaveLength(6);
    const link = join(dir, 'link.ndjson');
    symlinkSync('secret.ndjson', link);
    expect(
      (await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--output', link, '--format', 'csv'))
        .code,
    ).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(secret, 'utf8')).toMatch(/^id,occurred_at,/);
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    // A new file gets the usual mode (0666 minus the umask).
    const fresh = join(dir, 'fresh.ndjson');
    expect((await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--output', fresh)).code).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o666 & ~process.umask());
    expect(readdirSync(dir).sort()).toEqual(['fresh.ndjson', 'link.ndjson', 'secret.ndjson']);
    // A link to a file not there yet: the file is created where it points, the link stays (it was replaced).
    mkdirSync(join(dir, 'reports'));
    const dangling = join(dir, 'latest.csv');
    symlinkSync('reports/audit-latest.csv', dangling);
    expect(
      (
        await run(
          'export',
          '--data-dir',
          dataDir,
          '--tenant',
          'acme',
          '--output',
          dangling,
          '--format',
          'csv',
        )
      ).code,
    ).toBe(0);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'reports', 'audit-latest.csv'), 'utf8')).toMatch(/^id,occurred_at,/);
    // A relative link inside a symlinked directory points from the directory it is really in.
    mkdirSync(join(dir, 'real', 'sub'), { recursive: true });
    symlinkSync('real/sub', join(dir, 'via'));
    symlinkSync('../nested.csv', join(dir, 'real', 'sub', 'out.csv'));
    const nested = await run(
      'export',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--output',
      join(dir, 'via', 'out.csv'),
    );
    expect(nested.code).toBe(0);
    expect(readFileSync(join(dir, 'real', 'nested.csv'), 'utf8').length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'nested.csv'))).toBe(false);
    // A device is never replaced by a file (as root the rename would have replaced /dev/null).
    const device = await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--output', '/dev/null');
    expect(device.code).toBe(1);
    expect(device.err).toBe(
      'otel-audit export: cannot write /dev/null: it is not a regular file (to write to a pipe or the terminal, leave out --output)\n',
    );
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'export --output does not follow a symlink planted by another user in a shared sticky directory (needs root to plant one)',
    async () => {
      const shared = join(root, 'shared-tmp');
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const victim = join(root, 'victim.conf');
      writeFileSync(victim, 'keep me\n');
      const planted = join(shared, 'audit.csv');
      symlinkSync(victim, planted);
      lchownSync(planted, 65534, 65534); // nobody
      const r = await run(
        'export',
        '--data-dir',
        dataDir,
        '--tenant',
        'acme',
        '--format',
        'csv',
        '--output',
        planted,
      );
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `${planted} is a symlink owned by another user (uid 65534) in the shared directory ${shared}`,
      );
      expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
      expect(readdirSync(shared)).toEqual(['audit.csv']);
      // A planted link to a directory, anywhere in the path, is refused too.
      const reports = join(shared, 'reports');
      mkdirSync(join(root, 'victim-dir'));
      symlinkSync(join(root, 'victim-dir'), reports);
      lchownSync(reports, 65534, 65534);
      const viaDir = await run(
        'export',
        '--data-dir',
        dataDir,
        '--tenant',
        'acme',
        '--output',
        join(reports, 'a.csv'),
      );
      expect(viaDir.code).toBe(1);
      expect(viaDir.err).toContain(`${reports} is a symlink owned by another user`);
      expect(readdirSync(join(root, 'victim-dir'))).toEqual([]);
      rmSync(reports);
      // The same link owned by this user is followed, as everywhere else.
      lchownSync(planted, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      const own = await run(
        'export',
        '--data-dir',
        dataDir,
        '--tenant',
        'acme',
        '--format',
        'csv',
        '--output',
        planted,
      );
      expect(own.code, own.err).toBe(0);
      expect(readFileSync(victim, 'utf8')).toMatch(/^id,occurred_at,/);
    },
  );

  it('read commands never create a store: a missing or empty directory, or a database without tables, exit 1', async () => {
    const typo = join(root, 'typo');
    const missing = await run('events', '--data-dir', typo, '--tenant', 't');
    expect(missing.code).toBe(1);
    expect(missing.out).toBe('');
    expect(missing.err).toBe(
      `otel-audit events: no otel-audit store at ${typo}: the directory does not exist (mistyped?); create it with ` +
        `\`otel-audit migrate --data-dir ${typo}\`, or start \`otel-audit serve --data-dir ${typo}\` (it migrates at start)\n`,
    );
    expect(existsSync(typo)).toBe(false);
    const empty = join(root, 'empty dir');
    mkdirSync(empty);
    const notStore = await run('actor', 'u1', '--data-dir', empty, '--tenant', 't');
    expect(notStore.code).toBe(1);
    expect(notStore.err).toContain(`no otel-audit store at ${empty}: the directory holds no chDB data`);
    expect(notStore.err).toContain(`otel-audit migrate --data-dir '${empty}'`);
    expect(readdirSync(empty)).toEqual([]);
    // A regular file: no advice to migrate there (migrate cannot create a store where a file is).
    const aFile = join(root, 'a-file');
    writeFileSync(aFile, 'x');
    const notDir = await run('events', '--data-dir', aFile, '--tenant', 't');
    expect(notDir.code).toBe(1);
    expect(notDir.err).toBe(
      `otel-audit events: no otel-audit store at ${aFile}: it is not a directory; give the path of a data ` +
        'directory (a new one is created by `otel-audit migrate --data-dir DIR`)\n',
    );
    // Under a file: no advice to migrate there either.
    const under = await run('events', '--data-dir', join(aFile, 'sub'), '--tenant', 't');
    expect(under.code).toBe(1);
    expect(under.err).toBe(
      `otel-audit events: no otel-audit store at ${join(aFile, 'sub')}: a part of its path is a file, not a ` +
        `directory (${aFile}); give the path of a data directory\n`,
    );
    // A chDB store, but the database asked for has no audit tables: the engine's SQL error is not what is shown.
    const noTables = await run('export', '--data-dir', dataDir, '--database', 'nosuch', '--tenant', 'acme');
    expect(noTables.code).toBe(1);
    expect(noTables.out).toBe('');
    expect(noTables.err).toBe(
      `otel-audit export: no otel-audit store at ${dataDir}: database "nosuch" has no audit tables (migrations not ` +
        `applied); create it with \`otel-audit migrate --data-dir ${dataDir} --database nosuch\`, or start ` +
        `\`otel-audit serve --data-dir ${dataDir} --database nosuch\` (it migrates at start)\n`,
    );
    const file = join(root, 'typo.csv');
    expect((await run('export', '--data-dir', typo, '--tenant', 't', '--output', file)).code).toBe(1);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(typo)).toBe(false);
  });

  it('a store that lacks migrations of this release is named as such, not read (earlier release, or an unfinished migrate)', async () => {
    const withStore = async (fn: (store: AuditStore) => Promise<unknown>) => {
      const store = await AuditStore.open({ path: dataDir, database: 'olddb' });
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };
    const later = loadMigrations()
      .filter((m) => m.version > 5)
      .map((m) => m.name);
    const expected = (cmd: string, pending = later) =>
      `otel-audit ${cmd}: the otel-audit store at ${dataDir} needs migration${pending.length > 1 ? 's' : ''} ${pending.join(', ')} (made by an ` +
      `earlier release, or a migrate that did not finish): run \`otel-audit migrate --data-dir ${dataDir} ` +
      '--database olddb` (its data stays; a migration may copy some of it, minutes on a large store)\n';
    // An earlier release's store: migrations up to 0005.
    await withStore((store) =>
      runMigrations(
        store.client,
        { database: 'olddb' },
        loadMigrations().filter((m) => m.version <= 5),
      ),
    );
    // status shows such a store instead of refusing it.
    const pendingStatus = await run('status', '--data-dir', dataDir, '--database', 'olddb');
    expect(pendingStatus.code).toBe(0);
    expect(pendingStatus.out.split('\n').slice(0, 2)).toEqual([
      `database olddb: 5 of ${loadMigrations().length} migrations applied`,
      `pending: ${later.join(', ')} (run \`otel-audit migrate --data-dir ${dataDir} --database olddb\`)`,
    ]);
    for (const argv of [
      ['events', '--tenant', 'acme'],
      ['target', 'doc', 'd1', '--tenant', 'acme'],
    ]) {
      const r = await run(...argv, '--data-dir', dataDir, '--database', 'olddb');
      expect(r).toEqual({ code: 1, out: '', err: expected(argv[0] as string) });
    }
    // A migrate that stopped inside 0006 (its tables there, not recorded): same, where reads found no keys.
    await withStore(async (store) => {
      await runMigrations(store.client, { database: 'olddb' });
      await store.command(
        'ALTER TABLE olddb.otel_audit_migrations DELETE WHERE version = 6',
        {},
        { mutations_sync: '1' },
      );
    });
    const half = await run(
      'target',
      'doc',
      'd1',
      '--tenant',
      'acme',
      '--data-dir',
      dataDir,
      '--database',
      'olddb',
    );
    expect(half).toEqual({ code: 1, out: '', err: expected('target', ['0006_audit_target_keys']) });
    // The remedy works.
    expect((await run('migrate', '--data-dir', dataDir, '--database', 'olddb')).code).toBe(0);
    const read = await run(
      'target',
      'doc',
      'd1',
      '--tenant',
      'acme',
      '--data-dir',
      dataDir,
      '--database',
      'olddb',
    );
    expect(read.code).toBe(0);
    // A newer release migrated it further: refused too, with the way out.
    await withStore((store) =>
      store.command(
        "INSERT INTO olddb.otel_audit_migrations VALUES (99, '0099_from_the_future', 'x', now64(3, 'UTC'))",
      ),
    );
    const newer = await run('events', '--tenant', 'acme', '--data-dir', dataDir, '--database', 'olddb');
    expect(newer).toEqual({
      code: 1,
      out: '',
      err:
        `otel-audit events: the otel-audit store at ${dataDir} was migrated by a newer release ` +
        '(0099_from_the_future): this release does not know its tables; use that release\n',
    });
    const newerStatus = await run('status', '--data-dir', dataDir, '--database', 'olddb', '--json');
    expect(newerStatus.code).toBe(0);
    expect((JSON.parse(newerStatus.out) as StoreStatus).migrations).toMatchObject({
      pending: [],
      unknown: ['0099_from_the_future'],
    });
    const migrateNewer = await run('migrate', '--data-dir', dataDir, '--database', 'olddb');
    expect(migrateNewer.code).toBe(1);
    expect(migrateNewer.err).toContain('was migrated by a newer release (0099_from_the_future)');
  });

  it('bare otel-audit is a usage error: overview on stderr, exit 2; --help on stdout, exit 0', async () => {
    const bare = await run();
    expect(bare.code).toBe(2);
    expect(bare.out).toBe('');
    expect(bare.err).toMatch(/^otel-audit: no command given\n\nusage: otel-audit <command>/);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.err).toBe('');
    expect(help.out).toMatch(/^usage: otel-audit <command>/);
    // `help <command>` is that command's --help; an unknown command stays a usage error.
    const helpEvents = await run('help', 'events');
    expect(helpEvents.code).toBe(0);
    expect(helpEvents.out).toBe((await run('events', '--help')).out);
    expect(helpEvents.out).toMatch(/^usage: otel-audit events/);
    const helpBogus = await run('help', 'bogus');
    expect(helpBogus.code).toBe(2);
    expect(helpBogus.err).toMatch(/^otel-audit: unknown command "bogus"/);
  });

  it('usage errors exit 2 with the message and usage on stderr', async () => {
    for (const argv of [
      ['events', '--data-dir', dataDir],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--bogus'],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--crud', 'drop'],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--from', 'yesterday'],
      ['events', '--tenant', 'acme'],
      ['events', '--url', 'http://x', '--data-dir', dataDir, '--tenant', 'acme'],
      ['target', 'invoice', '--data-dir', dataDir, '--tenant', 'acme'],
      ['migrate', '--data-dir', dataDir, '--logs-engine', 'Log'],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--limit', '0'],
      ['nope'],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^otel-audit/);
    }
  });

  it('a flag given twice, an empty store flag or tenant, and a URL that is none are usage errors naming the flag', async () => {
    const cases: [argv: string[], message: string, env?: Record<string, string>][] = [
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme', '--tenant', 'other'],
        'otel-audit events: --tenant given more than once',
      ],
      [
        [
          'actor',
          'u1',
          '--data-dir',
          dataDir,
          '--tenant',
          'acme',
          '--outcome',
          'success',
          '--outcome',
          'failure',
        ],
        'otel-audit actor: --outcome given more than once',
      ],
      [
        ['migrate', '--data-dir', dataDir, '--retention-days', '1', '--retention-days', '0'],
        'otel-audit migrate: --retention-days given more than once',
      ],
      [
        ['events', '--data-dir', dataDir, '--database', '', '--tenant', 'acme'],
        'otel-audit events: --database: must not be empty',
      ],
      [['migrate', '--data-dir', ''], 'otel-audit migrate: --data-dir: must not be empty'],
      [
        ['events', '--url', '', '--tenant', 'acme'],
        'otel-audit events: --url: must not be empty',
        { [ENV.dataDir]: dataDir },
      ],
      [
        ['events', '--data-dir', dataDir, '--tenant', ''],
        'otel-audit events: --tenant: must not be empty',
        { [ENV.tenant]: 'acme' },
      ],
      [
        ['events', '--url', 'localhost:8123', '--tenant', 'acme'],
        'otel-audit events: --url: expected an http(s) URL such as http://localhost:8123, got "localhost:8123"',
      ],
      [
        ['status'],
        `otel-audit status: ${ENV.url} (--url): expected an http(s) URL such as http://localhost:8123, got "ftp://…@host"`,
        { [ENV.url]: 'ftp://u:p@ss@host' },
      ],
      [
        ['status', '--url', 'admin:s3cret@ch.example.com:8123'],
        'otel-audit status: --url: expected an http(s) URL such as http://localhost:8123, got "…@ch.example.com:8123"',
      ],
      [
        ['status', '--url', 'ftp://u:p#ss/x?y@host'],
        'otel-audit status: --url: expected an http(s) URL such as http://localhost:8123, got "ftp://…@host"',
      ],
      [
        ['events', '--data-dir', dataDir, '--state-dir', '', '--tenant', 'acme'],
        'otel-audit events: --state-dir: must not be empty',
      ],
      [
        ['serve', '--data-dir', dataDir, '--token-file', ''],
        'otel-audit serve: --token-file: must not be empty',
      ],
    ];
    for (const [argv, message, env] of cases) {
      const r = await cli(argv, env);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.split('\n')[0]).toBe(message);
    }
    // Options that take a list still take it; a flag without a value may come twice; an empty password is one.
    const actions = await run(
      'events',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--action',
      'billing.*',
      '--action',
      'auth.*',
      '--json',
      '--json',
    );
    expect(actions.code).toBe(0);
    expect((await run('events', '--data-dir', dataDir, '--tenant', 'acme', '--password', '')).code).toBe(0);
    // --cursor may be given again, the last one counting: the `more: --cursor …` hint is appended to the command.
    const page = (...more: string[]) =>
      run('events', '--data-dir', dataDir, '--tenant', 'acme', '--limit', '2', ...more);
    const first = await page();
    const c1 = /more: --cursor (\S+)/.exec(first.err)?.[1] as string;
    const second = await page('--cursor', c1);
    const c2 = /more: --cursor (\S+)/.exec(second.err)?.[1] as string;
    const third = await page('--cursor', c1, '--cursor', c2);
    expect(third.code).toBe(0);
    expect(third.out).toBe((await page('--cursor', c2)).out);
    expect(third.out).not.toBe(second.out);
  });

  it("a negative number is the flag's value, refused with the valid range; other command-line mistakes name the flag", async () => {
    const cases: [argv: string[], message: string][] = [
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme', '--limit', '-5'],
        'otel-audit events: --limit: expected a whole number 1..10000, got "-5"',
      ],
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme', '--limit', '10001'],
        'otel-audit events: --limit: expected a whole number 1..10000, got "10001"',
      ],
      [
        ['migrate', '--data-dir', dataDir, '--retention-days', '-1'],
        'otel-audit migrate: --retention-days: expected a whole number of days 0..100000, got "-1"',
      ],
      [
        ['serve', '--data-dir', dataDir, '--max-batch-rows', '-3'],
        'otel-audit serve: --max-batch-rows: expected a whole number >= 1, got "-3"',
      ],
      [
        // Past a safe integer: the flag is named (it was the config field, maxBodyBytes).
        ['serve', '--data-dir', dataDir, '--max-body-bytes', '99999999999999999999'],
        'otel-audit serve: --max-body-bytes: expected a whole number >= 1, got "99999999999999999999"',
      ],
      [
        // Node's timers take at most 2^31-1 ms: a longer shutdown wait would not wait at all.
        ['serve', '--data-dir', dataDir, '--shutdown-timeout', '9999999'],
        'otel-audit serve: --shutdown-timeout: expected a whole number 1..2147483, got "9999999"',
      ],
      [
        ['events', '--data-dir', dataDir, '--tenant', '--json'],
        'otel-audit events: --tenant: missing value (the next argument starts with "-"; if it is the value, write --tenant=VALUE)',
      ],
      [['events', '--data-dir', dataDir, '--limit'], 'otel-audit events: --limit: missing value'],
      [['events', '--json=yes'], 'otel-audit events: --json takes no value'],
      [
        ['export', '--data-dir', dataDir, '--tenant', 'acme', '--format', 'xml'],
        'otel-audit export: --format: expected ndjson or csv, got "xml"',
      ],
      [
        ['events', '--bogus'],
        'otel-audit events: unknown option --bogus (`otel-audit events --help` lists the options)',
      ],
      [['events', 'acme'], 'otel-audit events: unexpected argument "acme": events takes only options'],
      [
        ['actor', '-x', '--data-dir', dataDir, '--tenant', 'acme'],
        'otel-audit actor: unknown option -x (`otel-audit actor --help` lists the options; an argument starting with "-" that is not an option goes after --: `-- -x`)',
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/\n\nusage: otel-audit /);
      expect(r.err.split('\n')[0]).toBe(message);
    }
  });

  it("a value the store refuses names the flag, argument or variable that gave it, not the store's field", async () => {
    const cases: [argv: string[], env: Record<string, string>, message: string][] = [
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme', '--database', 'bad-db'],
        {},
        'otel-audit events: --database: "bad-db" is not a valid identifier',
      ],
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme'],
        { [ENV.database]: 'bad-db' },
        `otel-audit events: ${ENV.database} (--database): "bad-db" is not a valid identifier`,
      ],
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme', '--cursor', 'garbage'],
        {},
        'otel-audit events: --cursor: ',
      ],
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme', '--action', ''],
        {},
        'otel-audit events: --action: ',
      ],
      [['actor', '', '--data-dir', dataDir, '--tenant', 'acme'], {}, 'otel-audit actor: <actor-id>: '],
      [
        ['events', '--data-dir', dataDir, '--tenant', 'acme', '--from', '2026-11-24', '--to', '2026-11-23'],
        {},
        'otel-audit events: --to: must be after from (2026-11-24T00:00:00.000Z)',
      ],
    ];
    for (const [argv, env, message] of cases) {
      const r = await cli(argv, env);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.startsWith(message), `${argv.join(' ')}\n${r.err}`).toBe(true);
    }
  });

  it('migrate and serve refuse a --data-dir (or OTEL_AUDIT_DATA_DIR) that is a file, naming it', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a store\n');
    const migrate = await run('migrate', '--data-dir', file);
    expect(migrate.code).toBe(2);
    expect(migrate.err).toMatch(new RegExp(`^otel-audit migrate: --data-dir: ${file} is not a directory\n`));
    const serve = await cli(['serve', '--port', '0'], { OTEL_AUDIT_DATA_DIR: file });
    expect(serve.code).toBe(2);
    expect(serve.err).toMatch(
      new RegExp(`^otel-audit serve: OTEL_AUDIT_DATA_DIR \\(--data-dir\\): ${file} is not a directory\n`),
    );
    expect(readFileSync(file, 'utf8')).toBe('not a store\n');
    // Under that file: the same kind of mistake, the same exit and no usage-less runtime failure.
    const under = await run('migrate', '--data-dir', join(file, 'sub'));
    expect(under.code).toBe(2);
    expect(under.err).toMatch(
      new RegExp(
        `^otel-audit migrate: --data-dir: ${join(file, 'sub')} cannot be created: ${file} is a file, not a directory\n`,
      ),
    );
  });

  it('migrate checks --retention-days and --cluster before it opens (and creates) the store', async () => {
    const fresh = join(root, 'never-created');
    for (const [argv, message] of [
      [
        ['--retention-days', '100001'],
        'otel-audit migrate: --retention-days: expected a whole number of days 0..100000, got "100001"',
      ],
      [['--cluster', 'bad`name'], 'otel-audit migrate: --cluster: "bad`name" is not a cluster name'],
      // The engine's own answer was "Requested cluster 'c1' not found" (exit 1).
      [
        ['--cluster', 'c1'],
        'otel-audit migrate: --cluster: applies to a ClickHouse server (--url); an embedded store (--data-dir) has no cluster',
      ],
    ] as const) {
      const r = await run('migrate', '--data-dir', fresh, ...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.startsWith(message), r.err).toBe(true);
      expect(existsSync(fresh)).toBe(false);
    }
  });

  it('serve resolves --host (or its variable) before it opens (and creates) the store', async () => {
    const fresh = join(root, 'serve-never-created');
    const flag = await run('serve', '--data-dir', fresh, '--port', '0', '--host', 'no-such-host.invalid');
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(
      /^otel-audit serve: --host: cannot resolve "no-such-host\.invalid" .*\(ENOTFOUND\)/,
    );
    const fromEnv = await cli(['serve', '--data-dir', fresh, '--port', '0'], {
      OTEL_AUDIT_SERVE_HOST: 'no-such-host.invalid',
    });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).toMatch(/^otel-audit serve: OTEL_AUDIT_SERVE_HOST \(--host\): cannot resolve/);
    const bracketed = await run('serve', '--data-dir', fresh, '--port', '0', '--host', '[::1]');
    expect(bracketed.code).toBe(2);
    expect(bracketed.err.split('\n')[0]).toMatch(
      /cannot resolve "\[::1\]" .*; write an IPv6 address without brackets$/,
    );
    expect(existsSync(fresh)).toBe(false);
  });

  it('a ClickHouse server that cannot be reached is named as such (URL without its password, and the flag)', async () => {
    // The client logs that warning through console.warn whatever its log level.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let warned = '';
    const r = await run('migrate', '--url', 'http://admin:s3cret@127.0.0.1:1').finally(() => {
      warned = warn.mock.calls.flat().join(' ');
      warn.mockRestore();
    });
    expect(warned).not.toContain('overridden');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^otel-audit migrate: cannot reach the ClickHouse server at http:\/\/127\.0\.0\.1:1 \(--url\): .*ECONNREFUSED/,
    );
    expect(r.err).not.toContain('s3cret');
  });

  it('an id starting with "-" is read after --, as the usage error says', async () => {
    const r = await run('actor', '--data-dir', dataDir, '--tenant', 'acme', '--json', '--', '-x');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ events: [], nextCursor: null });
  });

  it('target without its id says what the command expects (not the --target flag it refuses)', async () => {
    for (const [args, got] of [
      [['invoice'], '"invoice"'],
      [['invoice:'], '"invoice:"'],
      [[], 'no argument'],
      [['invoice', 'inv_1', 'extra'], '3 arguments'],
    ] as const) {
      const r = await run('target', ...args, '--data-dir', dataDir, '--tenant', 'acme');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.split('\n')[0]).toBe(
        `otel-audit target: expected <type> <id> (or <type>:<id>), got ${got}`,
      );
    }
    // The flag on the other commands still names itself.
    const flag = await run('events', '--data-dir', dataDir, '--tenant', 'acme', '--target', 'invoice');
    expect(flag.err.split('\n')[0]).toBe('otel-audit events: --target: expected TYPE:ID, got "invoice"');
  });

  it('read commands check every option before they look for the store', async () => {
    // A missing store would be exit 1; the bad --limit is found first.
    const typo = join(root, 'never-opened');
    for (const argv of [['events'], ['actor', 'u1'], ['target', 'invoice:inv_0']]) {
      const r = await run(...argv, '--data-dir', typo, '--tenant', 'acme', '--limit', '0');
      expect(r.code, argv[0]).toBe(2);
      expect(r.err, argv[0]).toContain(
        `otel-audit ${argv[0]}: --limit: expected a whole number 1..10000, got "0"`,
      );
    }
    expect(existsSync(typo)).toBe(false);
  });

  it('--version prints the cli package version on stdout and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const r = await run('--version');
    expect(r).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect((await run('--help')).out).toContain('otel-audit --version');
  });

  it('--help prints usage on stdout and exits 0', async () => {
    const r = await run('export', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--format F');
    expect(r.out).toContain(ENV.url);
  });
});

describe('otel-audit (the bin, through tsx)', () => {
  const bin = join(import.meta.dirname, '..', 'src', 'bin.ts');
  /** node's arguments to run the bin from source with `args`. */
  const binArgs = (args: string[]) => ['--conditions=@otel-audit/source', '--import', 'tsx', bin, ...args];
  const exec = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, binArgs(args), {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });

  /** Runs the bin with its stdout piped here; `onData` sees each chunk (and may close the pipe). */
  const execPiped = async (
    args: string[],
    onData: (chunk: Buffer, child: ReturnType<typeof spawn>) => void,
  ) => {
    const child = spawn(process.execPath, binArgs(args), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.stdout?.on('data', (c: Buffer) => onData(c, child));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, err };
  };

  it('on a Node older than 22.15 says which version it needs (not an import SyntaxError)', () => {
    const older =
      'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"22.14.0"});' +
      'Object.defineProperty(process,"version",{value:"v22.14.0"})';
    const r = spawnSync(process.execPath, ['--import', older, ...binArgs(['--help'])], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('otel-audit needs Node.js >= 22.15 (this is v22.14.0)\n');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });

  it('a reader that closes the pipe (| head) ends export quietly with exit 141', async () => {
    let received = 0;
    const r = await execPiped(
      ['export', '--data-dir', dataDir, '--tenant', 'bulk', '--format', 'csv'],
      (c, child) => {
        received += c.length;
        child.stdout?.destroy(); // as `head -c 100` does after its first read
      },
    );
    expect(received).toBeGreaterThan(0);
    // Progress of the pages written before the pipe closed, and no error.
    expect(r.err).toMatch(/^(exported \d+ events\n)*$/);
    expect(r.code).toBe(141);
    // The whole export is larger than what was read: the writer really did hit the closed pipe.
    const whole = await run('export', '--data-dir', dataDir, '--tenant', 'bulk', '--format', 'csv');
    expect(whole.out.length).toBeGreaterThan(128 * 1024);
  });

  it('export --output failing part-way (file size limit) exits 1 and leaves the existing file untouched', () => {
    const dir = join(root, 'partial');
    mkdirSync(dir);
    const file = join(dir, 'audit.csv');
    writeFileSync(file, 'previous export\n');
    // RLIMIT_FSIZE of 32 KiB: writes past it fail with EFBIG (Node ignores SIGXFSZ).
    const r = spawnSync(
      'bash',
      [
        '-c',
        'ulimit -f 32 && exec "$@"',
        'bash',
        process.execPath,
        ...binArgs([
          'export',
          '--data-dir',
          dataDir,
          '--tenant',
          'bulk',
          '--format',
          'csv',
          '--output',
          file,
        ]),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr.replace(/^(exported \d+ events\n)*/, '')).toBe(
      `otel-audit export: cannot write ${file}: file too large (file size limit reached)\n`,
    );
    expect(r.status).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('previous export\n');
    expect(readdirSync(dir)).toEqual(['audit.csv']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ] as const)(
    '%s during export --output: ends by that signal (status %i in a shell), the temporary file removed, the existing file untouched',
    async (signal, exit) => {
      const dir = join(root, `interrupted-${signal}`);
      mkdirSync(dir);
      const file = join(dir, 'audit.ndjson');
      writeFileSync(file, 'previous export\n');
      const child = spawn(
        process.execPath,
        binArgs(['export', '--data-dir', dataDir, '--tenant', 'bulk', '--output', file]),
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr?.on('data', (c: Buffer) => {
        err += c.toString();
      });
      // The temporary file appears before the store is opened: the signal lands while the export runs.
      let signalled = false; // once: a second signal means "now" (the process dies by it)
      const watcher = watch(dir, (_event, name) => {
        if (name?.endsWith('.tmp') && !signalled) signalled = child.kill(signal);
      });
      const [code, endedBy] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      watcher.close();
      expect(signalled).toBe(true);
      expect(err).toBe(`otel-audit export: interrupted (${signal}): ${file} was left as it was\n`);
      // Killed by the signal after cleaning up (a shell loop running exports stops; exit 130 let it go on).
      expect([code, endedBy]).toEqual([null, signal]);
      expect(128 + constants.signals[signal]).toBe(exit);
      expect(readFileSync(file, 'utf8')).toBe('previous export\n');
      expect(readdirSync(dir)).toEqual(['audit.ndjson']);
    },
  );

  it('runs a command from the environment and exits 1 with the locked-directory error when the directory is busy', async () => {
    const other = join(root, 'bin-data');
    const ok = exec(['migrate', '--json'], { [ENV.dataDir]: other });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).applied).toEqual(loadMigrations().map((m) => m.name));
    // This process holds dataDir open now: the child cannot lock it.
    const store = await AuditStore.open({ path: dataDir });
    try {
      const busy = exec(['events', '--tenant', 'acme'], { [ENV.dataDir]: dataDir });
      expect(busy.status).toBe(1);
      expect(busy.stderr).toContain(`data directory ${dataDir} is locked by another process`);
      if (LOCKS_VISIBLE) expect(busy.stderr).not.toContain('DB::Exception');
      // serve may hold it with its serve.json in another state directory: the message says how to find it.
      expect(busy.stderr).toContain(
        'If it is an `otel-audit serve` started with --state-dir DIR, pass --state-dir DIR too',
      );
      expect(busy.stdout).toBe('');
    } finally {
      await store.close();
    }
  });
});
