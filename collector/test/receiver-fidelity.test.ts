// Rows written by the receiver equal what the contrib ClickHouse exporter writes for the same OTLP records
// (shared/reference.md §1; pdata pcommon.Value.AsString and exporter_logs.go), for JSON and protobuf input,
// and they land in chDB with those values.
import type { OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareUtf8, decodeJsonRequest, decodeProtobufRequest, requestToRows } from '../src/index.js';
import {
  type JsonObject,
  logsRequest,
  protobufBody,
  startTestServe,
  str,
  type TestServe,
} from './receiver-support.js';

const T = '1732300000123456789';
const TRACE = '5B8EFFF798038103D269B633813FC60C';
const SPAN = 'EEE19B7EC3C1B174';

interface Case {
  name: string;
  record: JsonObject;
  resource?: JsonObject[];
  expected: Partial<OtelLogRow>;
  /** LogAttributes keys in the order the exporter's map column lists them (byte order). */
  keys?: string[];
  /** Stored keys only: the row object cannot list array-index keys ("2") in byte order, the insert does. */
  storedKeys?: string[];
  /** The same for ResourceAttributes. */
  resourceKeys?: string[];
}

const attr = (value: JsonObject): JsonObject => ({ timeUnixNano: T, attributes: [{ key: 'a', value }] });
const attrCase = (name: string, value: JsonObject, text: string): Case => ({
  name,
  record: attr(value),
  expected: { LogAttributes: { a: text } },
});
const body = (name: string, value: JsonObject | undefined, text: string): Case => ({
  name,
  record: { timeUnixNano: T, ...(value && { body: value }) },
  expected: { Body: text },
});
const kv = (key: string, value: JsonObject) => ({ key, value });
const list = (...values: JsonObject[]) => ({ arrayValue: { values } });
const map = (...values: JsonObject[]) => ({ kvlistValue: { values } });

