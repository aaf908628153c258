// OTLP/JSON logs request → OtlpLogsRequest, per the OTLP/JSON encoding: lowerCamelCase keys, trace and span ids
// as hex, 64-bit integers as decimal strings or numbers, enums as integers (names accepted too), bytes as
// base64, unknown fields ignored, null = absent. Any type error rejects the request with the path of the field.
import { DEFAULT_LIMITS } from './config.js';
import { OtlpDecodeError, TooManyJsonObjectsError, TooManyRecordsError } from './errors.js';
import {
  EMPTY_VALUE,
  MAX_VALUE_DEPTH,
  type OtlpKeyValue,
  type OtlpLogRecord,
  type OtlpLogsRequest,
  type OtlpResourceLogs,
  type OtlpScopeLogs,
  type OtlpValue,
} from './otlp-model.js';

type Json = Record<string, unknown>;

/**
 * Where the walk is: a stack of field names with the array index under each (-1 when not in an array).
 * Indexes are plain numbers; the path text is only built when an error is thrown.
 */
class Path {
  private readonly fields: string[] = [];
  private readonly indexes: number[] = [];
  push(field: string, index = -1): void {
    this.fields.push(field);
    this.indexes.push(index);
  }
  /** Sets the array index of the innermost segment. */
  at(index: number): void {
    this.indexes[this.indexes.length - 1] = index;
  }
  pop(): void {
    this.fields.pop();
    this.indexes.pop();
  }
  fail(field: string | undefined, reason: string): never {
    const parts = this.fields.map((f, i) =>
      (this.indexes[i] as number) >= 0 ? `${f}[${this.indexes[i]}]` : f,
    );
    if (field !== undefined) parts.push(field);
    throw new OtlpDecodeError(parts.join('.'), reason);
  }
}

/** A bad value for an error message: short, and never the whole of a large or deeply nested one. */
const describe = (value: unknown): string => {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (Array.isArray(value)) return `an array of ${count(value.length, 'item')}`;
  if (typeof value === 'object' && value !== null)
    return `an object of ${count(Object.keys(value).length, 'key')}`;
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

/**
 * Parses a UTF-8 JSON body (invalid JSON is a 400) into the request model. Bytes that are not valid UTF-8
 * become U+FFFD (the collector's Go decoders take such bodies too): one sender's bad string in a forwarded batch
 * does not cost the whole batch. Each field is read by its JSON name or its proto field name (`scope_logs`).
 */
export function decodeJsonRequest(
  body: Uint8Array,
  maxRecords = Number.POSITIVE_INFINITY,
  maxObjects = maxJsonObjects(DEFAULT_LIMITS.maxBodyBytes),
): OtlpLogsRequest {
  checkShape(body, maxObjects);
  const text = UTF8.decode(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OtlpDecodeError('', `body is not valid JSON: ${(error as Error).message}`);
  }
  if (countRecords(parsed) > maxRecords) throw new TooManyRecordsError(maxRecords);
  return decodeJsonValue(parsed);
}

/**
 * Far deeper than any request the walk accepts (values nest at most MAX_VALUE_DEPTH kvlists, 4 levels each), so
 * a body nested past that still gets the walk's error naming the field; 8M levels took 5.8 s to parse.
 */
export const MAX_JSON_NESTING = 100_000;
/**
 * Objects and arrays a body may hold, per byte of the largest body serve takes (--max-body-bytes): a real request
 * spends 10+ bytes on each (`{"key":"k","value":{}}`), so a body at the size limit holds fewer. A body of bare
 * `{},` (16 MiB from a 16 KB gzip body) parsed 9-18x slower per byte than real requests and took ~900 MB, all on
 * the event loop. Not a bound per byte of this body: OTel exporters write an array of nulls as `[{},{},…]`
 * (3 bytes each), which a small request may hold.
 */
export const BODY_BYTES_PER_OBJECT = 8;

/**
 * The bound for a --max-body-bytes: one object or array per BODY_BYTES_PER_OBJECT bytes of it, and never less than
 * at the default 16 MiB (2,097,152): a limit of 4 MiB or less never refuses a body that fits (2 bytes per opener
 * at the least, `[]`); above that, as at the default, a body of fewer than 8 bytes per object may be refused.
 */
export function maxJsonObjects(maxBodyBytes: number): number {
  return Math.floor(Math.max(maxBodyBytes, DEFAULT_LIMITS.maxBodyBytes) / BODY_BYTES_PER_OBJECT);
}

/**
 * One pass over the bytes before JSON.parse, outside strings (a `{` in a string, as in the audit metadata, is
 * text): refuses nesting deeper than MAX_JSON_NESTING and more than `maxObjects` objects and arrays. UTF-8
 * continuation bytes are never ASCII, so bytes are enough.
 */
function checkShape(body: Uint8Array, maxObjects: number): void {
  let depth = 0;
  let openers = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i] as number;
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > MAX_JSON_NESTING)
        throw new OtlpDecodeError('', `body nests objects and arrays deeper than ${MAX_JSON_NESTING} levels`);
      if (++openers > maxObjects) throw new TooManyJsonObjectsError(maxObjects);
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
}

