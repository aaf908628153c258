// Every panel's and variable's SQL, rendered as Grafana + the ClickHouse plugin would, runs on chDB against
// the real migrations filled with known events, and returns the expected rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES, AUDIT_COLUMNS } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboards, DASHBOARD_UIDS } from '../src/index.js';
import {
  BACKSLASH,
  EVENTS,
  type FixtureEvent,
  fixtureBatches,
  ID,
  RANGE,
  toLogRow,
} from './support/fixture.js';
import { renderSql } from './support/grafana.js';
import { dashboardQueries } from './support/queries.js';

type Row = Record<string, unknown>;
type Check = (rows: Row[]) => void;

const boards = buildDashboards();
const HOUR = 3600;

/** Variable values per dashboard, as a user (or a link) would set them. */
const VARIABLES: Record<string, Record<string, string>> = {
  [DASHBOARD_UIDS.overview]: { tenant: 'acme' },
  [DASHBOARD_UIDS.actor]: { tenant: 'acme', actor: 'u-alice' },
  [DASHBOARD_UIDS.target]: { tenant: 'acme', target_type: 'project', target_id: 'p-1' },
  [DASHBOARD_UIDS.event]: { tenant: 'acme', event_id: ID.deploy },
};

const pick = (rows: Row[], ...columns: string[]) => rows.map((r) => columns.map((c) => String(r[c])));
const single =
  (column: string, value: string): Check =>
  (rows) =>
    expect(pick(rows, column)).toEqual([[value]]);