const CASES: Case[] = [
  attrCase('string raw, no escaping', { stringValue: 'a "q" <&> \n ✓' }, 'a "q" <&> \n ✓'),
  attrCase('empty string', { stringValue: '' }, ''),
  attrCase('bool true', { boolValue: true }, 'true'),
  attrCase('bool false', { boolValue: false }, 'false'),
  attrCase('int as decimal string', { intValue: '-42' }, '-42'),
  attrCase('int64 max exact', { intValue: '9223372036854775807' }, '9223372036854775807'),
  attrCase('int64 min exact', { intValue: '-9223372036854775808' }, '-9223372036854775808'),
  attrCase('int as JSON number', { intValue: 7 }, '7'),
  attrCase('double shortest', { doubleValue: 0.1 }, '0.1'),
  attrCase('double integral', { doubleValue: 100 }, '100'),
  attrCase('double large uses exponent from 1e21', { doubleValue: 1e21 }, '1e+21'),
  attrCase(
    'double below 1e21 stays decimal',
    { doubleValue: 123456789012345680000 },
    '123456789012345680000',
  ),
  attrCase('double small uses exponent below 1e-6', { doubleValue: 1.5e-7 }, '1.5e-7'),
  attrCase('double 1e-6 stays decimal', { doubleValue: 0.000001 }, '0.000001'),
  attrCase('double negative zero keeps its sign', { doubleValue: '-0' }, '-0'),
  // pdata v1.55.0 float64AsString: "json: unsupported value: " + strconv.FormatFloat(f, 'g', -1, 64).
  attrCase('double NaN', { doubleValue: 'NaN' }, 'json: unsupported value: NaN'),
  attrCase('double +Inf', { doubleValue: 'Infinity' }, 'json: unsupported value: +Inf'),
  attrCase('double -Inf', { doubleValue: '-Infinity' }, 'json: unsupported value: -Inf'),
  attrCase('bytes as base64', { bytesValue: 'AAEC/w==' }, 'AAEC/w=='),
  attrCase('empty value', {}, ''),
  attrCase('string array as JSON', list({ stringValue: 'a' }, { stringValue: 'b' }), '["a","b"]'),
  attrCase(
    'array of maps, keys sorted',
    list(map(kv('type', { stringValue: 'monitor' }), kv('id', { stringValue: '1' }))),
    '[{"id":"1","type":"monitor"}]',
  ),
  attrCase('empty array', list(), '[]'),
  attrCase('empty map', map(), '{}'),
  attrCase(
    'map: keys sorted, mixed nested types, empty as null',
    map(
      kv('z', { intValue: '1' }),
      kv('b', { boolValue: true }),
      kv('d', { doubleValue: 2.5 }),
      kv('e', {}),
      kv('a', list({ bytesValue: 'AQI=' }, { doubleValue: 1e-7 })),
    ),
    '{"a":["AQI=",1e-7],"b":true,"d":2.5,"e":null,"z":1}',
  ),
  attrCase(
    'JSON text: <>& not HTML-escaped, U+2028/2029 escaped, control characters',
    list({ stringValue: '<a&b>\u2028\u2029\b\f\n\r\t\u0001"\\' }),
    '["<a&b>\\u2028\\u2029\\b\\f\\n\\r\\t\\u0001\\"\\\\"]',
  ),
  attrCase(
    'NaN nested in an array: Go encoding fails, AsString gives empty',
    list({ doubleValue: 'NaN' }),
    '',
  ),
  attrCase(
    'nested duplicate keys: the last wins (Go map)',
    map(kv('k', { stringValue: 'first' }), kv('k', { stringValue: 'last' })),
    '{"k":"last"}',
  ),
  attrCase(
    'map keys in UTF-8 byte order (U+FFFD before U+1F600)',
    map(kv('😀', { intValue: '1' }), kv('\uFFFD', { intValue: '2' }), kv('Z', { intValue: '3' })),
    '{"Z":3,"\uFFFD":2,"😀":1}',
  ),
  {
    name: 'top-level duplicate attribute keys: the first is kept (Map.Get and map[key] see the first)',
    record: { timeUnixNano: T, attributes: [str('k', 'first'), str('k', 'second')] },
    expected: { LogAttributes: { k: 'first' } },
  },
  {
    name: 'attribute keys in byte order, as the exporter sorts map columns',
    record: {
      timeUnixNano: T,
      attributes: ['b', '\uFFFD', 'a.b', '😀', 'B', '_', 'a'].map((key) => str(key, key)),
    },
    expected: {
      LogAttributes: { a: 'a', 'a.b': 'a.b', b: 'b', B: 'B', _: '_', '\uFFFD': '\uFFFD', '😀': '😀' },
    },
    keys: ['B', '_', 'a', 'a.b', 'b', '\uFFFD', '😀'],
  },
  {
    name: 'array-index keys in byte order too (a JavaScript object lists them first)',
    record: { timeUnixNano: T, attributes: ['b', '10', '9', '!x', 'a', '2'].map((key) => str(key, key)) },
    expected: { LogAttributes: { '!x': '!x', '10': '10', '2': '2', '9': '9', a: 'a', b: 'b' } },
    storedKeys: ['!x', '10', '2', '9', 'a', 'b'],
  },
  body('string body raw', { stringValue: '{"x":1}' }, '{"x":1}'),
  body('map body as JSON', map(kv('b', { intValue: '2' }), kv('a', { stringValue: 'x' })), '{"a":"x","b":2}'),
  body('array body as JSON', list({ intValue: '1' }, { boolValue: false }), '[1,false]'),
  body('bytes body as base64', { bytesValue: 'aGk=' }, 'aGk='),
  body('int body as text', { intValue: '5' }, '5'),
  body('double body as text', { doubleValue: 2.25 }, '2.25'),
  body('no body', undefined, ''),
  {
    name: 'timestamp: the record time',
    record: { timeUnixNano: T, observedTimeUnixNano: '1' },
    expected: { Timestamp: T },
  },
  {
    name: 'timestamp: observed time when the time is 0',
    record: { timeUnixNano: '0', observedTimeUnixNano: '1732300000999999999' },
    expected: { Timestamp: '1732300000999999999' },
  },
  { name: 'timestamp: both 0', record: {}, expected: { Timestamp: '0' } },
  {
    name: 'trace and span ids lowercase hex, flags low byte, severity',
    record: {
      timeUnixNano: T,
      traceId: TRACE,
      spanId: SPAN,
      flags: 0x101,
      severityNumber: 13,
      severityText: 'WARN',
      eventName: 'billing.invoice.paid',
    },
    expected: {
      TraceId: TRACE.toLowerCase(),
      SpanId: SPAN.toLowerCase(),
      TraceFlags: 1,
      SeverityNumber: 13,
      SeverityText: 'WARN',
      EventName: 'billing.invoice.paid',
    },
  },
  {
    name: 'all-zero ids are no ids',
    record: { timeUnixNano: T, traceId: '0'.repeat(32), spanId: '0'.repeat(16) },
    expected: { TraceId: '', SpanId: '' },
  },
  { name: 'absent ids', record: { timeUnixNano: T }, expected: { TraceId: '', SpanId: '', TraceFlags: 0 } },
  {
    name: 'service name from the resource; resource attributes kept',
    record: { timeUnixNano: T },
    resource: [str('service.name', 'billing'), kv('host.cpu', { intValue: '8' })],
    expected: { ServiceName: 'billing', ResourceAttributes: { 'service.name': 'billing', 'host.cpu': '8' } },
    resourceKeys: ['host.cpu', 'service.name'],
  },
  {
    name: 'service name AsString of a non-string value',
    record: { timeUnixNano: T },
    resource: [kv('service.name', { intValue: '12' })],
    expected: { ServiceName: '12' },
  },
  { name: 'no service name', record: { timeUnixNano: T }, resource: [], expected: { ServiceName: '' } },
  {
    name: '__proto__ is an ordinary attribute key',
    record: { timeUnixNano: T, attributes: [str('__proto__', 'x')] },
    expected: { LogAttributes: JSON.parse('{"__proto__":"x"}') as Record<string, string> },
  },
];