/** Log records of a parsed request, counted before the walk builds the model (lists that are no arrays: 0). */
function countRecords(parsed: unknown): number {
  let n = 0;
  const items = (value: unknown, json: string, proto: string): unknown[] => {
    const list = typeof value === 'object' && value !== null ? field(value as Json, json, proto) : undefined;
    return Array.isArray(list) ? list : [];
  };
  for (const rl of items(parsed, 'resourceLogs', 'resource_logs'))
    for (const sl of items(rl, 'scopeLogs', 'scope_logs')) n += items(sl, 'logRecords', 'log_records').length;
  return n;
}

const UTF8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/** Walks an already parsed OTLP/JSON request. */
export function decodeJsonValue(parsed: unknown): OtlpLogsRequest {
  const path = new Path();
  const root = object(parsed, path, undefined);
  return {
    resourceLogs: list(field(root, 'resourceLogs', 'resource_logs'), path, 'resourceLogs', resourceLogs),
  };
}

/**
 * A field by its JSON name or its proto field name (`scopeLogs`, `scope_logs`): protobuf's JSON mapping (and the
 * collector) take either, field by field, so one body may mix them.
 */
function field(o: Json, json: string, proto: string): unknown {
  const value = o[json];
  return value === undefined || value === null ? o[proto] : value;
}

function object(value: unknown, path: Path, field: string | undefined): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    path.fail(field, `expected an object, got ${describe(value)}`);
  return value as Json;
}

function list<T>(value: unknown, path: Path, field: string, item: (v: unknown, path: Path) => T): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) path.fail(field, `expected an array, got ${describe(value)}`);
  const out = new Array<T>(value.length);
  path.push(field, 0);
  for (let i = 0; i < value.length; i++) {
    path.at(i);
    out[i] = item(value[i], path);
  }
  path.pop();
  return out;
}

function str(value: unknown, path: Path, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') path.fail(field, `expected a string, got ${describe(value)}`);
  // JSON may carry lone surrogate escapes ("\ud800"); Go's decoder turns them into U+FFFD.
  const s = value as WellFormedString;
  return s.isWellFormed() ? value : s.toWellFormed();
}

/** ES2024 string methods (Node 20+), not in the project's TypeScript lib. */
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

const UINT64_MAX = 18446744073709551615n;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;
const SHORT_CANONICAL_UINT = /^(0|[1-9]\d{0,18})$/;
const INTEGER_TEXT = /^-?\d+$/;

/** fixed64 / uint64 as a canonical decimal string. */
function uint64(value: unknown, path: Path, field: string): string {
  if (value === undefined || value === null) return '0';
  if (typeof value === 'string') {
    if (SHORT_CANONICAL_UINT.test(value)) return value;
    if (/^\d+$/.test(value)) {
      const n = BigInt(value);
      if (n <= UINT64_MAX) return n.toString();
    }
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2 ** 64 - 1) {
    return BigInt(value).toString();
  }
  return path.fail(
    field,
    `expected an unsigned 64-bit integer (decimal string or number), got ${describe(value)}`,
  );
}

