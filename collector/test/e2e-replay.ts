// Replays what the collector delivered into the store as `otel_logs` rows (the issue's "file exporter replayed
// into it" last hop), for the records these tests emit: string and integer attributes, string bodies.
// Anything else is refused rather than approximated: full OTLP fidelity is the local receiver's job.
import type { AuditStore, OtelLogRow } from '@otel-audit/clickhouse';
import type { DeliveredLog, OtlpAnyValue } from './e2e-otlp-sink.js';

function text(value: OtlpAnyValue, where: string): string {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return String(value.intValue);
  throw new Error(`replay: ${where} is not a string or integer value: ${JSON.stringify(value)}`);
}

function attributes(map: Record<string, OtlpAnyValue>, where: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(map).map(([key, value]) => [key, text(value, `${where}["${key}"]`)]),
  );
}

export function toOtelLogRow(log: DeliveredLog, index: number): OtelLogRow {
  const where = `delivered[${index}]`;
  const resource = attributes(log.resource, `${where}.resource`);
  return {
    // As the exporter: the record's time, or its observed time when that is 0.
    Timestamp: log.timeUnixNano && log.timeUnixNano !== '0' ? log.timeUnixNano : log.observedTimeUnixNano,
    TraceId: log.traceId.toLowerCase(),
    SpanId: log.spanId.toLowerCase(),
    TraceFlags: 0,
    SeverityText: log.severityText,
    SeverityNumber: log.severityNumber,
    ServiceName: resource['service.name'] ?? '',
    Body: log.body === undefined ? '' : text(log.body, `${where}.body`),
    ResourceSchemaUrl: '',
    ResourceAttributes: resource,
    ScopeSchemaUrl: '',
    ScopeName: log.scope,
    ScopeVersion: log.scopeVersion,
    ScopeAttributes: {},
    LogAttributes: attributes(log.attributes, `${where}.attributes`),
    EventName: log.eventName,
  };
}

/** Inserts every delivered record (duplicates included, as the exporter would) into the store. */
export async function replayIntoStore(store: AuditStore, logs: readonly DeliveredLog[]): Promise<void> {
  await store.insertLogs(logs.map(toOtelLogRow));
}