const SCOPE = { name: 'otel-audit', version: '1', attributes: [kv('lib', { boolValue: true })] };

function rowsOf(c: Case, encoding: 'json' | 'protobuf'): OtelLogRow[] {
  const request = logsRequest([c.record], c.resource, SCOPE);
  const decoded =
    encoding === 'json'
      ? decodeJsonRequest(Buffer.from(JSON.stringify(request)))
      : decodeProtobufRequest(protobufBody(request));
  const { rows, rejected } = requestToRows(decoded, { maxRecordSize: 1_000_000, auditOnly: false });
  expect(rejected.count).toBe(0);
  return rows;
}

describe('otel_logs rows as the ClickHouse exporter writes them', () => {
  for (const encoding of ['json', 'protobuf'] as const) {
    describe(encoding, () => {
      it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        const [row] = rowsOf(c, encoding);
        expect({ ...row, Timestamp: BigInt(row?.Timestamp ?? -1).toString() }).toMatchObject(c.expected);
        if (c.keys) expect(Object.keys(row?.LogAttributes ?? {})).toEqual(c.keys);
        if (c.resourceKeys) expect(Object.keys(row?.ResourceAttributes ?? {})).toEqual(c.resourceKeys);
        // Fields every case shares.
        expect(row?.ScopeName).toBe('otel-audit');
        expect(row?.ScopeVersion).toBe('1');
        expect({ ...row?.ScopeAttributes }).toEqual({ lib: 'true' });
      });
    });
  }

  it('writes Timestamp as 19 digits (ClickHouse reads shorter digit strings as seconds or dates)', () => {
    const [zero] = rowsOf({ name: 'zero', record: {}, expected: {} }, 'protobuf');
    expect(zero?.Timestamp).toBe('0000000000000000000');
    const [early] = rowsOf({ name: 'early', record: { timeUnixNano: '1000000000' }, expected: {} }, 'json');
    expect(early?.Timestamp).toBe('0000000001000000000');
  });

  it('orders the keys of every record, whatever sequences came before (the reused orders never leak)', () => {
    // 12 sequences (more than the 8 orders kept) of the same length, each a rotation of the same keys, twice.
    const keys = ['d', 'a', 'c', 'b', 'a.b', 'B'];
    const records = Array.from({ length: 24 }, (_, i) => ({
      timeUnixNano: T,
      attributes: keys.map((_, k) => str(keys[(k + i) % keys.length] as string, `v${i}`)),
    }));
    const records2 = [
      ...records,
      { timeUnixNano: T, attributes: [str('k', 'first'), str('a', 'x'), str('k', 'second')] },
    ];
    const decoded = decodeJsonRequest(Buffer.from(JSON.stringify(logsRequest(records2, [], SCOPE))));
    const { rows } = requestToRows(decoded, { maxRecordSize: 1_000_000, auditOnly: false });
    expect(rows).toHaveLength(25);
    for (const row of rows.slice(0, 24))
      expect(Object.keys(row.LogAttributes)).toEqual(['B', 'a', 'a.b', 'b', 'c', 'd']);
    expect(rows.slice(0, 24).map((row) => row.LogAttributes.d)).toEqual(records.map((_, i) => `v${i}`));
    expect(rows[24]?.LogAttributes).toEqual({ a: 'x', k: 'first' });
    expect(Object.keys(rows[24]?.LogAttributes ?? {})).toEqual(['a', 'k']);
  });

  it('JSON and protobuf give identical rows for every case', () => {
    for (const c of CASES) expect(rowsOf(c, 'protobuf'), c.name).toEqual(rowsOf(c, 'json'));
  });
});

