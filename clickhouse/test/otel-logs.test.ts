import { parseAuditEvent } from '@otel-audit/sdk';
import { AUDIT_ATTRIBUTES, AUDIT_COLUMNS, AUDIT_SEVERITY, AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedClient } from '../src/connection.js';
import { type AuditStore, AuditStoreInputError, OTEL_LOG_COLUMNS, type OtelLogRow } from '../src/index.js';
import { insertLogs } from '../src/otel-logs.js';
import { logRow, openTestStore } from './support.js';

let store: AuditStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(() => cleanup());

const typed = (tenant: string) =>
  store.query<Record<string, unknown>>(
    `SELECT *, toString(event_id) AS id FROM {db}.${AUDIT_TABLES.events} FINAL WHERE tenant = {tenant:String} ORDER BY occurred_at, event_id`,
    { tenant },
  );

describe('otel_logs and the audit_events view', () => {
  it('has exactly the exporter columns, and audit_events has exactly AUDIT_COLUMNS', async () => {
    const logs = await store.query<{ name: string }>(
      `SELECT name FROM system.columns WHERE database = {d:String} AND table = {t:String} ORDER BY position`,
      { d: store.database, t: AUDIT_TABLES.logs },
    );
    expect(logs.map((c) => c.name)).toEqual([...OTEL_LOG_COLUMNS]);
    const events = await store.query<{ name: string }>(
      `SELECT name FROM system.columns WHERE database = {d:String} AND table = {t:String} ORDER BY position`,
      { d: store.database, t: AUDIT_TABLES.events },
    );
    expect(events.map((c) => c.name)).toEqual(Object.values(AUDIT_COLUMNS));
  });

  it('turns an exporter row into a typed row, every field', async () => {
    const id = '0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8091';
    await store.insertLogs([
      logRow({
        id,
        tenant: 't-full',
        action: 'billing.invoice.paid',
        actor: { id: 'u42', type: 'user', name: 'Ada', fields: { role: 'admin', n: 1 } },
        targets: [
          { type: 'invoice', id: 'inv_1', name: 'Invoice 1', fields: { amount: 10 } },
          { type: 'customer', id: 'cus_1' },
        ],
        crud: 'update',
        outcome: 'failure',
        outcomeReason: 'card declined',
        occurredAt: new Date('2026-11-22T10:00:00.123Z'),
        version: 3,
        ip: '2001:db8::1',
        userAgent: 'curl/8 ü',
        requestId: 'req-1',
        metadata: { amount: 10, nested: { a: [1, 2] } },
        changes: { before: { s: 'open' }, after: { s: 'paid' } },
        count: 4,
        lastOccurredAt: new Date('2026-11-22T10:05:00.000Z'),
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        service: 'billing-api',
      }),
    ]);
    const [row] = await typed('t-full');
    expect(row).toMatchObject({
      tenant: 't-full',
      id,
      occurred_at: '2026-11-22 10:00:00.123',
      action: 'billing.invoice.paid',
      crud: 'update',
      outcome: 'failure',
      outcome_reason: 'card declined',
      actor_id: 'u42',
      actor_type: 'user',
      actor_name: 'Ada',
      actor_fields: '{"n":1,"role":"admin"}',
      targets: [
        { type: 'invoice', id: 'inv_1', name: 'Invoice 1' },
        { type: 'customer', id: 'cus_1', name: '' },
      ],
      target_fields: ['{"amount":10}', ''],
      ip: '2001:db8::1',
      user_agent: 'curl/8 ü',
      request_id: 'req-1',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
      service_name: 'billing-api',
      version: 3,
      metadata: '{"amount":10,"nested":{"a":[1,2]}}',
      changes: '{"after":{"s":"paid"},"before":{"s":"open"}}',
      count: 4,
      last_occurred_at: '2026-11-22 10:05:00.000',
      malformed: '',
    });
    const by = await store.query(
      `SELECT target_type, target_id FROM {db}.${AUDIT_TABLES.byTarget} WHERE tenant = 't-full' ORDER BY target_id`,
    );
    expect(by).toEqual([
      { target_type: 'customer', target_id: 'cus_1' },
      { target_type: 'invoice', target_id: 'inv_1' },
    ]);
  });

  it('round-trips an SDK event: what getEvent returns equals what the SDK produced', async () => {
    const event = parseAuditEvent({
      action: 'projects.member.invited',
      tenant: 't-roundtrip',
      actor: { id: 'u1', type: 'user', name: 'Ada', fields: { mfa: true, roles: ['admin'] } },
      targets: [
        { type: 'project', id: 'p1', name: 'Apollo', fields: { tier: 'gold' } },
        { type: 'user', id: 'u2' },
      ],
      outcome: 'failure',
      outcomeReason: 'quota',
      occurredAt: '2026-11-22T09:59:59.999Z',
      version: 2,
      context: { ip: '203.0.113.7', userAgent: 'Mozilla/5.0', requestId: 'r-9' },
      metadata: { invited: 'u2@example.com', seats: [1, 2, { x: null }] },
      changes: { before: { role: null }, after: { role: 'viewer' } },
    });
    await store.insertLogs([
      logRow({
        ...event,
        occurredAt: event.occurredAt,
        ip: event.context.ip,
        userAgent: event.context.userAgent,
        requestId: event.context.requestId,
      }),
    ]);
    const stored = await store.getEvent('t-roundtrip', event.id);
    const { receivedAt, serviceName, malformed, ...rest } = stored ?? ({} as NonNullable<typeof stored>);
    expect(rest).toEqual(event);
    expect(malformed).toEqual([]);
    expect(serviceName).toBe('billing');
    expect(receivedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('skips rows without the marker attribute', async () => {
    const plain = logRow({ tenant: 't-plain' });
    delete plain.LogAttributes[AUDIT_ATTRIBUTES.action];
    await store.insertLogs([plain]);
    expect(await typed('t-plain')).toEqual([]);
  });

  it('lands malformed rows with defaults and names what was wrong, never failing the insert', async () => {
    const rows = [
      logRow({ tenant: 't-bad', attributes: { [AUDIT_ATTRIBUTES.targets]: '[{"type":"x","id":' } }),
      logRow({
        tenant: 't-bad',
        attributes: { [AUDIT_ATTRIBUTES.crud]: 'explode', [AUDIT_ATTRIBUTES.outcome]: '' },
      }),
      logRow({
        tenant: 't-bad',
        attributes: { [AUDIT_ATTRIBUTES.actorId]: '', [AUDIT_ATTRIBUTES.eventId]: 'not-a-uuid' },
      }),
      logRow({
        tenant: 't-bad',
        body: 'plain text body',
        attributes: { [AUDIT_ATTRIBUTES.count]: 'many', [AUDIT_ATTRIBUTES.targets]: '{"type":"x"}' },
      }),
    ];
    await store.insertLogs(rows);
    // The malformed id is derived from the row: a retry of the same row collapses too.
    await store.insertLogs([rows[2] as (typeof rows)[number]]);
    const got = await typed('t-bad');
    expect(got).toHaveLength(4);
    const byMark = Object.fromEntries(got.map((r) => [r.malformed as string, r]));
    expect(byMark[AUDIT_ATTRIBUTES.targets]).toMatchObject({ targets: [], target_fields: [] });
    // An empty outcome is a left-out one (optional, from the severity): only the crud outside its enum is named.
    expect(byMark[AUDIT_ATTRIBUTES.crud]).toMatchObject({ crud: 'unknown', outcome: 'success' });
    expect(byMark[`${AUDIT_ATTRIBUTES.eventId},${AUDIT_ATTRIBUTES.actorId}`]).toMatchObject({ actor_id: '' });
    expect(byMark[`${AUDIT_ATTRIBUTES.targets},${AUDIT_ATTRIBUTES.count},body`]).toMatchObject({
      metadata: '"plain text body"',
      count: 1,
      targets: [],
    });
  });

  it('names exactly what is missing or wrong: actor type apart from actor id, an empty action; optional crud and outcome left out are not', async () => {
    const without = (row: OtelLogRow, ...keys: string[]): OtelLogRow => ({
      ...row,
      LogAttributes: Object.fromEntries(Object.entries(row.LogAttributes).filter(([k]) => !keys.includes(k))),
    });
    const A = AUDIT_ATTRIBUTES;
    const rows: [OtelLogRow, string][] = [
      [without(logRow({ tenant: 't-names' }), A.actorType), A.actorType],
      [without(logRow({ tenant: 't-names' }), A.actorId), A.actorId],
      [without(logRow({ tenant: 't-names' }), A.actorId, A.actorType), `${A.actorId},${A.actorType}`],
      [logRow({ tenant: 't-names', attributes: { [A.action]: '' } }), A.action],
      // CONVENTIONS.md's Java example leaves both out: a clean row, crud unknown, outcome from the severity.
      [without(logRow({ tenant: 't-names', outcome: 'failure' }), A.crud, A.outcome), ''],
      [logRow({ tenant: 't-names', attributes: { [A.outcome]: 'maybe' } }), A.outcome],
    ];
    await store.insertLogs(rows.map(([row]) => row));
    const got = await typed('t-names');
    const expected = rows.map(([row, malformed]) => [row.LogAttributes[A.eventId], malformed]);
    expect(got.map((r) => [r.id, r.malformed]).sort()).toEqual(expected.sort());
    const clean = got.find((r) => r.malformed === '');
    expect(clean).toMatchObject({ crud: 'unknown', outcome: 'failure' });
    expect(got.find((r) => r.malformed === A.action)).toMatchObject({ action: '' });
  });

  it("a record without audit.outcome is a failure from the SDK's failure severity up, a success below it", async () => {
    const bare = (severity: number): OtelLogRow => {
      const row = logRow({ tenant: 't-severity' });
      const { [AUDIT_ATTRIBUTES.outcome]: _, ...attributes } = row.LogAttributes;
      return { ...row, SeverityNumber: severity, LogAttributes: attributes };
    };
    const threshold = AUDIT_SEVERITY.failure.number;
    const rows = [bare(threshold - 1), bare(threshold), bare(AUDIT_SEVERITY.success.number), bare(21)];
    await store.insertLogs(rows);
    const got = await typed('t-severity');
    const outcomeOf = (row: OtelLogRow) =>
      got.find((r) => r.id === row.LogAttributes[AUDIT_ATTRIBUTES.eventId])?.outcome;
    expect(rows.map(outcomeOf)).toEqual(['success', 'failure', 'success', 'failure']);
    expect(got.map((r) => r.malformed)).toEqual(['', '', '', '']);
  });

  it('names target items and times that are not what CONVENTIONS.md says (the first view stored them unmarked)', async () => {
    const T = AUDIT_ATTRIBUTES.targets;
    const L = AUDIT_ATTRIBUTES.lastOccurredAt;
    const cases: [attributes: Record<string, string>, malformed: string, targets: string[][]][] = [
      [
        { [T]: '[{"id":"b","name":"N","type":"a","fields":{"k":1}}]', [L]: '2026-11-22T10:05:00.5+02:00' },
        '',
        [['a', 'b', 'N']],
      ],
      // RFC 3339 allows a lowercase t and z (best-effort parsing alone refused them).
      [{ [L]: '2026-11-22t08:05:00.5z' }, '', []],
      [{ [T]: '[{"id":5,"type":"invoice"}]' }, T, [['invoice', '5', '']]],
      [{ [T]: '[{"id":"b","type":["a"]}]' }, T, [['["a"]', 'b', '']]],
      [{ [T]: '[{"id":"b","name":7,"type":"a"}]' }, T, [['a', 'b', '7']]],
      [{ [T]: '[{"fields":[1],"id":"b","type":"a"}]' }, T, [['a', 'b', '']]],
      [{ [T]: '[{"id":"b","type":"a"},5,"x",null,[]]' }, T, [['a', 'b', '']]],
      [{ [L]: '1' }, L, []],
      [{ [L]: '2026-11-22' }, L, []],
      [{ [L]: '1732270000000' }, L, []],
      [{ [L]: '2026-11-22T10:05:00x5Z' }, L, []],
      // Fields out of range: best-effort parsing carried them into the next field (0004 stored them unmarked).
      [{ [L]: '2026-01-02T25:00:00Z' }, L, []],
      [{ [L]: '2026-01-02T23:99:00Z' }, L, []],
      [{ [L]: '2026-01-02T23:00:99Z' }, L, []],
      [{ [L]: '2026-01-02T03:04:05+99:00' }, L, []],
      [{ [L]: '0000-01-01T00:00:00Z' }, L, []],
      [{ [L]: '2026-02-30T00:00:00Z' }, L, []],
    ];
    const at = new Date('2026-11-22T10:00:00.123Z');
    await store.insertLogs(
      cases.map(([attributes], i) =>
        logRow({
          tenant: 't-conv',
          id: `0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f80${10 + i}`,
          occurredAt: at,
          attributes,
        }),
      ),
    );
    const got = await typed('t-conv');
    expect(got.map((r) => [r.malformed, r.targets])).toEqual(
      cases.map(([, m, t]) => [m, t.map(([type, id, name]) => ({ type, id, name }))]),
    );
    expect(got.map((r) => r.last_occurred_at)).toEqual(
      cases.map((_, i) => (i <= 1 ? '2026-11-22 08:05:00.500' : '2026-11-22 10:00:00.123')),
    );
    expect(got.map((r) => r.target_fields)).toEqual(
      cases.map(([, , t], i) => (i === 0 ? ['{"k":1}'] : t.map(() => ''))),
    );
    // Items that are no object name no target: no empty-key row in the by-target table.
    const by = await store.query<{ target_type: string; target_id: string }>(
      `SELECT target_type, target_id FROM {db}.${AUDIT_TABLES.byTarget} FINAL WHERE tenant = 't-conv' AND (target_type = '' OR target_id = '')`,
    );
    expect(by).toEqual([]);
  });

  it('keeps targets whose fields hold integers outside 64 bits written in exponent form, as the SDK writes them', async () => {
    // JSONExtractArrayRaw prints 1e+20 back as 100000000000000000000, which the item checks then refused (0007):
    // every target was dropped (no by-target row) and the row marked.
    const fields =
      '{"a":1e+20,"b":-1.8446744073709552e+19,"h":-9.223372036854776e+18,"n":1,"s":"x:100000000000000000000,\\"q\\\\","l":[1.5e+20,{"m":-1e+19}],"f":0.0008977323236730797,"g":-7.6714748566983e-6,"sid":1234567890123456789}';
    await store.insertLogs([
      logRow({
        tenant: 't-wide',
        attributes: {
          [AUDIT_ATTRIBUTES.targets]: `[{"fields":${fields},"id":"d1","type":"doc"},{"id":"d2","type":"doc","fields":{"k":"v"}}]`,
        },
      }),
    ]);
    const [row] = await typed('t-wide');
    expect(row?.malformed).toBe('');
    expect(row?.targets).toEqual([
      { type: 'doc', id: 'd1', name: '' },
      { type: 'doc', id: 'd2', name: '' },
    ]);
    // The same numbers (the engine prints them as integers; JSON.parse reads the same doubles); strings untouched.
    const stored = (row?.target_fields as string[] | undefined) ?? [];
    expect(JSON.parse(stored[0] ?? '')).toEqual({
      a: 1e20,
      b: -(2 ** 64),
      h: -(2 ** 63),
      n: 1,
      s: 'x:100000000000000000000,"q\\',
      l: [1.5e20, { m: -1e19 }],
      f: 0.0008977323236730797,
      g: -7.6714748566983e-6,
      sid: 1234567890123456800, // the double JSON.parse reads for 1234567890123456789
    });
    // Printed back with every digit of a fraction and of a 64-bit integer (only the wide integers change form).
    expect(stored[0]).toContain('"f":0.0008977323236730797,');
    expect(stored[0]).toContain('"sid":1234567890123456789}');
    expect(stored[1]).toBe('{"k":"v"}');
    expect((await store.targetHistory('t-wide', { type: 'doc', id: 'd1' })).events).toHaveLength(1);
  });

  it('checks targets the same way when an item fails as when none does', async () => {
    // A row with an item that fails its first check takes a second path (see 0008): every item here is read once
    // alone and once next to the item 1e+20 (which fails it), and must come out the same (the row marked for it).
    const T = AUDIT_ATTRIBUTES.targets;
    const items = [
      '{"id":"b","name":"N","type":"a","fields":{"k":1,"big":1234567890123456789}}',
      '{"id":"b","type":"a","fields":{"s":"1e+20 \\" \\\\","e":{},"a":[]}}',
      '{"id":5,"type":"invoice"}',
      '{"id":"b","type":["a"]}',
      '{"id":"b","name":7,"type":"a"}',
      '{"fields":[1],"id":"b","type":"a"}',
      '{"fields":"{}","id":"b","type":"a"}',
      '{"id":"","type":"a"}',
      '{"id":"b","type":"a","name":null,"fields":null}',
      '{}',
    ];
    const rows = items.flatMap((item, i) => [
      logRow({
        tenant: 't-paths',
        id: `0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f81${10 + i}`,
        attributes: { [T]: `[${item}]` },
      }),
      logRow({
        tenant: 't-paths',
        id: `0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f82${10 + i}`,
        attributes: { [T]: `[${item},1e+20]` },
      }),
    ]);
    await store.insertLogs(rows);
    const got = new Map((await typed('t-paths')).map((r) => [r.id, r]));
    items.forEach((_, i) => {
      const alone = got.get(`0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f81${10 + i}`);
      const mixed = got.get(`0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f82${10 + i}`);
      expect(mixed?.targets, items[i]).toEqual(alone?.targets);
      expect(mixed?.target_fields, items[i]).toEqual(alone?.target_fields);
      expect(mixed?.malformed, items[i]).toBe(T);
    });
    // The clean items stay unmarked alone (so the comparison covers both outcomes).
    expect(got.get('0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8110')?.malformed).toBe('');
    // An item that parses is kept as written (a 64-bit integer is not turned into a double).
    expect(got.get('0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8210')?.target_fields).toEqual([
      '{"k":1,"big":1234567890123456789}',
    ]);
    expect(got.get('0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8118')?.malformed).toBe('');
    expect(got.get('0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8112')?.malformed).toBe(T);
  });

  it('keeps every one of 10,000 targets whose fields hold wide integers (each item is read once)', async () => {
    // Reading items by index re-parsed the whole attribute per item: quadratic (52 s for such an event).
    const targets = Array.from(
      { length: 10_000 },
      (_, i) => `{"type":"doc","id":"w${i}","fields":{"n":1e+20}}`,
    );
    await store.insertLogs([
      logRow({ tenant: 't-many-wide', attributes: { [AUDIT_ATTRIBUTES.targets]: `[${targets.join(',')}]` } }),
    ]);
    const [row] = await typed('t-many-wide');
    expect(row?.malformed).toBe('');
    expect((row?.targets as unknown[] | undefined)?.length).toBe(10_000);
    const [by] = await store.query<{ n: string }>(
      `SELECT count() AS n FROM {db}.${AUDIT_TABLES.byTarget} FINAL WHERE tenant = 't-many-wide'`,
    );
    expect(Number(by?.n)).toBe(10_000);
  });

  it('reads malformed rows back through every query operation (one bad row never breaks a read)', async () => {
    // A UUID ClickHouse accepts but without RFC 9562 version/variant bits: any OTel sender can send it.
    const foreignId = '12345678-1234-1234-1234-123456789012';
    await store.insertLogs([
      logRow({ tenant: 't-read', attributes: { [AUDIT_ATTRIBUTES.eventId]: foreignId.toUpperCase() } }),
      logRow({
        tenant: 't-read',
        attributes: { [AUDIT_ATTRIBUTES.targets]: 'nope', [AUDIT_ATTRIBUTES.crud]: 'x' },
      }),
      // Out of range for ClickHouse's JSON parser: kept as a JSON string, marked `body`.
      logRow({ tenant: 't-read', body: '{"a":1e400,"b":12345678901234567890123}' }),
      logRow({
        tenant: 't-read',
        attributes: { [AUDIT_ATTRIBUTES.actorId]: '', [AUDIT_ATTRIBUTES.eventId]: 'not-a-uuid' },
      }),
    ]);
    const page = await store.search({ tenant: 't-read' });
    expect(page.events).toHaveLength(4);
    // An id that is no UUID names no event, even when a sender stored the nil UUID.
    await store.insertLogs([
      logRow({
        tenant: 't-nil',
        attributes: {
          [AUDIT_ATTRIBUTES.eventId]: '00000000-0000-0000-0000-000000000000',
          [AUDIT_ATTRIBUTES.actorFields]: '{"__proto__":{"x":1},"a":2}',
        },
        body: '{"__proto__":5,"k":1}',
      }),
    ]);
    expect(await store.getEvent('t-nil', 'definitely-not-an-id')).toBeUndefined();
    const nil = await store.getEvent('t-nil', '00000000-0000-0000-0000-000000000000');
    // JSON keys named __proto__ come back as plain keys, not dropped.
    expect(Object.keys(nil?.actor.fields ?? {})).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(nil?.metadata)).toBe('{"__proto__":5,"k":1}');
    expect(page.events.map((e) => e.malformed.join(',')).sort()).toEqual(
      [
        '',
        'body',
        `${AUDIT_ATTRIBUTES.crud},${AUDIT_ATTRIBUTES.targets}`,
        `${AUDIT_ATTRIBUTES.eventId},${AUDIT_ATTRIBUTES.actorId}`,
      ].sort(),
    );
    for (const event of page.events) expect((await store.getEvent('t-read', event.id))?.id).toBe(event.id);
    expect((await store.getEvent('t-read', foreignId))?.id).toBe(foreignId);
    let ndjson = '';
    const n = await store.exportEvents(
      { tenant: 't-read' },
      {
        format: 'ndjson',
        write: (c) => {
          ndjson += c;
        },
      },
    );
    expect(n).toBe(4);
    expect(
      ndjson
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(page.events.map((e) => e.id));
    const actor = page.events.find((e) => e.id === foreignId)?.actor as { id: string };
    expect((await store.actorTimeline('t-read', actor)).events.map((e) => e.id)).toContain(foreignId);
  });

  it('collapses duplicates of the same event (at-least-once delivery)', async () => {
    const row = logRow({ tenant: 't-dup' });
    await store.insertLogs([row, row]);
    await store.insertLogs([row]);
    expect(await typed('t-dup')).toHaveLength(1);
  });

  it('takes one insert of events spanning more than 100 months (a backfill: over the default partition limit)', async () => {
    const rows = Array.from({ length: 101 }, (_, i) =>
      logRow({ tenant: 't-backfill', occurredAt: new Date(Date.UTC(2010, i, 15)) }),
    );
    await store.insertLogs(rows);
    expect(await typed('t-backfill')).toHaveLength(101);
  });

  it('rejects a bad row with a typed error naming it, and writes nothing of the batch', async () => {
    const good = logRow({ tenant: 't-reject' });
    const bad = { ...logRow({ tenant: 't-reject' }), Timestamp: '2026-11-22T10:00:00Z' };
    await expect(store.insertLogs([good, bad])).rejects.toThrow(AuditStoreInputError);
    await expect(store.insertLogs([good, bad])).rejects.toThrow(/rows\[1\]\.Timestamp/);
    const badMap = { ...logRow({ tenant: 't-reject' }), LogAttributes: { k: 1 as unknown as string } };
    await expect(store.insertLogs([badMap])).rejects.toThrow(/rows\[0\]\.LogAttributes\["k"\]/);
    expect(await typed('t-reject')).toEqual([]);
  });

  it('reads short nanosecond timestamps as nanoseconds and refuses ones past 2262', async () => {
    await store.insertLogs([{ ...logRow({ tenant: 't-epoch' }), Timestamp: '1500000' }]);
    const [row] = await store.query<{ occurred_at: string }>(
      'SELECT toString(occurred_at) AS occurred_at FROM {db}.audit_events WHERE tenant = {t:String}',
      { t: 't-epoch' },
    );
    expect(row?.occurred_at).toBe('1970-01-01 00:00:00.001');
    const late = { ...logRow({ tenant: 't-epoch' }), Timestamp: '9300000000000000000' };
    await expect(store.insertLogs([late])).rejects.toThrow(/rows\[0\]\.Timestamp/);
    // A bigint is nanoseconds too; a number is refused (Date.now() would have been stored as January 1970).
    await store.insertLogs([{ ...logRow({ tenant: 't-epoch-big' }), Timestamp: 1_764_000_000_123_000_000n }]);
    const [big] = await store.query<{ occurred_at: string }>(
      'SELECT toString(occurred_at) AS occurred_at FROM {db}.audit_events WHERE tenant = {t:String}',
      { t: 't-epoch-big' },
    );
    expect(big?.occurred_at).toBe('2025-11-24 16:00:00.123');
    const millis = { ...logRow({ tenant: 't-epoch' }), Timestamp: Date.now() as unknown as string };
    await expect(store.insertLogs([millis])).rejects.toThrow(
      /^rows\[0\]\.Timestamp: must be Unix epoch nanoseconds as a decimal string or a bigint, got the number \d+/,
    );
  });

  it('stores the same typed rows through the client call a server gets as through the embedded raw insert', async () => {
    // A server URL gets an INSERT through @clickhouse/client's exec; chDB's connection implements that call too.
    const opened = (store as unknown as { opened: OpenedClient }).opened;
    const { rawInsert: _embeddedOnly, ...serverPath }: OpenedClient = opened;
    const row = (tenant: string): OtelLogRow =>
      logRow({
        tenant,
        id: '0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8092',
        actor: { id: 'u "1"', type: 'user', name: 'Zoë 😀 \\ \u2028', fields: { '2': 'two', b: [1, 'x'] } },
        targets: [{ type: 'doc', id: 'd\n1', name: '\t<&>' }],
        userAgent: 'agent\u0001',
        metadata: { note: 'line\nbreak', quote: '"', big: 'x'.repeat(70_000) },
        attributes: { '10': 'ten', '2': 'two' },
      });
    await store.insertLogs([row('t-path-raw')]);
    await insertLogs(serverPath, [row('t-path-client')]);
    const comparable = async (tenant: string) =>
      (await typed(tenant)).map(({ tenant: _t, received_at: _r, ...rest }) => rest);
    const viaRaw = await comparable('t-path-raw');
    expect(viaRaw).toHaveLength(1);
    expect(viaRaw[0]?.actor_name).toBe('Zoë 😀 \\ \u2028');
    expect(await comparable('t-path-client')).toEqual(viaRaw);

    // Without a valid id the view hashes the record (maps included): both paths give the same id, so the two
    // deliveries collapse into one event.
    const noId = {
      ...logRow({ tenant: 't-path-fallback', attributes: { '10': 'ten', '2': 'two' } }),
      Timestamp: '1500000',
    };
    delete noId.LogAttributes[AUDIT_ATTRIBUTES.eventId];
    await store.insertLogs([noId]);
    await insertLogs(serverPath, [noId]);
    const fallback = await typed('t-path-fallback');
    expect(fallback).toHaveLength(1);
    expect(fallback[0]?.malformed).toContain(AUDIT_ATTRIBUTES.eventId);
  });
});