/** int64 as a canonical decimal string. */
function int64(value: unknown, path: Path, field: string): string {
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) {
    const n = BigInt(value);
    if (n >= INT64_MIN && n <= INT64_MAX) return n.toString();
  } else if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 63) {
    const n = BigInt(value);
    if (n >= INT64_MIN && n <= INT64_MAX) return n.toString();
  }
  return path.fail(
    field,
    `expected a signed 64-bit integer (decimal string or number), got ${describe(value)}`,
  );
}

function uint32(value: unknown, path: Path, field: string): number {
  if (value === undefined || value === null) return 0;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff) return n;
  return path.fail(field, `expected an unsigned 32-bit integer, got ${describe(value)}`);
}

const SEVERITY_NAMES: ReadonlyMap<string, number> = new Map(
  [
    'UNSPECIFIED',
    'TRACE',
    'TRACE2',
    'TRACE3',
    'TRACE4',
    'DEBUG',
    'DEBUG2',
    'DEBUG3',
    'DEBUG4',
    'INFO',
    'INFO2',
    'INFO3',
    'INFO4',
    'WARN',
    'WARN2',
    'WARN3',
    'WARN4',
    'ERROR',
    'ERROR2',
    'ERROR3',
    'ERROR4',
    'FATAL',
    'FATAL2',
    'FATAL3',
    'FATAL4',
  ].map((name, i) => [`SEVERITY_NUMBER_${name}`, i]),
);

/** SeverityNumber: an int32 (the spec's encoding) or the enum value's name (protobuf JSON also allows it). */
function severity(value: unknown, path: Path): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31)
    return value;
  if (typeof value === 'string') {
    const named = SEVERITY_NAMES.get(value);
    if (named !== undefined) return named;
  }
  return path.fail('severityNumber', `expected a SeverityNumber integer, got ${describe(value)}`);
}