describe('the same rows stored in chDB through serve (protobuf over HTTP)', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe();
  }, 60_000);
  afterAll(async () => t?.close());

  it('stores every case with the expected column values', async () => {
    const records = CASES.map((c, i) => ({
      ...c.record,
      attributes: [...((c.record.attributes as JsonObject[] | undefined) ?? []), str('case', String(i))],
    }));
    const res = await t.send(logsRequest(records, [str('service.name', 'svc')], SCOPE));
    expect(res.status, t.logs.join('')).toBe(200);
    const stored = await t.serve.store.query<{
      ts: string;
      TraceId: string;
      SpanId: string;
      TraceFlags: number;
      SeverityNumber: number;
      Body: string;
      LogAttributes: Record<string, string>;
      keys: string[];
      EventName: string;
    }>(
      `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ts, TraceId, SpanId, TraceFlags, SeverityNumber, Body,
              LogAttributes, mapKeys(LogAttributes) AS keys, EventName FROM {db}.${AUDIT_TABLES.logs} ORDER BY toUInt32(LogAttributes['case'])`,
    );
    expect(stored.map((r) => Number(r.LogAttributes.case))).toEqual(CASES.map((_, i) => i));
    CASES.forEach((c, i) => {
      const row = stored[i];
      const { case: _case, ...attributes } = row?.LogAttributes ?? {};
      if (c.expected.Timestamp !== undefined) expect(row?.ts, c.name).toBe(c.expected.Timestamp);
      if (c.expected.Body !== undefined) expect(row?.Body, c.name).toBe(c.expected.Body);
      if (c.expected.LogAttributes !== undefined)
        expect(attributes, c.name).toEqual({ ...c.expected.LogAttributes });
      if (c.expected.TraceId !== undefined) expect(row?.TraceId, c.name).toBe(c.expected.TraceId);
      // The stored map lists its keys in byte order, the added 'case' key included.
      expect(row?.keys, c.name).toEqual([...(row?.keys ?? [])].sort(compareUtf8));
      const keys = c.storedKeys ?? c.keys;
      if (keys)
        expect(
          row?.keys.filter((k) => k !== 'case'),
          c.name,
        ).toEqual(keys);
      if (c.expected.TraceFlags !== undefined) expect(row?.TraceFlags, c.name).toBe(c.expected.TraceFlags);
      if (c.expected.EventName !== undefined) expect(row?.EventName, c.name).toBe(c.expected.EventName);
    });
  }, 60_000);
});
