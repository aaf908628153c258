// OTLP/protobuf logs request → OtlpLogsRequest, decoded by protobufjs from the schema below. Also encodes the
// protobuf responses (partial success, google.rpc.Status for errors).

import Long from 'long';
import protobuf from 'protobufjs';
import { DEFAULT_LIMITS } from './config.js';
import { OtlpDecodeError } from './errors.js';
import {
  EMPTY_VALUE,
  MAX_VALUE_DEPTH,
  type OtlpKeyValue,
  type OtlpLogRecord,
  type OtlpLogsRequest,
  type OtlpValue,
} from './otlp-model.js';
import { protobufScanner } from './protobuf-scan.js';

/**
 * The messages of the OTLP logs service this receiver reads and writes, with their wire field numbers (OTLP
 * 1.x: opentelemetry/proto/{collector/logs,logs,common,resource}/v1). Fields the receiver does not use are left
 * out: protobufjs skips unknown fields, as every protobuf decoder must. The end-to-end tests decode what the
 * real collector's OTLP exporter encodes, so a wrong number here fails them.
 */
const OTLP_LOGS_PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Resource { repeated KeyValue attributes = 1; }

message LogRecord {
  fixed64 time_unix_nano = 1;
  fixed64 observed_time_unix_nano = 11;
  int32 severity_number = 2;
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  fixed32 flags = 8;
  bytes trace_id = 9;
  bytes span_id = 10;
  string event_name = 12;
}
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }

