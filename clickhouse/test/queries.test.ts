import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActorRef,
  type AuditStore,
  AuditStoreInputError,
  BASE_SETTINGS,
  CSV_COLUMNS,
  checkEventId,
  decodeCursor,
  type EventFilter,
  type ExportOptions,
  eventIdText,
  type PageOptions,
  type StoredAuditEvent,
  type TargetRef,
  type TimelineOptions,
} from '../src/index.js';
import { PAGE_TEXT_BYTES, search, storageOrderPage } from '../src/query/operations.js';
import { logRow, openTestStore, type TestEvent } from './support.js';

let store: AuditStore;
let cleanup: () => Promise<void>;

const base = Date.parse('2026-11-01T00:00:00.000Z');
const at = (minutes: number) => new Date(base + minutes * 60_000);
const uuid = (n: number) => `0193a5b0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
const ACTIONS = [
  'billing.invoice.paid',
  'billing.invoice.created',
  'auth.session.created',
  'billing_x.y.deleted',
];
const CRUD = ['update', 'create', 'create', 'delete'];

/** 40 events in tenant acme (+ 40 mirror events in tenant evil sharing ids of actors/targets). */
function fixture(tenant: string, offset: number): TestEvent[] {
  return Array.from({ length: 40 }, (_, i) => ({
    id: uuid(offset + i),
    tenant,
    action: ACTIONS[i % 4],
    crud: CRUD[i % 4],
    outcome: i % 5 === 0 ? 'failure' : 'success',
    actor: { id: `u${i % 3}`, type: i % 3 === 2 ? 'api_key' : 'user', name: 'Zoë 🚀' },
    targets:
      i % 2 === 0
        ? [
            { type: 'invoice', id: `inv_${i % 4}`, name: 'Ünïcode' },
            { type: 'customer', id: 'cus_1' },
          ]
        : [],
    occurredAt: at(i),
    metadata: { i, note: 'it\'s "quoted"' },
  }));
}

const ids = (events: StoredAuditEvent[]) => events.map((e) => e.id);
/** A whole export as text, and the count exportEvents returned. */
async function exportText(
  filter: EventFilter,
  format: 'csv' | 'ndjson',
): Promise<{ n: number; text: string }> {
  let text = '';
  const n = await store.exportEvents(filter, {
    format,
    write: (c) => {
      text += c;
    },
  });
  return { n, text };
}

/**
 * Runs `run` while counting what each read of the store's client hands over (JSON bytes of its rows); `onRefused`
 * is called for each read the engine refused.
 */
async function readSizes(run: () => Promise<void>, onRefused?: () => void): Promise<number[]> {
  const sizes: number[] = [];
  const client = store.client;
  const query = client.query.bind(client);
  client.query = (async (params: Parameters<typeof query>[0]) => {
    let result: Awaited<ReturnType<typeof query>>;
    try {
      result = await query(params);
    } catch (error) {
      if (/Limit for result exceeded/.test(String(error))) onRefused?.();
      throw error;
    }
    const json = result.json.bind(result);
    result.json = (async () => {
      const value = await json();
      sizes.push(JSON.stringify(value).length);
      return value;
    }) as typeof result.json;
    return result;
  }) as typeof client.query;
  try {
    await run();
  } finally {
    client.query = query;
  }
  return sizes;
}

beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
  await store.insertLogs([...fixture('acme', 0), ...fixture('evil', 1000)].map(logRow));
  // At-least-once delivery: the same rows again, in another insert.
  await store.insertLogs(fixture('acme', 0).slice(0, 10).map(logRow));
});
afterAll(() => cleanup());

describe('getEvent', () => {
  it('returns the full event parsed with the SDK schema, plus stored-only fields', async () => {
    const e = await store.getEvent('acme', uuid(0));
    expect(e).toMatchObject({
      id: uuid(0),
      tenant: 'acme',
      action: ACTIONS[0],
      crud: 'update',
      outcome: 'failure',
      actor: { id: 'u0', type: 'user', name: 'Zoë 🚀' },
      targets: [
        { type: 'invoice', id: 'inv_0', name: 'Ünïcode' },
        { type: 'customer', id: 'cus_1' },
      ],
      occurredAt: at(0),
      lastOccurredAt: at(0),
      metadata: { i: 0, note: 'it\'s "quoted"' },
      version: 1,
      count: 1,
      serviceName: 'billing',
      malformed: [],
      context: {},
    });
    expect(e?.receivedAt).toBeInstanceOf(Date);
  });

  it('is tenant-scoped and returns undefined for unknown or non-uuid ids', async () => {
    expect(await store.getEvent('evil', uuid(0))).toBeUndefined();
    expect(await store.getEvent('acme', uuid(999))).toBeUndefined();
    expect(await store.getEvent('acme', "' OR 1=1 --")).toBeUndefined();
  });

  it('finds an id as a person pastes it (upper case, no dashes, spaces or a line break around it), as the Event dashboard does', async () => {
    const id = uuid(0);
    const pasted = [
      id.toUpperCase(),
      id.replaceAll('-', ''),
      ` ${id}\n`,
      `\t${id.replaceAll('-', '').toUpperCase()}\r\n`,
    ];
    for (const text of pasted)
      expect((await store.getEvent('acme', text))?.id, JSON.stringify(text)).toBe(id);
    expect(eventIdText(` ${id.toUpperCase()} `)).toBe(id);
    // Other shapes name no event, as toUUIDOrNull (the dashboard) reads them: a dash in the wrong place, some
    // dashes only, a missing digit, spaces inside, non-ASCII space.
    const some = [id.replace('-', ''), id.replaceAll('-', '').replace(/^(.{12})/, '$1-')];
    for (const text of [
      `${id.slice(0, 7)}-${id.slice(7)}`,
      ...some,
      id.slice(1),
      id.replace('-', ' '),
      `\u00a0${id}`,
    ]) {
      expect(eventIdText(text), JSON.stringify(text)).toBeUndefined();
      expect(await store.getEvent('acme', text), JSON.stringify(text)).toBeUndefined();
    }
    // checkEventId: UUID text as reads return it, which toUUID takes as it is.
    expect([id, id.toUpperCase(), ...pasted.slice(1)].map(checkEventId)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('an id sent again at another time is a second row: lists show both, getEvent the one received first', async () => {
    const id = uuid(7000);
    const first = { id, tenant: 'resent', actor: { id: 'u1', type: 'user' }, outcomeReason: 'first' };
    // The copy received second sorts first in the table (earlier time): LIMIT 1 alone would return it.
    await store.insertLogs([logRow({ ...first, occurredAt: new Date('2026-11-01T00:00:05.000Z') })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.insertLogs([
      logRow({ ...first, outcomeReason: 'second', occurredAt: new Date('2026-11-01T00:00:00.000Z') }),
    ]);
    expect((await store.search({ tenant: 'resent' })).events.map((e) => e.outcomeReason)).toEqual([
      'first',
      'second',
    ]);
    for (let i = 0; i < 3; i++) expect((await store.getEvent('resent', id))?.outcomeReason).toBe('first');
  });

  it('copies of an id in one insert (the same received_at) go by time, then actor id: every read the same one', async () => {
    const id = uuid(7100);
    const copy = (actor: string) =>
      logRow({
        id,
        tenant: 'resent-batch',
        actor: { id: actor, type: 'user' },
        outcomeReason: actor,
        occurredAt: new Date('2026-11-01T00:00:05.000Z'),
      });
    // Order within the insert decided the winner before (the engine's row order).
    await store.insertLogs([copy('zed'), copy('amy'), copy('mia')]);
    for (let i = 0; i < 3; i++) expect((await store.getEvent('resent-batch', id))?.outcomeReason).toBe('amy');
  });
});

describe('timelines and search', () => {
  it('actor timeline: newest first, only that actor, no duplicates', async () => {
    const page = await store.actorTimeline('acme', { id: 'u0' }, { limit: 100 });
    const expected = fixture('acme', 0)
      .filter((e) => e.actor?.id === 'u0')
      .map((e) => e.id)
      .reverse();
    expect(ids(page.events)).toEqual(expected);
    expect(page.nextCursor).toBeUndefined();
    expect((await store.actorTimeline('acme', { id: 'u2', type: 'user' })).events).toEqual([]);
    expect((await store.actorTimeline('acme', { id: 'u2', type: 'api_key' })).events).toHaveLength(13);
  });

  it('target history: by type and id, tenant-scoped', async () => {
    const page = await store.targetHistory('acme', { type: 'invoice', id: 'inv_2' });
    expect(ids(page.events)).toEqual(
      fixture('acme', 0)
        .filter((e) => e.targets?.[0]?.id === 'inv_2')
        .map((e) => e.id)
        .reverse(),
    );
    expect((await store.targetHistory('acme', { type: 'customer', id: 'inv_2' })).events).toEqual([]);
    expect((await store.targetHistory('acme', { type: 'customer', id: 'cus_1' })).events).toHaveLength(20);
    for (const e of (await store.targetHistory('evil', { type: 'customer', id: 'cus_1' })).events)
      expect(e.tenant).toBe('evil');
  });

  it('search: action prefix wildcard, exact actions, crud, outcome, actor + target, time range', async () => {
    const all = fixture('acme', 0);
    const check = async (
      filter: Parameters<AuditStore['search']>[0],
      keep: (e: TestEvent, i: number) => boolean,
    ) => {
      const got = await store.search(filter, { limit: 1000 });
      expect(ids(got.events)).toEqual(
        all
          .filter(keep)
          .map((e) => e.id)
          .reverse(),
      );
    };
    await check({ tenant: 'acme', actions: ['billing.*'] }, (e) => e.action?.startsWith('billing.') ?? false);
    await check(
      { tenant: 'acme', actions: ['auth.session.created', 'billing_x.*'] },
      (e) => !e.action?.startsWith('billing.'),
    );
    await check({ tenant: 'acme', actions: ['*'] }, () => true);
    await check({ tenant: 'acme', crud: ['create'] }, (e) => e.crud === 'create');
    await check({ tenant: 'acme', outcome: 'failure' }, (e) => e.outcome === 'failure');
    await check(
      { tenant: 'acme', actor: { id: 'u1' }, target: { type: 'customer', id: 'cus_1' } },
      (_, i) => i % 3 === 1 && i % 2 === 0,
    );
    await check(
      { tenant: 'acme', actor: { id: 'u1' }, actions: ['billing.*'] },
      (e, i) => i % 3 === 1 && (e.action?.startsWith('billing.') ?? false),
    );
    await check({ tenant: 'acme', from: at(10), to: at(20) }, (_, i) => i >= 10 && i < 20);
    await check(
      { tenant: 'acme', target: { type: 'invoice', id: 'inv_0' }, from: at(8), to: at(30), crud: ['update'] },
      (_, i) => i % 4 === 0 && i >= 8 && i < 30,
    );
  });

  it('counts by action and over time (deduplicated, tenant-scoped)', async () => {
    expect(await store.countByAction({ tenant: 'acme' })).toEqual(
      [...ACTIONS].sort().map((action) => ({ action, count: 10 })),
    );
    expect(await store.countByAction({ tenant: 'acme', actions: ['billing.*'], outcome: 'failure' })).toEqual(
      [
        { action: 'billing.invoice.created', count: 2 },
        { action: 'billing.invoice.paid', count: 2 },
      ],
    );
    const hours = await store.countOverTime({ tenant: 'acme' }, 'hour');
    expect(hours).toEqual([{ start: at(0), count: 40 }]);
    const minutes = await store.countOverTime({ tenant: 'acme', from: at(5), to: at(8) }, 'minute');
    expect(minutes).toEqual([5, 6, 7].map((m) => ({ start: at(m), count: 1 })));
    await expect(store.countOverTime({ tenant: 'acme' }, 'week' as 'day')).rejects.toThrow(/interval/);
  });

  it('counts over time past 2106 (where a 32-bit DateTime bucket wrapped) up to the last time stored', async () => {
    const times = [
      '2106-02-07T06:28:15.000Z',
      '2106-02-07T06:28:16.000Z',
      '2200-06-15T12:34:56.789Z',
      '2262-04-11T23:47:16.854Z',
    ];
    await store.insertLogs(
      times.map((iso, i) =>
        logRow({
          id: uuid(5000 + i),
          tenant: 'far',
          action: 'billing.invoice.paid',
          crud: 'update',
          outcome: 'success',
          actor: { id: 'u1', type: 'user' },
          targets: [],
          occurredAt: new Date(iso),
          metadata: {},
        }),
      ),
    );
    const iso = (buckets: { start: Date; count: number }[]) =>
      buckets.map((b) => [b.start.toISOString(), b.count]);
    expect(iso(await store.countOverTime({ tenant: 'far' }, 'day'))).toEqual([
      ['2106-02-07T00:00:00.000Z', 2],
      ['2200-06-15T00:00:00.000Z', 1],
      ['2262-04-11T00:00:00.000Z', 1],
    ]);
    expect(iso(await store.countOverTime({ tenant: 'far' }, 'hour'))).toEqual([
      ['2106-02-07T06:00:00.000Z', 2],
      ['2200-06-15T12:00:00.000Z', 1],
      ['2262-04-11T23:00:00.000Z', 1],
    ]);
    expect(
      iso(await store.countOverTime({ tenant: 'far', from: new Date('2200-01-01T00:00:00Z') }, 'minute')),
    ).toEqual([
      ['2200-06-15T12:34:00.000Z', 1],
      ['2262-04-11T23:47:00.000Z', 1],
    ]);
  });
});

describe('tenant isolation', () => {
  it("no operation returns another tenant's rows, even with the same actors, targets and actions", async () => {
    const evil = new Set(fixture('evil', 1000).map((e) => e.id));
    const pages = [
      await store.search({ tenant: 'acme' }, { limit: 1000 }),
      await store.search(
        { tenant: 'acme', actions: ['*'], crud: ['create', 'update', 'delete'] },
        { limit: 1000 },
      ),
      await store.actorTimeline('acme', { id: 'u0' }),
      await store.actorTimeline('acme', { id: 'u1', type: 'user' }),
      await store.targetHistory('acme', { type: 'customer', id: 'cus_1' }),
      await store.targetHistory('acme', { type: 'invoice', id: 'inv_0' }, { actor: { id: 'u0' } }),
    ];
    for (const page of pages) {
      expect(page.events.length).toBeGreaterThan(0);
      for (const e of page.events) {
        expect(e.tenant).toBe('acme');
        expect(evil.has(e.id)).toBe(false);
      }
    }
    expect((await store.countByAction({ tenant: 'acme' })).reduce((n, c) => n + c.count, 0)).toBe(40);
    expect((await store.countOverTime({ tenant: 'evil' }, 'day')).reduce((n, c) => n + c.count, 0)).toBe(40);
    const { text: exported } = await exportText({ tenant: 'evil' }, 'ndjson');
    const tenants = new Set(
      exported
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).tenant),
    );
    expect([...tenants]).toEqual(['evil']);
    expect(await store.search({ tenant: 'nobody' })).toEqual({ events: [] });
  });
});

describe('cursor pagination', () => {
  it('walks every page exactly once while new events keep arriving', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = await store.search({ tenant: 'acme' }, { limit: 7, ...(cursor && { cursor }) });
      seen.push(...ids(page.events));
      // New events, newer and older than the page boundary, plus a retry of an already-seen one.
      await store.insertLogs([
        logRow({ tenant: 'acme-live', id: uuid(5000 + n), occurredAt: at(100 + n) }),
        logRow({ ...fixture('acme', 0)[0], occurredAt: at(0) }),
      ]);
      n += 1;
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(
      fixture('acme', 0)
        .map((e) => e.id)
        .reverse(),
    );
    expect(n).toBe(6);
  });

  it('paginates actor and target timelines too', async () => {
    const first = await store.targetHistory('acme', { type: 'customer', id: 'cus_1' }, { limit: 15 });
    expect(first.nextCursor).toBeDefined();
    const second = await store.targetHistory(
      'acme',
      { type: 'customer', id: 'cus_1' },
      { limit: 15, cursor: first.nextCursor },
    );
    expect([...ids(first.events), ...ids(second.events)]).toEqual(
      fixture('acme', 0)
        .filter((_, i) => i % 2 === 0)
        .map((e) => e.id)
        .reverse(),
    );
    expect(decodeCursor(first.nextCursor as string).eventId).toBe(first.events[14]?.id);
  });

  it('takes a page of up to 10,000 events (the limit itself included)', async () => {
    expect((await store.search({ tenant: 'acme' }, { limit: 10_000 })).events).toHaveLength(40);
  });

  it('a page of large events holds at most PAGE_TEXT_BYTES of event text, with a cursor: paging on reads each once', async () => {
    const blob = 'y'.repeat(100_000);
    const n = 300;
    await store.insertLogs(
      Array.from({ length: n }, (_, i) =>
        logRow({ id: uuid(9900 + i), tenant: 'page-large', metadata: { blob, i }, occurredAt: at(i) }),
      ),
    );
    const pages: StoredAuditEvent[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.search({ tenant: 'page-large' }, { limit: 10_000, cursor });
      pages.push(page.events);
      cursor = page.nextCursor;
    } while (cursor !== undefined && pages.length < 10);
    // As many ~100 KB rows as fit in 16 MiB: ~167 a page.
    const [first = []] = pages;
    expect(first.length).toBeGreaterThan(150);
    expect(first.length).toBeLessThan(PAGE_TEXT_BYTES / 100_000);
    expect(pages.map((p) => p.length).reduce((a, b) => a + b)).toBe(n);
    expect(pages.flat().map((e) => e.metadata)).toEqual(
      Array.from({ length: n }, (_, i) => ({ blob, i: n - 1 - i })),
    );
    // Small events still come 10,000 to a page (the bound is on text, not rows).
    expect((await store.search({ tenant: 'acme' }, { limit: 10_000 })).events).toHaveLength(40);
  });

  it('a page is sized before it is read: small events then large ones stay within the bound, in two reads', async () => {
    const blob = 'z'.repeat(100_000);
    await store.insertLogs([
      // 200 large events, older than 150 small ones (a first read of small rows must not size the rest).
      ...Array.from({ length: 200 }, (_, i) =>
        logRow({ id: uuid(9400 + i), tenant: 'page-mixed', metadata: { blob }, occurredAt: at(i) }),
      ),
      ...Array.from({ length: 150 }, (_, i) =>
        logRow({ id: uuid(9700 + i), tenant: 'page-mixed', metadata: { i }, occurredAt: at(300 + i) }),
      ),
      // One large event among small ones: the rest of the page is not read in parts sized from it.
      ...Array.from({ length: 300 }, (_, i) =>
        logRow({
          id: uuid(12_000 + i),
          tenant: 'page-outlier',
          metadata: i === 250 ? { blob } : { i },
          occurredAt: at(i),
        }),
      ),
    ]);
    const client = store.client;
    const query = client.query.bind(client);
    let reads = 0;
    client.query = ((params) => {
      reads += 1;
      return query(params);
    }) as typeof client.query;
    try {
      const mixed = await store.search({ tenant: 'page-mixed' }, { limit: 10_000 });
      expect(reads).toBe(2);
      const text = mixed.events.reduce((sum, e) => sum + JSON.stringify(e.metadata).length, 0);
      expect(text).toBeLessThanOrEqual(PAGE_TEXT_BYTES);
      expect(mixed.events.length).toBeGreaterThan(150 + 150);
      expect(mixed.nextCursor).toBeDefined();
      const rest = await store.search({ tenant: 'page-mixed' }, { limit: 10_000, cursor: mixed.nextCursor });
      expect(rest.nextCursor).toBeUndefined();
      expect(new Set([...ids(mixed.events), ...ids(rest.events)]).size).toBe(350);
      reads = 0;
      const outlier = await store.search({ tenant: 'page-outlier' }, { limit: 10_000 });
      expect(outlier.events).toHaveLength(300);
      expect(outlier.nextCursor).toBeUndefined();
      expect(reads).toBe(2);
    } finally {
      client.query = query;
    }
  });

  it('a page of the default size is bounded too: large events make it shorter, every view, paging reads each once', async () => {
    const blob = 'b'.repeat(500_000);
    const n = 60;
    await store.insertLogs(
      Array.from({ length: n }, (_, i) =>
        logRow({
          id: uuid(17_000 + i),
          tenant: 'page-default',
          actor: { id: 'big', type: 'user' },
          targets: [{ type: 'doc', id: 'd1' }],
          metadata: { blob, i },
          occurredAt: at(i),
        }),
      ),
    );
    const reads = {
      search: (cursor?: string) => store.search({ tenant: 'page-default' }, { cursor }),
      actor: (cursor?: string) =>
        store.actorTimeline('page-default', { type: 'user', id: 'big' }, { cursor }),
      target: (cursor?: string) => store.targetHistory('page-default', { type: 'doc', id: 'd1' }, { cursor }),
    };
    for (const [name, read] of Object.entries(reads)) {
      const pages: StoredAuditEvent[][] = [];
      let cursor: string | undefined;
      do {
        const page = await read(cursor);
        pages.push(page.events);
        cursor = page.nextCursor;
      } while (cursor !== undefined && pages.length < 10);
      // ~33 events of 500 KB fit in 16 MiB: the default limit (100) would read all 60, ~30 MB.
      const [first = []] = pages;
      expect(first.length, name).toBeGreaterThan(25);
      expect(JSON.stringify(first).length, name).toBeLessThanOrEqual(PAGE_TEXT_BYTES);
      expect(
        pages.flat().map((e) => (e.metadata as { i: number }).i),
        name,
      ).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
    }
  });

  it('an export keeps every read bounded when large events follow small ones (both orders)', async () => {
    const blob = 'e'.repeat(300_000);
    await store.insertLogs([
      // Newest, and first in storage order (actor "a"): small events that make the pages grow.
      ...Array.from({ length: 400 }, (_, i) =>
        logRow({
          id: uuid(18_000 + i),
          tenant: 'export-mixed',
          actor: { id: 'a', type: 'user' },
          occurredAt: at(1000 + i),
        }),
      ),
      ...Array.from({ length: 150 }, (_, i) =>
        logRow({
          id: uuid(18_500 + i),
          tenant: 'export-mixed',
          actor: { id: 'b', type: 'user' },
          metadata: { blob, i },
          occurredAt: at(i),
        }),
      ),
    ]);
    for (const order of ['time', 'actor'] as const) {
      const seen: string[] = [];
      const sizes = await readSizes(async () => {
        const n = await store.exportEvents(
          { tenant: 'export-mixed' },
          {
            format: 'ndjson',
            order,
            pageSize: 1000,
            write: (chunk) => {
              for (const line of chunk.split('\n'))
                if (line) seen.push((JSON.parse(line) as { id: string }).id);
            },
          },
        );
        expect(n, order).toBe(550);
      });
      expect(new Set(seen).size, order).toBe(550);
      // Without the bound, the page after the small events would read all 150 large ones: ~45 MB.
      expect(Math.max(...sizes), order).toBeLessThanOrEqual(PAGE_TEXT_BYTES * 1.1);
    }
  });

  it('a target page refused by the bound reads only its own rows again (not large events sharing its keys)', async () => {
    const blob = 'k'.repeat(1_000_000);
    await store.insertLogs(
      Array.from({ length: 10 }, (_, i) => [
        logRow({
          id: uuid(19_000 + i),
          tenant: 'page-shared-keys',
          targets: [{ type: 'doc', id: 'd' }],
          occurredAt: at(i),
        }),
        // A batch job of the same actor, in the same milliseconds, on other targets: the same keys.
        ...Array.from({ length: 3 }, (_, k) =>
          logRow({
            id: uuid(19_100 + i * 3 + k),
            tenant: 'page-shared-keys',
            targets: [{ type: 'doc', id: `other-${k}` }],
            metadata: { blob },
            occurredAt: at(i),
          }),
        ),
      ]).flat(),
    );
    const sizes = await readSizes(async () => {
      for (const read of [
        () => store.targetHistory('page-shared-keys', { type: 'doc', id: 'd' }, { limit: 10 }),
        () => store.search({ tenant: 'page-shared-keys', target: { type: 'doc', id: 'd' } }, { limit: 150 }),
      ]) {
        const page = await read();
        expect(page.events.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => uuid(19_009 - i)));
      }
    });
    // The 30 MB of other events never reach the process: the bounded read is refused, the rest are small.
    expect(Math.max(...sizes)).toBeLessThan(100_000);
  });

  it('a target page read after sizing still finds rows past keys of events re-sent without the target', async () => {
    const blob = 's'.repeat(20_000);
    // Older: the target's one real event; newer: 6 events re-sent (same id, actor and time) without the target,
    // whose keys stay in the by-target table.
    const stale = Array.from({ length: 6 }, (_, i) => ({ id: uuid(19_500 + i), occurredAt: at(100 + i) }));
    await store.insertLogs([
      logRow({
        id: uuid(19_400),
        tenant: 'page-stale',
        targets: [{ type: 'doc', id: 's' }],
        metadata: { blob },
        occurredAt: at(1),
      }),
      ...stale.map((e) => logRow({ ...e, tenant: 'page-stale', targets: [{ type: 'doc', id: 's' }] })),
    ]);
    await store.insertLogs(
      stale.map((e) => logRow({ ...e, tenant: 'page-stale', targets: [{ type: 'doc', id: 'x' }] })),
    );
    const page = await store.search(
      { tenant: 'page-stale', target: { type: 'doc', id: 's' } },
      { limit: 150 },
    );
    expect(page.events.map((e) => e.id)).toEqual([uuid(19_400)]);
    expect(page.nextCursor).toBeUndefined();
  });

  it('a storage-order export past an event over the bound reads it alone, without a chain of refused reads', async () => {
    await store.insertLogs([
      ...Array.from({ length: 1200 }, (_, i) =>
        logRow({
          id: uuid(20_000 + i),
          tenant: 'export-one-huge',
          actor: { id: 'a', type: 'user' },
          occurredAt: at(i),
        }),
      ),
      logRow({
        id: uuid(21_500),
        tenant: 'export-one-huge',
        actor: { id: 'b', type: 'user' },
        metadata: { blob: 'h'.repeat(17 * 1024 * 1024) },
        occurredAt: at(5),
      }),
      ...Array.from({ length: 300 }, (_, i) =>
        logRow({
          id: uuid(22_000 + i),
          tenant: 'export-one-huge',
          actor: { id: 'c', type: 'user' },
          occurredAt: at(i),
        }),
      ),
    ]);
    const ids: string[] = [];
    let refused = 0;
    const sizes = await readSizes(
      async () => {
        const n = await store.exportEvents(
          { tenant: 'export-one-huge' },
          {
            format: 'ndjson',
            order: 'actor',
            pageSize: 1000,
            write: (chunk) => {
              for (const line of chunk.split('\n'))
                if (line) ids.push((JSON.parse(line) as { id: string }).id);
            },
          },
        );
        expect(n).toBe(1501);
      },
      () => {
        refused += 1;
      },
    );
    expect(ids).toEqual([
      ...Array.from({ length: 1200 }, (_, i) => uuid(20_000 + i)),
      uuid(21_500),
      ...Array.from({ length: 300 }, (_, i) => uuid(22_000 + i)),
    ]);
    expect(refused).toBeLessThanOrEqual(2);
    expect(sizes.length).toBeLessThan(15);
  });

  it('a sized storage-order page does not end the export when an event lands inside it between its two reads', async () => {
    const event = (n: number, ms: number) =>
      logRow({
        id: uuid(23_000 + n),
        tenant: 'storage-race',
        actor: { id: 'a', type: 'user' },
        occurredAt: new Date(base + ms),
      });
    await store.insertLogs([event(1, 10), event(2, 20), event(3, 30)]);
    const client = store.client;
    const query = client.query.bind(client);
    let inserted = false;
    client.query = (async (params: Parameters<typeof query>[0]) => {
      const result = await query(params);
      // Right after the sizing read: an event between the first two in storage order.
      if (!inserted && String(params.query).includes('AS bytes')) {
        inserted = true;
        await store.insertLogs([event(4, 15)]);
      }
      return result;
    }) as typeof client.query;
    let page: Awaited<ReturnType<typeof storageOrderPage>>;
    try {
      page = await storageOrderPage(
        { client: store.client, db: store.db },
        { tenant: 'storage-race' },
        150,
        undefined,
        true,
      );
    } finally {
      client.query = query;
    }
    expect(inserted).toBe(true);
    expect(page.events.map((e) => e.id)).toEqual([uuid(23_001), uuid(23_004), uuid(23_002)]);
    expect(page.more).toBe(true);
    const rest = await storageOrderPage(
      { client: store.client, db: store.db },
      { tenant: 'storage-race' },
      150,
      page.last,
    );
    expect(rest.events.map((e) => e.id)).toEqual([uuid(23_003)]);
  });

  it('the bound counts every column a page carries (a long request id, many targets)', async () => {
    const longId = 'r'.repeat(200_000);
    const many = Array.from({ length: 5_000 }, (_, k) => ({ type: 't', id: String(k) }));
    await store.insertLogs([
      ...Array.from({ length: 120 }, (_, i) =>
        logRow({ id: uuid(13_000 + i), tenant: 'page-columns', requestId: longId, occurredAt: at(i) }),
      ),
      ...Array.from({ length: 120 }, (_, i) =>
        logRow({ id: uuid(14_000 + i), tenant: 'page-targets', targets: many, occurredAt: at(i) }),
      ),
      // Text JSON escapes: a control character takes 6 bytes in the page, a quote 2.
      ...Array.from({ length: 220 }, (_, i) =>
        logRow({
          id: uuid(16_000 + i),
          tenant: 'page-escapes',
          requestId: '\u0001'.repeat(100_000),
          userAgent: '"'.repeat(1_000),
          occurredAt: at(i),
        }),
      ),
    ]);
    for (const tenant of ['page-columns', 'page-targets', 'page-escapes']) {
      const page = await store.search({ tenant }, { limit: 10_000 });
      expect(JSON.stringify(page.events).length).toBeLessThanOrEqual(PAGE_TEXT_BYTES);
      expect(page.nextCursor).toBeDefined();
    }
  });

  it('a page of two reads keeps its cursor when the last row was re-sent at another time between them', async () => {
    await store.insertLogs(
      Array.from({ length: 150 }, (_, i) =>
        logRow({
          id: uuid(15_000 + i),
          tenant: 'page-race',
          actor: { id: 'u1', type: 'user' },
          occurredAt: at(i),
        }),
      ),
    );
    const resent = new Date(at(0).getTime() + 500);
    const client = store.client;
    const query = client.query.bind(client);
    let reads = 0;
    client.query = (async (params) => {
      reads += 1;
      // Between the sizing read and the full read: the oldest event again, 500 ms later (same id and actor), so
      // the full read ends on it, where the sizing read ended on the original.
      if (reads === 2)
        await store.insertLogs([
          logRow({
            id: uuid(15_000),
            tenant: 'page-race',
            actor: { id: 'u1', type: 'user' },
            occurredAt: resent,
          }),
        ]);
      return query(params);
    }) as typeof client.query;
    let first: Awaited<ReturnType<typeof store.search>>;
    try {
      first = await store.search({ tenant: 'page-race' }, { limit: 1_000 });
    } finally {
      client.query = query;
    }
    expect(first.events).toHaveLength(150);
    expect(first.nextCursor).toBeDefined();
    const rest = await store.search({ tenant: 'page-race' }, { limit: 1_000, cursor: first.nextCursor });
    // Both rows of the re-sent id: the original (oldest) is on the next page, not lost off the end.
    expect(
      [...first.events, ...rest.events].filter((e) => e.id === uuid(15_000)).map((e) => e.occurredAt),
    ).toEqual([resent, at(0)]);
  });

  it('a cursor pages only the query that returned it: another tenant or other filters are refused', async () => {
    const filter = { tenant: 'acme', actions: ['billing.*', 'auth.session.created'] };
    const first = await store.search(filter, { limit: 3 });
    const cursor = first.nextCursor as string;
    // The same query, its lists in another order: the same pages.
    const again = await store.search(
      { tenant: 'acme', actions: ['auth.session.created', 'billing.*'] },
      { cursor, limit: 3 },
    );
    expect(again.events).toEqual((await store.search(filter, { cursor, limit: 3 })).events);
    // Another time range is the same query (a client may send to=now with every page).
    expect((await store.search({ ...filter, to: new Date() }, { cursor, limit: 3 })).events).toEqual(
      again.events,
    );
    // A cursor of the earlier format says where it comes from.
    await expect(
      store.search(filter, { cursor: Buffer.from(`[1,5,"${again.events[0]?.id}"]`).toString('base64url') }),
    ).rejects.toThrow(/^cursor: comes from an earlier release/);
    const elsewhere: [string, () => Promise<unknown>][] = [
      ['another tenant', () => store.search({ ...filter, tenant: 'evil' }, { cursor })],
      ['fewer filters', () => store.search({ tenant: 'acme' }, { cursor })],
      ['a target', () => store.targetHistory('acme', { type: 'customer', id: 'cus_1' }, { cursor })],
      ['an actor', () => store.actorTimeline('acme', { id: 'user_1' }, { cursor })],
      ['an outcome', () => store.search({ ...filter, outcome: 'failure' }, { cursor })],
      ['a crud class', () => store.search({ ...filter, crud: ['update'] }, { cursor })],
    ];
    // An actor's cursor with the actor's type added (or the type changed) is another query too.
    const actorPage = await store.actorTimeline('acme', { id: 'u0' }, { limit: 1 });
    const actorCursor = actorPage.nextCursor;
    expect(actorCursor).toBeDefined();
    elsewhere.push([
      'an actor type',
      () => store.actorTimeline('acme', { id: 'u0', type: 'user' }, { cursor: actorCursor }),
    ]);
    // Once more with the actor query itself: the same cursor pages it.
    expect(
      (await store.actorTimeline('acme', { id: 'u0' }, { limit: 1, cursor: actorCursor })).events,
    ).toHaveLength(1);
    for (const [what, read] of elsewhere) {
      const error = await read().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(AuditStoreInputError);
      expect((error as AuditStoreInputError).field, what).toBe('cursor');
      expect((error as Error).message, what).toMatch(/^cursor: was returned for another query/);
    }
  });

  it('target history pages through events that share an actor and a millisecond', async () => {
    // The by-target table keys on (actor_id, occurred_at): these events share keys, some touch other targets.
    const when = at(500);
    const doc = { type: 'document', id: 'doc_same_ms' };
    const events: TestEvent[] = [
      ...[1, 2, 3].map((n) => ({
        id: uuid(9000 + n),
        actor: { id: 'u_same', type: 'user' },
        targets: [doc],
      })),
      { id: uuid(9004), actor: { id: 'u_same', type: 'user' }, targets: [{ type: 'document', id: 'other' }] },
      ...[5, 6].map((n) => ({
        id: uuid(9000 + n),
        actor: { id: `u_other${n}`, type: 'user' },
        targets: [doc],
      })),
      { id: uuid(9007), actor: { id: 'u_same', type: 'user' }, targets: [doc], occurredAt: at(499) },
    ].map((e) => ({ occurredAt: when, tenant: 'same-ms', ...e }));
    await store.insertLogs(events.map(logRow));
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.targetHistory('same-ms', doc, { limit, ...(cursor && { cursor }) });
        expect(page.events.length).toBeLessThanOrEqual(limit);
        seen.push(...ids(page.events));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([9006, 9005, 9003, 9002, 9001, 9007].map(uuid));
    }
  });

  it('pages through rows of one id and millisecond under different actors (an id re-sent under another actor)', async () => {
    // Each is a row of its own (a different key); a cursor of (occurred_at, event_id) alone skipped all but one
    // of them on a page boundary: search, target history and the default export lost rows.
    const id = uuid(9500);
    const doc = { type: 'document', id: 'doc_resent' };
    const actors = Array.from({ length: 30 }, (_, i) => `actor_${String(i).padStart(2, '0')}`);
    await store.insertLogs(
      actors.map((a) =>
        logRow({
          id,
          tenant: 'resent-actors',
          actor: { id: a, type: 'user' },
          targets: [doc],
          occurredAt: at(600),
        }),
      ),
    );
    const walk = async (
      limit: number,
      page: (cursor?: string) => Promise<{ events: StoredAuditEvent[]; nextCursor?: string }>,
    ) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const p = await page(cursor);
        expect(p.events.length).toBeLessThanOrEqual(limit);
        seen.push(...p.events.map((e) => e.actor.id));
        cursor = p.nextCursor;
      } while (cursor);
      return seen.sort();
    };
    for (const limit of [1, 7]) {
      expect(
        await walk(limit, (cursor) =>
          store.search({ tenant: 'resent-actors' }, { limit, ...(cursor && { cursor }) }),
        ),
      ).toEqual(actors);
      expect(
        await walk(limit, (cursor) =>
          store.targetHistory('resent-actors', doc, { limit, ...(cursor && { cursor }) }),
        ),
      ).toEqual(actors);
      expect(
        await walk(limit, (cursor) =>
          store.targetHistory('resent-actors', doc, { limit, crud: ['update'], ...(cursor && { cursor }) }),
        ),
      ).toEqual(actors);
    }
    let text = '';
    const n = await store.exportEvents(
      { tenant: 'resent-actors' },
      {
        format: 'ndjson',
        pageSize: 4,
        write: (c) => {
          text += c;
        },
      },
    );
    expect(n).toBe(30);
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).actor.id)
        .sort(),
    ).toEqual(actors);
    // A cursor of the previous format (no actor hash) still pages, as it did.
    const v2 = Buffer.from(
      `[2,${at(600).getTime() + 1},"${id}","${decodeCursor((await store.search({ tenant: 'resent-actors' }, { limit: 1 })).nextCursor as string).query}"]`,
    ).toString('base64url');
    expect((await store.search({ tenant: 'resent-actors' }, { cursor: v2 })).events).toHaveLength(30);
  });

  it('target history finds its events behind many other events sharing their key', async () => {
    // One actor, one millisecond: 9 events of other targets sort first (higher ids), more than a page's read of
    // limit × TARGET_PAGE_SLACK rows takes, so the page is read again with the windowed key scan.
    const when = at(600);
    const doc = { type: 'document', id: 'doc_crowded' };
    const events: TestEvent[] = [
      { id: uuid(9100), targets: [doc] },
      ...Array.from({ length: 9 }, (_, n) => ({
        id: uuid(9101 + n),
        targets: [{ type: 'document', id: `o${n}` }],
      })),
      { id: uuid(9099), targets: [doc], occurredAt: at(599) },
    ].map((e) => ({ occurredAt: when, tenant: 'crowded', actor: { id: 'u_busy', type: 'user' }, ...e }));
    await store.insertLogs(events.map(logRow));
    for (const limit of [1, 2]) {
      const first = await store.targetHistory('crowded', doc, { limit });
      expect(ids(first.events)).toEqual([9100, 9099].slice(0, limit).map(uuid));
      if (limit === 1) {
        const second = await store.targetHistory('crowded', doc, { limit, cursor: first.nextCursor });
        expect(ids(second.events)).toEqual([uuid(9099)]);
      }
    }
  });

  it('target history pages past a key left behind by an event re-sent with other targets', async () => {
    // The re-send (same id, actor and time: one row after FINAL) no longer names the document, but the
    // document's key row for it stays in audit_target_keys, among the newest keys of every page below.
    const doc = { type: 'document', id: 'doc_resent' };
    const tenant = 'resent';
    const ev = (n: number, minute: number, targets: TestEvent['targets']): TestEvent => ({
      id: uuid(9200 + n),
      tenant,
      actor: { id: 'u_resend', type: 'user' },
      targets,
      occurredAt: at(800 + minute),
    });
    await store.insertLogs([0, 1, 2, 3, 4].map((n) => ev(n, n, [doc])).map(logRow));
    await store.insertLogs([ev(10, 10, [doc])].map(logRow));
    await store.insertLogs([ev(10, 10, [{ type: 'document', id: 'elsewhere' }])].map(logRow));
    expect((await store.getEvent(tenant, uuid(9210)))?.targets).toEqual([
      { type: 'document', id: 'elsewhere' },
    ]);
    // Limits of 5 and below need the exact re-read; 6 and 10 take every key at once.
    for (const limit of [1, 2, 3, 5, 6, 10]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.targetHistory(tenant, doc, { limit, ...(cursor && { cursor }) });
        expect(page.events.length).toBeLessThanOrEqual(limit);
        seen.push(...ids(page.events));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen, `limit ${limit}`).toEqual([4, 3, 2, 1, 0].map((n) => uuid(9200 + n)));
    }
  });
});

describe('events dated before 1970 (a Go or Java exporter casts such times; SQL inserts)', () => {
  it('page through cursors and count in their own UTC buckets', async () => {
    // insertLogs takes epoch nanoseconds from 0 on: written as the exporter would, straight into otel_logs.
    const rows = Array.from({ length: 5 }, (_, i) => ({
      ...logRow({ id: uuid(90_000 + i), tenant: 'pre1970', occurredAt: new Date(0) }),
      Timestamp: `1960-01-01 00:00:0${i}.000000000`,
    }));
    await store.client.insert({
      table: `${store.db}.otel_logs`,
      values: rows,
      format: 'JSONEachRow',
      clickhouse_settings: BASE_SETTINGS,
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.search({ tenant: 'pre1970' }, { limit: 2, ...(cursor && { cursor }) });
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => uuid(90_000 + i)));
    for (const interval of ['minute', 'day'] as const)
      expect(await store.countOverTime({ tenant: 'pre1970' }, interval)).toEqual([
        { start: new Date('1960-01-01T00:00:00Z'), count: 5 },
      ]);
  });
});

describe('target history: many actors in one millisecond, over several parts', () => {
  it('pages through every event (DISTINCT with LIMIT … WITH TIES dropped tied keys)', async () => {
    // Which keys the engine dropped depended on the random event ids: several rounds make a miss near certain.
    const when = at(700).getTime();
    const target = { type: 'invoice', id: 'inv_ties' };
    for (let round = 0; round < 8; round++) {
      const tenant = `ties-${round}`;
      const ev = (actor: string, ms: number): TestEvent => ({
        id: crypto.randomUUID(),
        tenant,
        actor: { id: actor, type: 'user' },
        targets: [target],
        occurredAt: new Date(when + ms),
      });
      // Four actors in one millisecond, two of them re-sent in later parts (unmerged duplicates), one also later.
      const same = ['a0', 'a1', 'a2', 'a3'].map((a) => ev(a, 0));
      await store.insertLogs([...same, ev('a1', 1)].map(logRow));
      await store.insertLogs([same[3] as TestEvent, ev('a1', 2)].map(logRow));
      await store.insertLogs([same[2] as TestEvent, ev('a1', 3)].map(logRow));
      const expected = ids((await store.search({ tenant }, { limit: 100 })).events);
      expect(expected).toHaveLength(7);
      for (const limit of [1, 2]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.targetHistory(tenant, target, { limit, ...(cursor && { cursor }) });
          seen.push(...ids(page.events));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen, `round ${round}, limit ${limit}`).toEqual(expected);
      }
    }
  });
});

describe('target history with other filters (keys read in windows of time)', () => {
  it('pages exactly like a scan of the full rows, across several windows and shared milliseconds', async () => {
    // 1,800 events of one target (more than the first key windows hold), ~1 in 30 failures, many events
    // sharing a millisecond and an actor, some of them touching only another target.
    const hot = { type: 'account', id: 'acc_hot' };
    const events: TestEvent[] = Array.from({ length: 1800 }, (_, i) => ({
      id: uuid(20_000 + i),
      tenant: 'windows',
      action: i % 3 === 0 ? 'billing.account.updated' : 'auth.account.viewed',
      outcome: i % 40 === 4 || i % 250 < 3 ? 'failure' : 'success',
      actor: { id: `u${i % 4}`, type: 'user' },
      targets: i % 17 === 0 ? [{ type: 'account', id: 'acc_other' }] : [hot],
      // Groups of 5 events in the same millisecond.
      occurredAt: new Date(base + Math.floor(i / 5)),
    }));
    await store.insertLogs(events.map(logRow));
    const filters = [
      { outcome: 'failure' as const },
      { actions: ['billing.*'], outcome: 'failure' as const },
      { actions: ['auth.account.viewed'], from: new Date(base + 100), to: new Date(base + 130) },
      { crud: ['delete' as const] }, // matches nothing: every window is read, then an empty page
    ];
    for (const extra of filters) {
      const expected = ids(
        events
          .filter((e) => e.targets?.some((t) => t.id === hot.id))
          .filter((e) => extra.outcome === undefined || e.outcome === extra.outcome)
          .filter(
            (e) =>
              extra.actions === undefined ||
              extra.actions.some((a) =>
                a.endsWith('.*') ? e.action?.startsWith(a.slice(0, -1)) : e.action === a,
              ),
          )
          .filter(() => extra.crud === undefined)
          .filter(
            (e) =>
              (extra.from === undefined || (e.occurredAt as Date) >= extra.from) &&
              (extra.to === undefined || (e.occurredAt as Date) < extra.to),
          )
          .sort(
            (a, b) =>
              (b.occurredAt as Date).getTime() - (a.occurredAt as Date).getTime() ||
              (b.id as string).localeCompare(a.id as string),
          )
          .map((e) => ({ id: e.id }) as StoredAuditEvent),
      );
      for (const limit of [3, 50, 1000]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          // Small windows (16 keys, then 64, 256, ...) so that pages span several of them.
          const page = await search(
            { client: store.client, db: store.db },
            { ...extra, tenant: 'windows', target: hot },
            { limit, ...(cursor && { cursor }) },
            16,
          );
          expect(page.events.length).toBeLessThanOrEqual(limit);
          seen.push(...ids(page.events));
          cursor = page.nextCursor;
          pages += 1;
        } while (cursor && pages < 400);
        expect(seen, `${JSON.stringify(extra)} limit ${limit}`).toEqual(expected);
      }
      // The default windows, through the store.
      const first = await store.targetHistory('windows', hot, { ...extra, limit: 50 });
      expect(ids(first.events)).toEqual(expected.slice(0, 50));
    }
  });
});

describe('export', () => {
  it('sizes pages by bytes: large events come in fewer rows per page (memory follows bytes, not rows)', async () => {
    const blob = 'x'.repeat(300_000);
    await store.insertLogs(
      Array.from({ length: 130 }, (_, i) =>
        logRow({ id: uuid(9600 + i), tenant: 'export-large', metadata: { blob, i }, occurredAt: at(i) }),
      ),
    );
    const progress: number[] = [];
    let bytes = 0;
    const n = await store.exportEvents(
      { tenant: 'export-large' },
      {
        format: 'ndjson',
        write: (c) => {
          bytes += c.length;
        },
        onProgress: (p) => progress.push(p.rows),
      },
    );
    expect(n).toBe(130);
    expect(bytes).toBeGreaterThan(130 * 300_000);
    // 20 rows first, then as many ~300 KB events as fit in 4 MiB (13), not the 5000 of small events.
    expect(progress.slice(0, 3)).toEqual([20, 33, 46]);
    expect(progress.at(-1)).toBe(130);
  });

  it('order "actor": every event once, in storage order (actor, time, id), across pages; not with a target', async () => {
    const read = async (filter: Parameters<typeof store.exportEvents>[0], order: 'time' | 'actor') => {
      let text = '';
      await store.exportEvents(filter, {
        format: 'ndjson',
        order,
        pageSize: 3,
        write: (c) => {
          text += c;
        },
      });
      return text
        .trimEnd()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: string; actor: { id: string }; occurredAt: string });
    };
    for (const filter of [{ tenant: 'acme' }, { tenant: 'acme', actions: ['billing.*'] }]) {
      const byTime = await read(filter, 'time');
      const byActor = await read(filter, 'actor');
      expect(byTime.length).toBeGreaterThan(6);
      expect(byActor.map((e) => e.id).sort()).toEqual(byTime.map((e) => e.id).sort());
      // Actor, then time (ids of one actor and millisecond come in the engine's UUID order, not text order).
      const keys = byActor.map((e) => [e.actor.id, e.occurredAt].join('\u0000'));
      expect(keys).toEqual([...keys].sort());
    }
    await expect(
      store.exportEvents(
        { tenant: 'acme', target: { type: 'invoice', id: 'x' } },
        { format: 'ndjson', order: 'actor', write: () => {} },
      ),
    ).rejects.toThrow(/^order: "actor" \(storage order\) applies without a target filter/);
    await expect(
      store.exportEvents(
        { tenant: 'acme' },
        { format: 'ndjson', order: 'random' as 'time', write: () => {} },
      ),
    ).rejects.toThrow(/^order: must be "time" or "actor"/);
  });

  it('streams NDJSON with progress', async () => {
    const chunks: string[] = [];
    const progress: number[] = [];
    const n = await store.exportEvents(
      { tenant: 'acme', actions: ['billing.*'] },
      {
        format: 'ndjson',
        pageSize: 8,
        write: (c) => void chunks.push(c),
        onProgress: (p) => progress.push(p.rows),
      },
    );
    expect(n).toBe(20);
    expect(progress).toEqual([8, 16, 20]);
    const lines = chunks
      .join('')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20);
    expect(lines[0]).toMatchObject({
      id: uuid(37),
      tenant: 'acme',
      action: 'billing.invoice.created',
      metadata: { i: 37 },
    });
  });

  it('streams CSV with a header and quoted fields', async () => {
    const { n, text: out } = await exportText({ tenant: 'acme', actor: { id: 'u0' }, to: at(4) }, 'csv');
    expect(n).toBe(2);
    const lines = out.split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[1]).toContain(uuid(3));
    expect(lines[1]).toContain('"{""i"":3,""note"":""it\'s \\""quoted\\""""}"');
    expect(lines).toHaveLength(4);
  });

  it('CSV: a cell a spreadsheet would run as a formula (= + - @ tab CR) starts with a quote; ; and tab are quoted', async () => {
    await store.insertLogs([
      logRow({
        id: uuid(9300),
        tenant: 'csv-injection',
        actor: {
          id: '-u1',
          type: 'user',
          name: '=HYPERLINK("http://evil","x")',
          fields: { email: 'ada@x.io' },
        },
        outcome: 'failure',
        outcomeReason: '@SUM(1+1)',
        userAgent: '+cmd|calc',
        requestId: '\tr1;=1+1',
        metadata: -5,
        occurredAt: at(800),
      }),
    ]);
    const { text: out } = await exportText({ tenant: 'csv-injection' }, 'csv');
    const row = out.split('\r\n')[1] ?? '';
    for (const cell of [
      // actor_fields follows actor_name (it was left out of the CSV: the actor's fields were lost there).
      `"'=HYPERLINK(""http://evil"",""x"")","{""email"":""ada@x.io""}",`,
      `,'@SUM(1+1),`,
      `,'-u1,`,
      `,'+cmd|calc,`,
      // A locale that splits on ; (or tab) would otherwise see a cell "=1+1".
      `,"'\tr1;=1+1",`,
      `,'-5,`,
    ])
      expect(row).toContain(cell);
    // Nothing else changes: ids, times and ordinary text stay as they are.
    expect(row.startsWith(`${uuid(9300)},${at(800).toISOString()},csv-injection,`)).toBe(true);
  });
});