function double(value: unknown, path: Path, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    const n = Number(value);
    if (value.trim() !== '' && Number.isFinite(n)) return n;
  }
  return path.fail(field, `expected a number, got ${describe(value)}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function bytes(value: unknown, path: Path, field: string): Uint8Array {
  if (typeof value === 'string' && (BASE64.test(value) || BASE64URL.test(value)))
    return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
  return path.fail(field, `expected base64 bytes, got ${describe(value)}`);
}

const HEX = /^[0-9a-fA-F]*$/;
const ZEROS = /^0*$/;

/** Trace/span id: hex of exactly `length` bytes or empty; all zeros is "no id" (exporter writes ''). */
function id(value: unknown, path: Path, field: string, length: number): string {
  const text = str(value, path, field);
  if (text === '') return '';
  if (text.length !== length * 2 || !HEX.test(text))
    path.fail(field, `expected ${length * 2} hex characters or an empty string, got ${describe(value)}`);
  return ZEROS.test(text) ? '' : text.toLowerCase();
}

// Array and kvlist levels entered: the decoding is synchronous, so one counter serves every request.
let valueDepth = 0;

/** Decodes one array or kvlist level under `field` of the path, refusing one past MAX_VALUE_DEPTH. */
function nested<T>(path: Path, field: string, decode: () => T): T {
  if (valueDepth >= MAX_VALUE_DEPTH)
    path.fail(field, `value nested deeper than ${MAX_VALUE_DEPTH} levels of arrays and maps`);
  valueDepth += 1;
  path.push(field);
  try {
    return decode();
  } finally {
    path.pop();
    valueDepth -= 1;
  }
}

function anyValue(value: unknown, path: Path): OtlpValue {
  if (value === undefined || value === null) return EMPTY_VALUE;
  const v = object(value, path, undefined);
  // field() reads null as absent.
  const stringValue = field(v, 'stringValue', 'string_value');
  if (stringValue !== undefined && stringValue !== null)
    return { kind: 'string', value: str(stringValue, path, 'stringValue') };
  const boolValue = field(v, 'boolValue', 'bool_value');
  if (boolValue !== undefined && boolValue !== null) {
    if (typeof boolValue !== 'boolean')
      path.fail('boolValue', `expected a boolean, got ${describe(boolValue)}`);
    return { kind: 'bool', value: boolValue };
  }
  const intValue = field(v, 'intValue', 'int_value');
  if (intValue !== undefined && intValue !== null)
    return { kind: 'int', value: int64(intValue, path, 'intValue') };
  const doubleValue = field(v, 'doubleValue', 'double_value');
  if (doubleValue !== undefined && doubleValue !== null)
    return { kind: 'double', value: double(doubleValue, path, 'doubleValue') };
  const bytesValue = field(v, 'bytesValue', 'bytes_value');
  if (bytesValue !== undefined && bytesValue !== null)
    return { kind: 'bytes', value: bytes(bytesValue, path, 'bytesValue') };
  const arrayValue = field(v, 'arrayValue', 'array_value');
  if (arrayValue !== undefined && arrayValue !== null) {
    const values = nested(path, 'arrayValue', () =>
      list(object(arrayValue, path, undefined).values, path, 'values', anyValue),
    );
    return { kind: 'array', values };
  }
  const kvlistValue = field(v, 'kvlistValue', 'kvlist_value');
  if (kvlistValue !== undefined && kvlistValue !== null) {
    const values = nested(path, 'kvlistValue', () =>
      list(object(kvlistValue, path, undefined).values, path, 'values', keyValue),
    );
    return { kind: 'kvlist', values };
  }
  return EMPTY_VALUE;
}

function keyValue(value: unknown, path: Path): OtlpKeyValue {
  const kv = object(value, path, undefined);
  const key = str(kv.key, path, 'key');
  path.push('value');
  const v = anyValue(kv.value, path);
  path.pop();
  return { key, value: v };
}

function attributes(value: unknown, path: Path): OtlpKeyValue[] {
  return list(value, path, 'attributes', keyValue);
}

function logRecord(value: unknown, path: Path): OtlpLogRecord {
  const r = object(value, path, undefined);
  path.push('body');
  const body = anyValue(r.body, path);
  path.pop();
  return {
    timeUnixNano: uint64(field(r, 'timeUnixNano', 'time_unix_nano'), path, 'timeUnixNano'),
    observedTimeUnixNano: uint64(
      field(r, 'observedTimeUnixNano', 'observed_time_unix_nano'),
      path,
      'observedTimeUnixNano',
    ),
    severityNumber: severity(field(r, 'severityNumber', 'severity_number'), path),
    severityText: str(field(r, 'severityText', 'severity_text'), path, 'severityText'),
    body,
    attributes: attributes(r.attributes, path),
    flags: uint32(r.flags, path, 'flags'),
    traceId: id(field(r, 'traceId', 'trace_id'), path, 'traceId', 16),
    spanId: id(field(r, 'spanId', 'span_id'), path, 'spanId', 8),
    eventName: str(field(r, 'eventName', 'event_name'), path, 'eventName'),
  };
}

function scopeLogs(value: unknown, path: Path): OtlpScopeLogs {
  const s = object(value, path, undefined);
  let scope: OtlpScopeLogs['scope'] = { name: '', version: '', attributes: [] };
  if (s.scope !== undefined && s.scope !== null) {
    path.push('scope');
    const sc = object(s.scope, path, undefined);
    scope = {
      name: str(sc.name, path, 'name'),
      version: str(sc.version, path, 'version'),
      attributes: attributes(sc.attributes, path),
    };
    path.pop();
  }
  return {
    scope,
    schemaUrl: str(field(s, 'schemaUrl', 'schema_url'), path, 'schemaUrl'),
    logRecords: list(field(s, 'logRecords', 'log_records'), path, 'logRecords', logRecord),
  };
}

function resourceLogs(value: unknown, path: Path): OtlpResourceLogs {
  const rl = object(value, path, undefined);
  let resourceAttributes: OtlpKeyValue[] = [];
  if (rl.resource !== undefined && rl.resource !== null) {
    path.push('resource');
    resourceAttributes = attributes(object(rl.resource, path, undefined).attributes, path);
    path.pop();
  }
  return {
    resource: { attributes: resourceAttributes },
    schemaUrl: str(field(rl, 'schemaUrl', 'schema_url'), path, 'schemaUrl'),
    scopeLogs: list(field(rl, 'scopeLogs', 'scope_logs'), path, 'scopeLogs', scopeLogs),
  };
}