message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
`;

// A minimal google.rpc.Status (fields 1 and 2; `details` is never sent).
const STATUS_PROTO = `syntax = "proto3"; package google.rpc; message Status { int32 code = 1; string message = 2; }`;

// protobufjs finds long.js with a CommonJS require that not every loader (ESM, test runners) satisfies; without
// it 64-bit fields decode to lossy numbers. Set it explicitly.
protobuf.util.Long = Long;
protobuf.configure();

function loadRoot(proto = OTLP_LOGS_PROTO): protobuf.Root {
  const root = new protobuf.Root();
  protobuf.parse(proto, root, { keepCase: false });
  protobuf.parse(STATUS_PROTO, root);
  root.resolveAll();
  return root;
}

const root = loadRoot();
const RequestType = root.lookupType('opentelemetry.proto.ExportLogsServiceRequest');
/**
 * The same request with every string field read as bytes, for a body whose strings are not all valid UTF-8:
 * the collector's decoder (pdata) takes such strings as they are, so a receiver standing in for it keeps the
 * record too, its invalid bytes as U+FFFD (one per maximal invalid sequence), instead of refusing a whole
 * batch (a collector forwarding thousands of services' records) for one sender's bad string.
 */
const LenientRequestType = loadRoot(
  OTLP_LOGS_PROTO.replace(/\bstring\b(?= \w+ = \d+;)/g, 'bytes'),
).lookupType('opentelemetry.proto.ExportLogsServiceRequest');
const scanner = protobufScanner(
  RequestType,
  root.lookupType('opentelemetry.proto.ScopeLogs').fields.logRecords as protobuf.Field,
);
const ResponseType = root.lookupType('opentelemetry.proto.ExportLogsServiceResponse');
const StatusType = root.lookupType('google.rpc.Status');

// Shapes of the decoded protobufjs messages (only what is read; unset scalars read as their defaults).
interface PbLong {
  low: number;
  high: number;
}
/** A string field: a string, or its bytes when decoded leniently (LenientRequestType). */
type PbString = string | Uint8Array;

// Lenient decoding gives Buffers (an unset field: protobufjs' default, an empty array).
const text = (s: PbString): string =>
  typeof s === 'string' ? s : Buffer.isBuffer(s) ? s.toString('utf8') : Buffer.from(s).toString('utf8');

interface PbAnyValue {
  value?: string;
  stringValue: PbString;
  boolValue: boolean;
  intValue: PbLong | number;
  doubleValue: number;
  bytesValue: Uint8Array;
  arrayValue?: { values: PbAnyValue[] } | null;
  kvlistValue?: { values: PbKeyValue[] } | null;
}
interface PbKeyValue {
  key: PbString;
  value?: PbAnyValue | null;
}
interface PbLogRecord {
  timeUnixNano: PbLong | number;
  observedTimeUnixNano: PbLong | number;
  severityNumber: number;
  severityText: PbString;
  body?: PbAnyValue | null;
  attributes: PbKeyValue[];
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: PbString;
}
interface PbRequest {
  resourceLogs: {
    resource?: { attributes: PbKeyValue[] } | null;
    schemaUrl: PbString;
    scopeLogs: {
      scope?: { name: PbString; version: PbString; attributes: PbKeyValue[] } | null;
      schemaUrl: PbString;
      logRecords: PbLogRecord[];
    }[];
  }[];
}

/**
 * Bytes per message a protobuf body may average before it is refused unread. Not JSON's 8: real protobuf spends
 * 4 on an int or bool array element and ~5 on a short int attribute (a collector's batch of 20,000 records with
 * 100-element int arrays is 9.2 MB at ~4.1 bytes per message), and a sender such as the Go exporter drops a batch
 * answered 413 rather than splitting it. What stays refused: bodies of mostly empty messages (2 bytes each), the
 * cheapest way to make the decoder build millions of objects.
 */
export const BODY_BYTES_PER_PROTOBUF_MESSAGE = 4;

/** The bound for a --max-body-bytes: one message per 4 bytes of it, never less than at the default 16 MiB. */
export function maxProtobufMessages(maxBodyBytes: number): number {
  return Math.floor(Math.max(maxBodyBytes, DEFAULT_LIMITS.maxBodyBytes) / BODY_BYTES_PER_PROTOBUF_MESSAGE);
}

/**
 * Decodes a protobuf `ExportLogsServiceRequest`; malformed bytes, a known field with the wrong wire type or bad
 * ids throw OtlpDecodeError; more than `maxRecords` log records, TooManyRecordsError, more than `maxMessages`
 * messages, TooManyProtobufMessagesError (both counted before anything is decoded). Strings that are not valid UTF-8 keep the record, their invalid bytes as U+FFFD (see
 * LenientRequestType).
 */
export function decodeProtobufRequest(
  body: Uint8Array,
  maxRecords = Number.POSITIVE_INFINITY,
  maxMessages = Number.POSITIVE_INFINITY,
): OtlpLogsRequest {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  scanner.scan(buffer, maxRecords, maxMessages);
  let message: PbRequest;
  try {
    // protobufjs 8 checks proto3 `string` fields as protobuf-go does: invalid UTF-8 is an error there.
    message = RequestType.decode(buffer) as unknown as PbRequest;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_ENCODING_INVALID_ENCODED_DATA')
      throw new OtlpDecodeError(
        '',
        `not a valid protobuf ExportLogsServiceRequest: ${(error as Error).message}`,
      );
    try {
      message = LenientRequestType.decode(buffer) as unknown as PbRequest;
    } catch (lenientError) {
      throw new OtlpDecodeError(
        '',
        `not a valid protobuf ExportLogsServiceRequest: ${(lenientError as Error).message}`,
      );
    }
  }
  return {
    resourceLogs: message.resourceLogs.map((rl, i) => ({
      resource: { attributes: keyValues(rl.resource?.attributes ?? []) },
      schemaUrl: text(rl.schemaUrl),
      scopeLogs: rl.scopeLogs.map((sl, j) => ({
        scope: {
          name: text(sl.scope?.name ?? ''),
          version: text(sl.scope?.version ?? ''),
          attributes: keyValues(sl.scope?.attributes ?? []),
        },
        schemaUrl: text(sl.schemaUrl),
        logRecords: sl.logRecords.map((r, k) =>
          logRecord(r, () => `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}]`),
        ),
      })),
    })),
  };
}

function logRecord(r: PbLogRecord, where: () => string): OtlpLogRecord {
  return {
    timeUnixNano: uint64(r.timeUnixNano),
    observedTimeUnixNano: uint64(r.observedTimeUnixNano),
    severityNumber: r.severityNumber,
    severityText: text(r.severityText),
    body: r.body ? anyValue(r.body) : EMPTY_VALUE,
    attributes: keyValues(r.attributes),
    flags: r.flags >>> 0,
    traceId: id(r.traceId, 16, where, 'traceId'),
    spanId: id(r.spanId, 8, where, 'spanId'),
    eventName: text(r.eventName),
  };
}

function id(bytes: Uint8Array, length: number, where: () => string, field: string): string {
  if (bytes.length === 0) return '';
  if (bytes.length !== length)
    throw new OtlpDecodeError(`${where()}.${field}`, `must be ${length} bytes, got ${bytes.length}`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  // An all-zero id is "no id": the exporter's TraceIDToHexOrEmptyString writes ''.
  return bytes.every((b) => b === 0) ? '' : hex;
}

function keyValues(list: readonly PbKeyValue[], depth = 0): OtlpKeyValue[] {
  const out = new Array<OtlpKeyValue>(list.length);
  for (let i = 0; i < list.length; i++) {
    const kv = list[i] as PbKeyValue;
    out[i] = { key: text(kv.key), value: kv.value ? anyValue(kv.value, depth) : EMPTY_VALUE };
  }
  return out;
}

function anyValue(v: PbAnyValue, depth = 0): OtlpValue {
  if ((v.value === 'arrayValue' || v.value === 'kvlistValue') && depth >= MAX_VALUE_DEPTH)
    throw new OtlpDecodeError(
      '',
      `a value is nested deeper than ${MAX_VALUE_DEPTH} levels of arrays and maps`,
    );
  switch (v.value) {
    case 'stringValue':
      return { kind: 'string', value: text(v.stringValue) };
    case 'boolValue':
      return { kind: 'bool', value: v.boolValue };
    case 'intValue':
      return { kind: 'int', value: int64(v.intValue) };
    case 'doubleValue':
      return { kind: 'double', value: v.doubleValue };
    case 'bytesValue':
      return { kind: 'bytes', value: v.bytesValue };
    case 'arrayValue':
      return { kind: 'array', values: (v.arrayValue?.values ?? []).map((item) => anyValue(item, depth + 1)) };
    case 'kvlistValue':
      return { kind: 'kvlist', values: keyValues(v.kvlistValue?.values ?? [], depth + 1) };
    default:
      // Unset, or string_value_strindex (a profiles-only dictionary reference): no value for logs.
      return EMPTY_VALUE;
  }
}

function bits(l: PbLong): bigint {
  return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
}

function uint64(l: PbLong | number): string {
  if (typeof l === 'number') return String(l);
  return l.high === 0 ? String(l.low >>> 0) : bits(l).toString();
}

function int64(l: PbLong | number): string {
  if (typeof l === 'number') return String(l);
  return BigInt.asIntN(64, bits(l)).toString();
}

/** Body of a 200 response: empty on full success, `partial_success` when records were rejected. */
export function encodeProtobufResponse(rejected: number, errorMessage: string): Uint8Array {
  const message =
    rejected > 0
      ? ResponseType.fromObject({ partialSuccess: { rejectedLogRecords: rejected, errorMessage } })
      : ResponseType.create({});
  return ResponseType.encode(message).finish();
}

/** Body of an error response: a google.rpc.Status with the gRPC code matching the HTTP status. */
export function encodeProtobufStatus(code: number, message: string): Uint8Array {
  return StatusType.encode(StatusType.create({ code, message })).finish();
}

/**
 * For tests and the benchmark: encodes a request given in protobufjs object form (camelCase keys like OTLP/JSON,
 * but ids and bytes as Buffers, 64-bit integers as strings or numbers).
 */
export function encodeProtobufRequest(request: Record<string, unknown>): Uint8Array {
  return RequestType.encode(RequestType.fromObject(request)).finish();
}

/** Reads a protobuf ExportLogsServiceResponse (for clients and tests): the partial success, if any. */
export function decodeProtobufResponse(body: Uint8Array): {
  rejectedLogRecords: number;
  errorMessage: string;
} {
  const message = ResponseType.toObject(ResponseType.decode(body), { longs: Number, defaults: true }) as {
    partialSuccess?: { rejectedLogRecords: number; errorMessage: string };
  };
  return message.partialSuccess ?? { rejectedLogRecords: 0, errorMessage: '' };
}

/** Reads a protobuf google.rpc.Status error body. */
export function decodeProtobufStatus(body: Uint8Array): { code: number; message: string } {
  return StatusType.toObject(StatusType.decode(body), { defaults: true }) as {
    code: number;
    message: string;
  };
}
