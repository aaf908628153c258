// Decoded OTLP logs → `otel_logs` rows with exactly the values the contrib ClickHouse exporter writes
// (exporter/clickhouseexporter/exporter_logs.go, shared/reference.md §1), plus the receiver's own record checks.
import type { OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_MARKER_ATTRIBUTE } from '@otel-audit/sdk/conventions';
import { asString, compareUtf8 } from './any-value.js';
import { RowsTooLargeError } from './errors.js';
import type { OtlpKeyValue, OtlpLogRecord, OtlpLogsRequest } from './otlp-model.js';
import type { RetentionCutoff } from './retention.js';

/** Records the receiver refuses (OTLP partial success): how many, and why (first few reasons). */
export interface Rejections {
  count: number;
  reasons: string[];
}

export interface RowsResult {
  rows: OtelLogRow[];
  rejected: Rejections;
  /** Ordinary (non-audit) records left out because `auditOnly` was set. */
  skipped: number;
}

export interface RowOptions {
  /** Largest accepted record: characters of its body plus its attribute keys and values. */
  maxRecordSize: number;
  /**
   * Keep only audit records (those carrying the marker attribute), as gateway.yaml's filter does before the
   * exporter; the others are accepted and not stored.
   */
  auditOnly: boolean;
  /**
   * Largest total, in characters, of the rows a request becomes (each record's size plus its resource and scope
   * attributes, which every row repeats); over it the whole request is refused (`RowsTooLargeError`).
   */
  maxRowsSize?: number;
  /**
   * The store's retention now: an audit record whose time is before it is rejected, as its TTL would delete it
   * as soon as it landed (acknowledged, then gone).
   */
  retention?: RetentionCutoff | undefined;
}

/** DateTime64(9) holds Int64 nanoseconds: the latest time is 2262-04-11T23:47:16.854775807Z. */
const MAX_TIMESTAMP = '9223372036854775807';
const MAX_REASONS = 5;

function afterMaxTimestamp(ns: string): boolean {
  return ns.length > MAX_TIMESTAMP.length || (ns.length === MAX_TIMESTAMP.length && ns > MAX_TIMESTAMP);
}

/**
 * The exporter's map columns list keys in byte order (clickhouse-go's orderedmap sorts them). A sender's
 * records repeat a few key sequences (optional attributes present or not), so the orders of the last few
 * sequences seen are kept and reused instead of sorting every record's keys.
 */
const RECENT_ORDERS = 8;
const recentOrders: { keys: string[]; order: number[] }[] = [];

function byteOrder(attributes: readonly OtlpKeyValue[]): number[] {
  for (const recent of recentOrders) {
    let same = attributes.length === recent.keys.length;
    for (let i = 0; same && i < attributes.length; i++) same = attributes[i]?.key === recent.keys[i];
    if (same) return recent.order;
  }
  const keys = attributes.map((a) => a.key);
  // Ties by position: of duplicate keys the first stays first.
  const order = keys
    .map((_, i) => i)
    .sort((x, y) => compareUtf8(keys[x] as string, keys[y] as string) || x - y);
  if (recentOrders.unshift({ keys, order }) > RECENT_ORDERS) recentOrders.pop();
  return order;
}

/**
 * pdata Map → exporter map column: every value through AsString, keys inserted in byte order (a JavaScript
 * object still lists array-index keys such as "2" first: insertLogs writes such a map in byte order). Map.Get and ClickHouse's
 * `map[key]` both see the first of duplicate keys, so the first one is kept. A plain object (rows with the
 * same keys share one shape, which keeps building and serializing them fast); `__proto__` and inherited
 * names are own keys.
 */
