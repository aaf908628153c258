// The decoded form of an OTLP logs request that both decoders (JSON, protobuf) produce and the row builder reads.
// Mirrors opentelemetry/proto/logs/v1 with the collector's (pdata) semantics; only what the exporter stores.

/** An OTLP `AnyValue`. 64-bit integers stay exact as decimal strings. */
export type OtlpValue =
  | { kind: 'empty' }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: string }
  | { kind: 'double'; value: number }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'array'; values: OtlpValue[] }
  | { kind: 'kvlist'; values: OtlpKeyValue[] };

export interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

export interface OtlpLogRecord {
  /** Unix epoch nanoseconds, decimal (fixed64: `'0'` when unset). */
  timeUnixNano: string;
  observedTimeUnixNano: string;
  /** The enum's integer (any int32 may arrive). */
  severityNumber: number;
  severityText: string;
  body: OtlpValue;
  attributes: OtlpKeyValue[];
  /** fixed32 flags (the low byte is the W3C trace flags). */
  flags: number;
  /** Lowercase hex (32 / 16 characters) or '' when absent. */
  traceId: string;
  spanId: string;
  eventName: string;
}

export interface OtlpScopeLogs {
  scope: { name: string; version: string; attributes: OtlpKeyValue[] };
  schemaUrl: string;
  logRecords: OtlpLogRecord[];
}

export interface OtlpResourceLogs {
  resource: { attributes: OtlpKeyValue[] };
  schemaUrl: string;
  scopeLogs: OtlpScopeLogs[];
}

export interface OtlpLogsRequest {
  resourceLogs: OtlpResourceLogs[];
}

export const EMPTY_VALUE: OtlpValue = Object.freeze({ kind: 'empty' });

/** Number of log records in a request. */
export function recordCount(request: OtlpLogsRequest): number {
  let n = 0;
  for (const rl of request.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

/**
 * Deepest nesting of array and kvlist values a request may carry. Deeper values are refused (400) instead of
 * overflowing the stack of the decoders and encoders, which recurse per level (5,000 levels made a 500). 31: the
 * protobuf decoder's own limit (100 message levels, protoc's default) stops kvlists past 31: JSON and protobuf
 * requests take the same values.
 */
export const MAX_VALUE_DEPTH = 31;