const EXPECTED: Record<string, Record<string, Check>> = {
  [DASHBOARD_UIDS.overview]: {
    'variable:tenant': (rows) =>
      expect(pick(rows, 'tenant')).toEqual([['acme'], [BACKSLASH.tenant], ['globex'], ["o'reilly"]]),
    'panel:Events': single('events', '5'),
    'panel:Failures': single('failures', '1'),
    'panel:Actors': single('actors', '3'),
    'panel:Actions': single('actions', '3'),
    'panel:Events by action': (rows) =>
      expect(pick(rows, 'time', 'action', 'events')).toEqual([
        ['2026-11-22 10:00:00.000', 'billing.invoice.paid', '1'],
        ['2026-11-22 10:00:00.000', 'project.deployment.created', '1'],
        ['2026-11-22 10:00:00.000', 'project.settings.updated', '2'],
        ['2026-11-22 11:00:00.000', 'billing.invoice.paid', '1'],
      ]),
    'panel:Events by outcome': (rows) =>
      expect(pick(rows, 'time', 'outcome', 'events')).toEqual([
        ['2026-11-22 10:00:00.000', 'failure', '1'],
        ['2026-11-22 10:00:00.000', 'success', '3'],
        ['2026-11-22 11:00:00.000', 'success', '1'],
      ]),
    'panel:Recent failures': (rows) =>
      expect(
        pick(rows, 'event_id', 'action', 'outcome_reason', 'actor_id', 'target_type', 'target_id'),
      ).toEqual([[ID.denied, 'project.settings.updated', 'forbidden', 'u-bob', 'project', 'p-1']]),
    'panel:Top actors': (rows) =>
      expect(pick(rows, 'actor_id', 'actor_type', 'actor_name', 'events', 'failures')).toEqual([
        ['u-alice', 'user', 'Alice', '3', '0'],
        ['k-ci', 'api_key', 'CI key', '1', '0'],
        ['u-bob', 'user', 'Bob', '1', '1'],
      ]),
    'panel:Top targets': (rows) =>
      expect(pick(rows, 'target_type', 'target_id', 'target_name', 'events', 'failures')).toEqual([
        ['project', 'p-1', 'Apollo', '3', '1'],
        ['deployment', 'd-1', 'Deploy #1', '1', '0'],
        ['invoice', 'inv-1', 'Invoice 1', '1', '0'],
        ['invoice', 'inv-2', 'Invoice 2', '1', '0'],
      ]),
    'panel:Recent events': (rows) =>
      expect(pick(rows, 'event_id', 'crud', 'outcome', 'target_id', 'all_targets')).toEqual([
        [ID.paid2, 'update', 'success', 'inv-2', 'invoice:inv-2'],
        [ID.deploy, 'create', 'success', 'p-1', 'project:p-1, deployment:d-1'],
        [ID.denied, 'update', 'failure', 'p-1', 'project:p-1'],
        [ID.settings, 'update', 'success', 'p-1', 'project:p-1'],
        [ID.paid1, 'update', 'success', 'inv-1', 'invoice:inv-1'],
      ]),
    'panel:Event stream': (rows) => {
      expect(pick(rows, 'event_id', 'level')).toEqual([
        [ID.paid2, 'info'],
        [ID.deploy, 'info'],
        [ID.denied, 'warning'],
        [ID.settings, 'info'],
        [ID.paid1, 'info'],
      ]);
      expect(rows[2]?.body).toBe('project.settings.updated by user:u-bob on project:p-1 FAILED: forbidden');
      expect(rows.every((r) => typeof r.timestamp === 'string')).toBe(true);
    },
  },
  [DASHBOARD_UIDS.actor]: {
    'variable:tenant': (rows) => expect(rows).toHaveLength(4),
    'panel:Events': single('events', '3'),
    'panel:Failures': single('failures', '0'),
    'panel:Distinct targets': single('distinct_targets', '3'),
    'panel:Actions over time': (rows) =>
      expect(pick(rows, 'time', 'action', 'events')).toEqual([
        ['2026-11-22 10:00:00.000', 'billing.invoice.paid', '1'],
        ['2026-11-22 10:00:00.000', 'project.settings.updated', '1'],
        ['2026-11-22 11:00:00.000', 'billing.invoice.paid', '1'],
      ]),
    'panel:Timeline': (rows) =>
      expect(pick(rows, 'event_id', 'action', 'target_type', 'target_id', 'ip')).toEqual([
        [ID.paid2, 'billing.invoice.paid', 'invoice', 'inv-2', '203.0.113.7'],
        [ID.settings, 'project.settings.updated', 'project', 'p-1', '203.0.113.7'],
        [ID.paid1, 'billing.invoice.paid', 'invoice', 'inv-1', '203.0.113.7'],
      ]),
    'panel:Actions': (rows) =>
      expect(pick(rows, 'action', 'events', 'failures', 'last_seen')).toEqual([
        ['billing.invoice.paid', '2', '0', '2026-11-22 11:00:00.000'],
        ['project.settings.updated', '1', '0', '2026-11-22 10:05:00.000'],
      ]),
    'panel:Targets touched': (rows) =>
      expect(pick(rows, 'target_type', 'target_id', 'target_name', 'events')).toEqual([
        ['invoice', 'inv-1', 'Invoice 1', '1'],
        ['invoice', 'inv-2', 'Invoice 2', '1'],
        ['project', 'p-1', 'Apollo', '1'],
      ]),
  },
  [DASHBOARD_UIDS.target]: {
    'variable:tenant': (rows) => expect(rows).toHaveLength(4),
    'variable:target_type': (rows) =>
      expect(pick(rows, 'target_type')).toEqual([['deployment'], ['invoice'], ['project']]),
    'panel:Events by outcome': (rows) =>
      expect(pick(rows, 'time', 'outcome', 'events')).toEqual([
        ['2026-11-22 10:00:00.000', 'failure', '1'],
        ['2026-11-22 10:00:00.000', 'success', '2'],
      ]),
    'panel:History': (rows) => {
      expect(pick(rows, 'event_id', 'actor_id', 'actor_name', 'action', 'outcome', 'outcome_reason')).toEqual(
        [
          [ID.deploy, 'k-ci', 'CI key', 'project.deployment.created', 'success', ''],
          [ID.denied, 'u-bob', 'Bob', 'project.settings.updated', 'failure', 'forbidden'],
          [ID.settings, 'u-alice', 'Alice', 'project.settings.updated', 'success', ''],
        ],
      );
      expect(JSON.parse(String(rows[2]?.changes))).toEqual({
        before: { public: false },
        after: { public: true },
      });
    },
    'panel:Actors on this target': (rows) =>
      expect(pick(rows, 'actor_id', 'events', 'failures')).toEqual([
        ['k-ci', '1', '0'],
        ['u-alice', '1', '0'],
        ['u-bob', '1', '1'],
      ]),
  },
  [DASHBOARD_UIDS.event]: {
    'variable:tenant': (rows) => expect(rows).toHaveLength(4),
    'panel:Summary': (rows) =>
      expect(pick(rows, 'action', 'outcome', 'actor_id', 'actor_type', 'service_name')).toEqual([
        ['project.deployment.created', 'success', 'k-ci', 'api_key', 'project'],
      ]),
    'panel:Fields': (rows) => {
      expect(rows.map((r) => r.field)).toEqual(Object.values(AUDIT_COLUMNS));
      const value = Object.fromEntries(rows.map((r) => [r.field, r.value]));
      expect(value).toMatchObject({ tenant: 'acme', event_id: ID.deploy, crud: 'create', malformed: '' });
      expect(value.targets).toBe("[('project','p-1','Apollo'),('deployment','d-1','Deploy #1')]");
    },
    'panel:Targets': (rows) => {
      expect(pick(rows, 'target_type', 'target_id', 'target_name')).toEqual([
        ['project', 'p-1', 'Apollo'],
        ['deployment', 'd-1', 'Deploy #1'],
      ]);
      expect(JSON.parse(String(rows[1]?.fields))).toEqual({ commit: 'abc123' });
    },
    'panel:Raw JSON': (rows) => {
      expect(rows).toHaveLength(1);
      const raw = JSON.parse(String(rows[0]?.raw_json)) as Record<string, unknown>;
      expect(Object.keys(raw)).toEqual(Object.values(AUDIT_COLUMNS));
      expect(raw).toMatchObject({
        event_id: ID.deploy,
        tenant: 'acme',
        action: 'project.deployment.created',
      });
    },
  },
};