export function attributeMap(attributes: readonly OtlpKeyValue[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const i of byteOrder(attributes)) {
    const { key, value } = attributes[i] as OtlpKeyValue;
    if (map[key] !== undefined && Object.hasOwn(map, key)) continue;
    if (key === '__proto__')
      Object.defineProperty(map, key, {
        value: asString(value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else map[key] = asString(value);
  }
  return map;
}

function recordSize(body: string, attributes: Record<string, string>): number {
  let size = body.length;
  // for-in: the map is a plain object and Object.prototype has no enumerable keys.
  for (const key in attributes) size += key.length + (attributes[key] as string).length;
  return size;
}

/**
 * An audit record as the collector configs tell one (`attributes["audit.action"] != nil`): the attribute with a
 * value (an empty AnyValue is nil to OTTL), its first occurrence counting as in pdata's Map.Get.
 */
function isAudit(record: OtlpLogRecord): boolean {
  return (
    (record.attributes.find((kv) => kv.key === AUDIT_MARKER_ATTRIBUTE)?.value.kind ?? 'empty') !== 'empty'
  );
}

export function requestToRows(request: OtlpLogsRequest, options: RowOptions): RowsResult {
  const rows: OtelLogRow[] = [];
  const rejected: Rejections = { count: 0, reasons: [] };
  let skipped = 0;
  const reject = (where: string, reason: string) => {
    rejected.count += 1;
    if (rejected.reasons.length < MAX_REASONS) rejected.reasons.push(`${where}: ${reason}`);
  };
  let rowsSize = 0;
  const maxRowsSize = options.maxRowsSize ?? Number.POSITIVE_INFINITY;
  const { retention } = options;
  request.resourceLogs.forEach((rl, i) => {
    const resourceAttributes = attributeMap(rl.resource.attributes);
    // What every row of this resource repeats: its attributes and schema URL (scope parts added below).
    const resourceSize = recordSize(rl.schemaUrl, resourceAttributes);
    const serviceName = resourceAttributes['service.name'] ?? '';
    rl.scopeLogs.forEach((sl, j) => {
      const scopeAttributes = attributeMap(sl.scope.attributes);
      const sharedSize =
        resourceSize +
        recordSize(sl.schemaUrl, scopeAttributes) +
        sl.scope.name.length +
        sl.scope.version.length;
      sl.logRecords.forEach((r, k) => {
        if (options.auditOnly && !isAudit(r)) {
          skipped += 1;
          return;
        }
        const timestamp = r.timeUnixNano !== '0' ? r.timeUnixNano : r.observedTimeUnixNano;
        const where = () => `resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}]`;
        if (afterMaxTimestamp(timestamp)) {
          reject(where(), `timestamp ${timestamp} ns is after 2262-04-11, outside DateTime64(9)`);
          return;
        }
        const ms = retention === undefined ? undefined : Number(BigInt(timestamp) / 1_000_000n);
        if (retention !== undefined && ms !== undefined && ms < retention.expiredBeforeMs && isAudit(r)) {
          reject(
            where(),
            `occurred at ${new Date(ms).toISOString()}, older than the store's ` +
              `retention of ${retention.days} days: it would be deleted as soon as stored` +
              (timestamp === '0'
                ? ' (the record has no timeUnixNano nor observedTimeUnixNano: 1970-01-01)'
                : ''),
          );
          return;
        }
        const body = asString(r.body);
        const logAttributes = attributeMap(r.attributes);
        const size = recordSize(body, logAttributes);
        if (size > options.maxRecordSize) {
          reject(
            where(),
            `record is ${size} characters (body + attributes), over the limit of ${options.maxRecordSize}`,
          );
          return;
        }
        rowsSize += size + sharedSize + r.eventName.length + r.severityText.length;
        if (rowsSize > maxRowsSize) throw new RowsTooLargeError(maxRowsSize);
        rows.push({
          // 19 digits: ClickHouse reads shorter digit strings as seconds or dates (measured: "1" is 2026-01-01).
          Timestamp: timestamp.padStart(19, '0'),
          TraceId: r.traceId,
          SpanId: r.spanId,
          // The exporter converts with uint8(...): only the low byte is kept.
          TraceFlags: r.flags & 0xff,
          SeverityText: r.severityText,
          SeverityNumber: r.severityNumber & 0xff,
          ServiceName: serviceName,
          Body: body,
          ResourceSchemaUrl: rl.schemaUrl,
          ResourceAttributes: resourceAttributes,
          ScopeSchemaUrl: sl.schemaUrl,
          ScopeName: sl.scope.name,
          ScopeVersion: sl.scope.version,
          ScopeAttributes: scopeAttributes,
          LogAttributes: logAttributes,
          EventName: r.eventName,
        });
      });
    });
  });
  return { rows, rejected, skipped };
}

/** The OTLP `error_message` of a partial success. */
export function rejectionMessage(rejected: Rejections): string {
  const more = rejected.count - rejected.reasons.length;
  return `${rejected.count} log record(s) rejected: ${rejected.reasons.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}