describe("a stored event's own actor and target as arguments", () => {
  it('are taken (their name and fields ignored), not refused as unknown keys', async () => {
    const [event] = (await store.search({ tenant: 'acme', actions: ['billing.invoice.paid'] }, { limit: 1 }))
      .events;
    const target = event?.targets[0];
    if (!event || !target) throw new Error('the fixture has a billing.invoice.paid event with a target');
    expect(
      (await store.actorTimeline('acme', event.actor, { limit: 100 })).events.map((e) => e.id),
    ).toContain(event.id);
    expect((await store.targetHistory('acme', target, { limit: 100 })).events.map((e) => e.id)).toContain(
      event.id,
    );
    expect(
      (await store.search({ tenant: 'acme', actor: event.actor, target }, { limit: 100 })).events.map(
        (e) => e.id,
      ),
    ).toContain(event.id);
  });
});

describe('untrusted input', () => {
  const nasty = [
    "'; DROP TABLE audit_events; --",
    "x\\' OR 1=1",
    '{tenant:String}',
    'Zoë 🚀 ünï',
    '\u0000\n\t',
    ')',
    '%s',
  ];

  it('treats injection strings and unicode as plain values in every parameter', async () => {
    await store.insertLogs(
      nasty.map((v, i) =>
        logRow({
          tenant: v,
          id: uuid(9000 + i),
          occurredAt: at(50),
          action: `weird.${i}`,
          actor: { id: v, type: v },
          targets: [{ type: v, id: v }],
        }),
      ),
    );
    for (const [i, v] of nasty.entries()) {
      const opts = {
        actions: [`weird.${i}`, `${v}.*`],
        from: at(-1000),
        to: at(1000),
        crud: ['update' as const],
      };
      for (const page of [
        await store.search({ tenant: v, ...opts, actor: { id: v, type: v }, target: { type: v, id: v } }),
        await store.actorTimeline(v, { id: v, type: v }, opts),
        await store.targetHistory(v, { type: v, id: v }, opts),
      ]) {
        expect(ids(page.events), JSON.stringify(v)).toEqual([uuid(9000 + i)]);
      }
      expect(await store.countByAction({ tenant: v })).toEqual([{ action: `weird.${i}`, count: 1 }]);
      expect((await store.getEvent(v, uuid(9000 + i)))?.actor.id).toBe(v);
      expect((await store.search({ tenant: 'acme', actor: { id: v } })).events).toEqual([]);
    }
    expect(await store.countByAction({ tenant: 'acme' })).toHaveLength(4);
  });

  it('rejects empty, huge and wrongly-typed values with a typed error naming the parameter', async () => {
    const huge = 'x'.repeat(100_000);
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => store.search({ tenant: '' }), /^tenant: must not be empty/],
      [() => store.search({ tenant: huge }), /^tenant: is 100000 characters long/],
      [() => store.getEvent('acme', huge), /^id:/],
      [() => store.getEvent('acme', ''), /^id: must be a non-empty string/],
      [
        () => store.exportEvents({ tenant: 'acme' }, { format: 'csv', write: () => {}, pageSize: 0 }),
        /^pageSize/,
      ],
      [() => store.actorTimeline('acme', { id: '' }), /^actor\.id: must not be empty/],
      [() => store.actorTimeline('acme', { id: huge }), /^actor\.id: is 100000/],
      [() => store.actorTimeline('acme', { id: 'u', type: '' }), /^actor\.type/],
      [() => store.targetHistory('acme', { type: 'invoice', id: '' }), /^target\.id/],
      [() => store.targetHistory('acme', { type: huge, id: 'x' }), /^target\.type/],
      [() => store.search({ tenant: 'acme', actions: [''] }), /^actions\[0\]/],
      [() => store.search({ tenant: 'acme', actions: ['a', huge] }), /^actions\[1\]/],
      [
        () => store.search({ tenant: 'acme', actions: ['billing.*', 'billing*'] }),
        /^actions\[1\]: "billing\*": a wildcard is a trailing "\.\*" \(billing\.\*\) or "\*" alone$/,
      ],
      [() => store.search({ tenant: 'acme', actions: ['*.paid'] }), /^actions\[0\]: "\*\.paid"/],
      [() => store.search({ tenant: 'acme', actions: ['a.*.*'] }), /^actions\[0\]: "a\.\*\.\*"/],
      [() => store.search({ tenant: 'acme', actions: ['.*'] }), /^actions\[0\]: "\.\*"/],
      [
        () => store.search({ tenant: 'acme', actions: Array.from({ length: 101 }, (_, i) => `a.b${i}`) }),
        /^actions: has 101 entries, at most 100 allowed$/,
      ],
      [() => store.search({ tenant: 'acme', crud: ['drop' as 'read'] }), /^crud\[0\]: must be one of/],
      [() => store.search({ tenant: 'acme', outcome: "success' OR 1" as 'success' }), /^outcome/],
      [() => store.search({ tenant: 'acme', from: new Date(Number.NaN) }), /^from: must be a valid Date/],
      [() => store.search({ tenant: 'acme', to: '2026' as unknown as Date }), /^to:/],
      // An empty or reversed range is a mistake, not "no events".
      [() => store.search({ tenant: 'acme', from: at(5), to: at(1) }), /^to: must be after from/],
      [() => store.countByAction({ tenant: 'acme', from: at(5), to: at(5) }), /^to: must be after from/],
      [() => store.search({ tenant: 'acme' }, null as unknown as undefined), /^page: must be an object/],
      [
        () => store.actorTimeline('acme', { id: 'u' }, 5 as unknown as undefined),
        /^options: must be an object/,
      ],
      [() => store.search({ tenant: 'acme' }, { limit: 0 }), /^limit/],
      [() => store.search({ tenant: 'acme' }, { limit: 1e9 }), /^limit/],
      [
        () => store.search({ tenant: 'acme' }, { limit: 10_001 }),
        /^limit: must be a whole number between 1 and 10000/,
      ],
      [() => store.search({ tenant: 'acme' }, { cursor: "' OR 1=1" }), /^cursor: is not a cursor/],
      [
        () =>
          store.search(
            { tenant: 'acme' },
            { cursor: Buffer.from('[2,5,"x","abcdefghijk"]').toString('base64url') },
          ),
        /^cursor/,
      ],
      [() => store.search({ tenant: 'acme' }, { cursor: huge }), /^cursor/],
      [() => store.exportEvents({ tenant: 'acme' }, { format: 'xml' as 'csv', write: () => {} }), /^format/],
      [
        () =>
          store.exportEvents({ tenant: 'acme' }, { format: 'ndjson' } as Parameters<
            AuditStore['exportEvents']
          >[1]),
        /^write: must be a function/,
      ],
      [
        () =>
          store.exportEvents(
            { tenant: 'acme' },
            undefined as unknown as Parameters<AuditStore['exportEvents']>[1],
          ),
        /^options: must be an object/,
      ],
      // Misspelt or misplaced keys: ignored, they returned every event (or the same first page forever).
      [
        () => store.search({ tenant: 'acme', actorId: 'u' } as EventFilter),
        /^actorId: is not a key of a filter \(it takes tenant, actions, crud, outcome, actor, target, from, to\)$/,
      ],
      [
        () => store.search({ tenant: 'acme', limit: 10, cursor: 'x' } as EventFilter),
        /^limit: is not a key of a filter: limit and cursor go in the page argument$/,
      ],
      [
        () => store.search({ tenant: 'acme' }, { size: 10 } as PageOptions),
        /^size: is not a key of the page options/,
      ],
      [
        () => store.search({ tenant: 'acme', actor: { id: 'u', kind: 'user' } as ActorRef }),
        /^actor\.kind: is not a key of an actor \(it takes id, type, name, fields\)$/,
      ],
      [
        () => store.search({ tenant: 'acme', target: { type: 't', id: 'x', kind: 'y' } as TargetRef }),
        /^target\.kind: is not a key/,
      ],
      [
        () => store.actorTimeline('acme', { id: 'u' }, { outcomes: 'failure' } as TimelineOptions),
        /^outcomes: is not a key of the options/,
      ],
      [
        () => store.targetHistory('acme', { type: 't', id: 'x' }, { tenant: 'other' } as TimelineOptions),
        /^tenant: is not a key of the options/,
      ],
      [
        () => store.countByAction({ tenant: 'acme', action: 'a.b.c' } as EventFilter),
        /^action: is not a key of a filter/,
      ],
      [
        () =>
          store.exportEvents({ tenant: 'acme' }, {
            format: 'csv',
            write: () => {},
            pagesize: 5,
          } as ExportOptions),
        /^pagesize: is not a key of the export options/,
      ],
      [() => store.insertLogs(null as unknown as []), /^rows: must be an array/],
      [() => store.migrate({ retentionDays: '30' as unknown as number }), /^retentionDays: .*got "30"$/],
      [() => store.migrate({ retentionDays: 10n as unknown as number }), /^retentionDays: .*got bigint$/],
    ];
    for (const [run, message] of cases) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, String(message)).toBeInstanceOf(AuditStoreInputError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('an export the store refuses writes nothing, not even the CSV header', async () => {
    const written: string[] = [];
    for (const format of ['csv', 'ndjson'] as const) {
      await expect(
        store.exportEvents(
          { tenant: 'acme', from: at(5), to: at(1) },
          { format, write: (chunk) => void written.push(chunk) },
        ),
      ).rejects.toThrow(/^to: must be after from/);
    }
    expect(written).toEqual([]);
    // An empty export still has its header.
    const empty = await exportText({ tenant: 'nobody-here' }, 'csv');
    expect(empty.text).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    expect(empty.n).toBe(0);
  });
});