let store: AuditStore;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'otel-audit-dashboards-'));
  store = await AuditStore.open({ path: dir });
  await store.migrate();
  // Keep the retried duplicate as its own part, so the FINAL reads below are really tested.
  await store.command('SYSTEM STOP MERGES {db}.audit_events');
  for (const batch of fixtureBatches()) await store.insertLogs(batch);
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(rawSql: string, variables: Record<string, string>): Promise<Row[]> {
  return store.query(renderSql(rawSql, { variables, range: RANGE, intervalSeconds: HOUR }));
}

describe.each(Object.values(boards).map((b) => [b.title, b] as const))('%s', (_title, board) => {
  const queries = dashboardQueries(board);
  const expected = EXPECTED[board.uid] ?? {};

  it('has an expectation for every query and no stale ones', () => {
    expect(Object.keys(expected).sort()).toEqual(queries.map((q) => q.key).sort());
  });

  it.each(queries.map((q) => [q.key, q] as const))('%s returns the expected rows', async (key, query) => {
    const variables = VARIABLES[board.uid] ?? {};
    const rows = await run(query.rawSql, variables);
    expected[key]?.(rows);
    // Link columns the panel refers to (cell and `__data.fields.X`) are columns of its result.
    for (const override of query.panel?.fieldConfig.overrides ?? []) {
      expect(rows.length, `${key}: needs rows to check link columns`).toBeGreaterThan(0);
      const columns = Object.keys(rows[0] ?? {});
      expect(columns).toContain(override.matcher.options);
      for (const property of override.properties.filter((p) => p.id === 'links')) {
        for (const link of property.value as { url: string }[]) {
          for (const m of link.url.matchAll(/__data\.fields\.(\w+)/g)) expect(columns).toContain(m[1]);
        }
      }
    }
  });
});

