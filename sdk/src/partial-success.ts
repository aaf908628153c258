// How an exporter tells AuditLogRecordProcessor that the endpoint rejected part of a batch (OTLP partial
// success): extra fields on the ExportResult of a successful export. AuditOTLPLogExporter sets them.
import type { ExportResult } from '@opentelemetry/core';

/** An export result whose request succeeded but some of whose records the endpoint rejected. */
export interface PartialExportResult extends ExportResult {
  /** How many records of the batch the endpoint rejected (OTLP `partialSuccess.rejectedLogRecords`). */
  rejectedLogRecords: number;
  /** The endpoint's `partialSuccess.errorMessage`. */
  rejectionMessage: string;
}

/** The rejected count an exporter attached to a result, 0 when none. */
export function rejectedCountOf(result: ExportResult): number {
  const n = (result as Partial<PartialExportResult>).rejectedLogRecords;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