describe('scoping', () => {
  it('the tenant variable scopes every panel: another tenant sees only its own events', async () => {
    const events = boards.overview.panels.find((p) => p.title === 'Recent events');
    const rows = await run(events?.targets?.[0]?.rawSql ?? '', { tenant: 'globex' });
    expect(pick(rows, 'event_id', 'action')).toEqual([[ID.globex, 'auth.session.created']]);
  });

  it('the tenant list leaves out events sent without a tenant (sorted first, they would be the default)', async () => {
    await store.insertLogs([
      toLogRow({ ...(EVENTS[0] as FixtureEvent), id: '0193a5b0-0000-7000-8000-00000000e0e0', tenant: '' }),
    ]);
    const tenantSql = (boards.overview.templating.list[0] as { query: { rawSql: string } }).query.rawSql;
    const tenants = pick(await run(tenantSql, {}), 'tenant').flat();
    expect(tenants).not.toContain('');
    expect(tenants[0]).toBe('acme');
  });

  it('one event by id whatever the time range (a pasted link carries a relative one); a pasted id is trimmed', async () => {
    const summary = boards.event.panels.find((p) => p.title === 'Summary')?.targets?.[0]?.rawSql ?? '';
    const rows = await store.query(
      renderSql(summary, {
        variables: { tenant: 'acme', event_id: ` ${ID.deploy}\n` },
        range: { from: new Date('2030-01-01T00:00:00Z'), to: new Date('2030-01-08T00:00:00Z') },
        intervalSeconds: HOUR,
      }),
    );
    expect(pick(rows, 'action')).toEqual([['project.deployment.created']]);
  });

  it('actors sharing an id across types are told apart (Top actors, Actors on this target, Timeline)', async () => {
    const top = await run(
      boards.overview.panels.find((p) => p.title === 'Top actors')?.targets?.[0]?.rawSql ?? '',
      {
        tenant: 'acme',
      },
    );
    expect(top.every((r) => typeof r.actor_type === 'string' && r.actor_type !== '')).toBe(true);
    const timeline = await run(
      boards.actor.panels.find((p) => p.title === 'Timeline')?.targets?.[0]?.rawSql ?? '',
      {
        tenant: 'acme',
        actor: 'u-alice',
      },
    );
    expect(pick(timeline, 'actor_type', 'occurrences')).toEqual([
      ['user', '1'],
      ['user', '1'],
      ['user', '1'],
    ]);
  });

  it('an empty actor or target id box shows nothing (not the events sent without one)', async () => {
    const sql = (board: keyof typeof boards, title: string) =>
      boards[board].panels.find((p) => p.title === title)?.targets?.[0]?.rawSql ?? '';
    await store.insertLogs([
      toLogRow({
        ...(EVENTS[0] as FixtureEvent),
        id: '0193a5b0-0000-7000-8000-00000000e0e1',
        actor: { id: '', type: 'user', name: '' },
        targets: [{ type: 'invoice', id: '', name: '' }],
      }),
    ]);
    expect(await run(sql('actor', 'Timeline'), { tenant: 'acme', actor: '' })).toEqual([]);
    expect(
      await run(sql('target', 'History'), { tenant: 'acme', target_type: 'invoice', target_id: '' }),
    ).toEqual([]);
  });

  it('counts an event once per target it names twice, actors by type and id, last seen by the last occurrence', async () => {
    const sql = (board: keyof typeof boards, title: string) =>
      boards[board].panels.find((p) => p.title === title)?.targets?.[0]?.rawSql ?? '';
    const { changes: _changes, ...first } = EVENTS[0] as FixtureEvent;
    const base = { ...first, tenant: 'dup-co' };
    const folder = { type: 'folder', id: 'F', name: 'Folder' };
    const coalesced = toLogRow({
      ...base,
      id: '0193a5b0-0000-7000-8000-00000000d003',
      at: '2026-11-22T10:20:00.000Z',
      actor: { id: 'svc', type: 'api_key', name: 'Service key' },
      targets: [folder],
    });
    // Five occurrences coalesced into one event, the last at 10:50.
    coalesced.LogAttributes[AUDIT_ATTRIBUTES.count] = '5';
    coalesced.LogAttributes[AUDIT_ATTRIBUTES.lastOccurredAt] = '2026-11-22T10:50:00.000Z';
    // Another sender's last occurrence before the event's own time (stored as sent): last seen is the event's time.
    const backwards = toLogRow({
      ...base,
      id: '0193a5b0-0000-7000-8000-00000000d005',
      at: '2026-11-22T10:40:00.000Z',
      actor: { id: 'u1', type: 'user', name: 'U1' },
      targets: [],
    });
    backwards.LogAttributes[AUDIT_ATTRIBUTES.count] = '3';
    backwards.LogAttributes[AUDIT_ATTRIBUTES.lastOccurredAt] = '2026-11-22T09:00:00.000Z';
    await store.insertLogs([
      toLogRow({
        ...base,
        id: '0193a5b0-0000-7000-8000-00000000d001',
        at: '2026-11-22T10:00:00.000Z',
        outcome: 'failure',
        actor: { id: 'u1', type: 'user', name: 'U1' },
        targets: [folder, folder],
      }),
      toLogRow({
        ...base,
        id: '0193a5b0-0000-7000-8000-00000000d002',
        at: '2026-11-22T10:10:00.000Z',
        actor: { id: 'svc', type: 'user', name: 'Svc user' },
        targets: [],
      }),
      coalesced,
      backwards,
      toLogRow({
        ...base,
        id: '0193a5b0-0000-7000-8000-00000000d004',
        at: '2026-11-22T10:30:00.000Z',
        actor: { id: '', type: '', name: '' },
        targets: [{ type: '', id: 'x', name: '' }],
      }),
    ]);
    const tenant = { tenant: 'dup-co' };
    expect(pick(await run(sql('overview', 'Actors'), tenant), 'actors')).toEqual([['3']]);
    expect(
      pick(
        await run(sql('overview', 'Top targets'), tenant),
        'target_type',
        'target_id',
        'events',
        'failures',
        'last_seen',
      ),
    ).toEqual([
      ['folder', 'F', '2', '1', '2026-11-22 10:50:00.000'],
      ['', 'x', '1', '0', '2026-11-22 10:30:00.000'],
    ]);
    expect(
      pick(await run(sql('overview', 'Top actors'), tenant), 'actor_id', 'actor_type', 'last_seen').find(
        ([id, type]) => id === 'svc' && type === 'api_key',
      ),
    ).toEqual(['svc', 'api_key', '2026-11-22 10:50:00.000']);
    expect(
      pick(await run(sql('overview', 'Top actors'), tenant), 'actor_id', 'actor_type', 'last_seen').find(
        ([id, type]) => id === 'u1' && type === 'user',
      ),
    ).toEqual(['u1', 'user', '2026-11-22 10:40:00.000']);
    expect(
      pick(await run(sql('actor', 'Targets touched'), { ...tenant, actor: 'u1' }), 'target_id', 'events'),
    ).toEqual([['F', '1']]);
    expect(
      pick(await run(sql('actor', 'Actions'), { ...tenant, actor: 'svc' }), 'events', 'last_seen'),
    ).toEqual([['2', '2026-11-22 10:50:00.000']]);
    expect(
      pick(
        await run(sql('target', 'Actors on this target'), {
          ...tenant,
          target_type: 'folder',
          target_id: 'F',
        }),
        'actor_id',
        'actor_type',
        'events',
        'last_seen',
      ),
    ).toEqual([
      ['svc', 'api_key', '1', '2026-11-22 10:50:00.000'],
      ['u1', 'user', '1', '2026-11-22 10:00:00.000'],
    ]);
    // The target type list leaves out the empty type of a malformed target (it would be the default).
    const typeSql = (boards.target.templating.list[1] as { query: { rawSql: string } }).query.rawSql;
    expect(pick(await run(typeSql, tenant), 'target_type')).toEqual([['folder']]);
  });

  it('an empty tenant box shows nothing (not the events sent without a tenant)', async () => {
    await store.insertLogs([
      toLogRow({ ...(EVENTS[0] as FixtureEvent), id: '0193a5b0-0000-7000-8000-00000000e0e2', tenant: '' }),
    ]);
    const sql = (board: keyof typeof boards, title: string) =>
      boards[board].panels.find((p) => p.title === title)?.targets?.[0]?.rawSql ?? '';
    expect(pick(await run(sql('overview', 'Events'), { tenant: '' }), 'events')).toEqual([['0']]);
    const typeSql = (boards.target.templating.list[1] as { query: { rawSql: string } }).query.rawSql;
    expect(await run(typeSql, { tenant: '' })).toEqual([]);
    expect(await run(sql('overview', 'Recent events'), { tenant: '' })).toEqual([]);
    expect(
      await run(sql('event', 'Summary'), { tenant: '', event_id: '0193a5b0-0000-7000-8000-00000000e0e2' }),
    ).toEqual([]);
  });

  it('a tenant with a quote still matches', async () => {
    const events = boards.overview.panels.find((p) => p.title === 'Events');
    const rows = await run(events?.targets?.[0]?.rawSql ?? '', { tenant: "o'reilly" });
    expect(pick(rows, 'events')).toEqual([['1']]);
  });

  it('values with backslashes match on every dashboard (tenant, actor, target id)', async () => {
    const sql = (board: keyof typeof boards, title: string) =>
      boards[board].panels.find((p) => p.title === title)?.targets?.[0]?.rawSql ?? '';
    const tenant = BACKSLASH.tenant;
    expect(await run(sql('overview', 'Events'), { tenant })).toEqual([{ events: '1' }]);
    expect(await run(sql('actor', 'Events'), { tenant, actor: BACKSLASH.actor })).toEqual([{ events: '1' }]);
    const history = await run(sql('target', 'History'), {
      tenant,
      target_type: 'file',
      target_id: BACKSLASH.targetId,
    });
    expect(pick(history, 'event_id', 'actor_id')).toEqual([[ID.backslash, BACKSLASH.actor]]);
    const summary = await run(sql('event', 'Summary'), { tenant, event_id: ID.backslash });
    expect(pick(summary, 'actor_id')).toEqual([[BACKSLASH.actor]]);
  });

  // Grafana's singlequote/sqlstring formats leave backslashes: these values broke out of the literal before.
  const HOSTILE = [
    "\\') OR 1=1 LIMIT 100) --",
    "\\' OR 1=1 --",
    'acme\\',
    "' OR 1=1 --",
    "acme') UNION ALL SELECT version() --",
    '\\',
    '%27%20OR%201%3D1',
  ];
  const FIXTURE_VALUES = [...new Set(EVENTS.flatMap((e) => [e.id, e.tenant, e.actor.id]))];

  it.each(Object.keys(boards) as (keyof typeof boards)[])(
    '%s: hostile values in every variable run as plain values and show no stored event',
    async (name) => {
      // The tenant list is the one query without a variable: it lists every tenant by design.
      for (const query of dashboardQueries(boards[name]).filter((q) => q.key !== 'variable:tenant')) {
        for (const value of HOSTILE) {
          const variables = {
            tenant: value,
            actor: value,
            target_type: value,
            target_id: value,
            event_id: value,
          };
          const rows = await run(query.rawSql, variables);
          const text = JSON.stringify(rows);
          for (const stored of FIXTURE_VALUES)
            expect(text, `${query.key} with ${value}`).not.toContain(stored);
        }
      }
    },
  );

  it('counts an event at .500 in a range that ends at .900 of the same second (millisecond bounds)', async () => {
    const events = boards.overview.panels.find((p) => p.title === 'Events')?.targets?.[0]?.rawSql ?? '';
    const range = { from: new Date('2026-11-22T12:00:00.000Z'), to: new Date('2026-11-22T12:00:00.900Z') };
    const rows = await store.query(
      renderSql(events, { variables: { tenant: BACKSLASH.tenant }, range, intervalSeconds: HOUR }),
    );
    expect(rows).toEqual([{ events: '1' }]);
  });

  it('time series put events past 2106 in their own buckets ($__timeInterval wrapped them: a 32-bit DateTime)', async () => {
    const far = (id: string, at: string): FixtureEvent => ({
      id,
      tenant: 'far-future',
      at,
      action: 'billing.invoice.paid',
      crud: 'update',
      outcome: 'success',
      actor: { id: 'u-far', type: 'user', name: 'Far' },
      targets: [{ type: 'project', id: 'p-far', name: 'Far' }],
    });
    await store.insertLogs([
      toLogRow(far('0190a000-0000-7000-8000-0000000000f1', '2106-02-07T06:28:16.000Z')),
      toLogRow(far('0190a000-0000-7000-8000-0000000000f2', '2200-06-15T12:34:56.789Z')),
    ]);
    const range = { from: new Date('2100-01-01T00:00:00Z'), to: new Date('2262-01-01T00:00:00Z') };
    const variables = { tenant: 'far-future', actor: 'u-far', target_type: 'project', target_id: 'p-far' };
    const series = Object.values(boards).flatMap((b) => b.panels.filter((p) => p.type === 'timeseries'));
    expect(series.length).toBeGreaterThanOrEqual(4);
    for (const panel of series) {
      const rows = await store.query<Row>(
        renderSql(panel.targets?.[0]?.rawSql ?? '', { variables, range, intervalSeconds: 24 * HOUR }),
      );
      expect(
        rows.map((r) => String(r.time)),
        panel.title,
      ).toEqual(['2106-02-07 00:00:00.000', '2200-06-15 00:00:00.000']);
    }
  });

  it('the Event dashboard shows the copy received first of an id stored under two keys, in every panel', async () => {
    const id = '0190a000-0000-7000-8000-0000000000e1';
    const copy = (actor: string, at: string): FixtureEvent => ({
      id,
      tenant: 'two-keys',
      at,
      action: 'billing.invoice.paid',
      crud: 'update',
      outcome: 'success',
      actor: { id: actor, type: 'user', name: actor },
      targets: [{ type: 'invoice', id: `inv-${actor}`, name: actor }],
    });
    // The later copy sorts first in the table (earlier time): LIMIT 1 alone returned it.
    await store.insertLogs([toLogRow(copy('u-original', '2026-11-22T10:00:00.000Z'))]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.insertLogs([toLogRow(copy('u-later', '2026-11-22T09:00:00.000Z'))]);
    const fields = boards.event.panels.find((p) => p.title === 'Fields')?.targets?.[0]?.rawSql ?? '';
    const targets = boards.event.panels.find((p) => p.title === 'Targets')?.targets?.[0]?.rawSql ?? '';
    const variables = { tenant: 'two-keys', event_id: id };
    const actor = (rows: Row[]) => rows.find((r) => r.field === 'actor_id')?.value;
    expect(actor(await run(fields, variables))).toBe('u-original');
    expect(pick(await run(targets, variables), 'target_id')).toEqual([['inv-u-original']]);
  });

  it('list panels order a burst in one millisecond as the query module pages it (a LIMIT cuts it the same way)', async () => {
    const tenant = 'burst';
    const at = '2026-11-22T11:00:00.000Z';
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    // Ids in no order; the last one under two actors (stored under two keys: tied on time and id).
    const ids = Array.from(
      { length: 24 },
      (_, i) => `0190b0${hex((i * 37) % 256)}-0000-7000-8000-0000000000${hex(i)}`,
    );
    const burst: FixtureEvent[] = ids.map((id, i) => ({
      id,
      tenant,
      at,
      action: 'billing.invoice.paid',
      crud: 'update',
      outcome: i % 2 === 0 ? 'failure' : 'success',
      actor: { id: i % 3 === 0 ? 'u-other' : 'u-burst', type: 'user', name: 'B' },
      targets: [{ type: 'invoice', id: 'inv-burst', name: 'I' }],
    }));
    burst.push({ ...(burst.at(-1) as FixtureEvent), actor: { id: 'u-twin', type: 'user', name: 'T' } });
    await store.insertLogs(burst.map(toLogRow));

    const panel = (board: keyof typeof boards, title: string) =>
      boards[board].panels.find((p) => p.title === title)?.targets?.[0]?.rawSql ?? '';
    const listed = (rows: Row[]) => pick(rows, 'event_id', 'actor_id').map(([id, actor]) => `${id} ${actor}`);
    const paged = (page: { events: { id: string; actor: { id: string } }[] }) =>
      page.events.map((e) => `${e.id} ${e.actor.id}`);
    const all = { limit: 100 };
    const everything = paged(await store.search({ tenant }, all));
    expect(everything).toHaveLength(25);
    expect(listed(await run(panel('overview', 'Recent events'), { tenant }))).toEqual(everything);
    expect(listed(await run(panel('overview', 'Event stream'), { tenant }))).toEqual(everything);
    expect(listed(await run(panel('overview', 'Recent failures'), { tenant }))).toEqual(
      paged(await store.search({ tenant, outcome: 'failure' }, all)),
    );
    const timeline = await run(panel('actor', 'Timeline'), { tenant, actor: 'u-burst' });
    expect(pick(timeline, 'event_id').map(([id]) => `${id} u-burst`)).toEqual(
      paged(await store.actorTimeline(tenant, { type: 'user', id: 'u-burst' }, all)),
    );
    const history = { tenant, target_type: 'invoice', target_id: 'inv-burst' };
    expect(listed(await run(panel('target', 'History'), history))).toEqual(
      paged(await store.targetHistory(tenant, { type: 'invoice', id: 'inv-burst' }, all)),
    );
  });

  it('the Event dashboard finds nothing for an event of another tenant or a non-UUID id', async () => {
    const summary = boards.event.panels.find((p) => p.title === 'Summary')?.targets?.[0]?.rawSql ?? '';
    expect(await run(summary, { tenant: 'acme', event_id: ID.globex })).toEqual([]);
    expect(await run(summary, { tenant: 'acme', event_id: 'not-a-uuid' })).toEqual([]);
  });

  it('the duplicate insert of an event is stored twice but shown once (FINAL)', async () => {
    const stored = await store.query<{ n: string }>(
      `SELECT count() AS n FROM ${'{db}'}.audit_events WHERE event_id = {id:UUID}`,
      { id: ID.paid1 },
    );
    expect(stored).toEqual([{ n: '2' }]);
    const fields = boards.event.panels.find((p) => p.title === 'Fields')?.targets?.[0]?.rawSql ?? '';
    const rows = await run(fields, { tenant: 'acme', event_id: ID.paid1 });
    expect(rows.filter((r) => r.field === 'event_id')).toEqual([{ field: 'event_id', value: ID.paid1 }]);
  });
});
