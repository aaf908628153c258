// OTLP/HTTP JSON log exporter that reports partial success. The stock OTLPLogExporter reads an
// `ExportLogsServiceResponse.partialSuccess` (records the endpoint rejected although the request succeeded)
// only to log it through diag, and reports the export as a plain success: those records would be counted as
// exported. This one is the same exporter (same transport, configuration and environment variables, built
// from the public parts of @opentelemetry/otlp-exporter-base and -transformer) with a response reader that
// keeps the rejected count and hands it to AuditLogRecordProcessor with the export result.
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
  type OTLPExporterNodeConfigBase,
} from '@opentelemetry/otlp-exporter-base/node-http';
import {
  type IExportLogsServiceResponse,
  type ISerializer,
  JsonLogsSerializer,
  LogsExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AuditNotOtlpResponseError } from './errors.js';
import { requireCompression, requireMillis } from './options.js';
import type { PartialExportResult } from './partial-success.js';

interface LastResponse {
  partial: { rejected: number; message: string } | undefined;
  /** The body of a success answer that is a web page (the stock reader logs it and reports a success). */
  notOtlp: string | undefined;
}

function readingSerializer(last: LastResponse): ISerializer<ReadableLogRecord[], IExportLogsServiceResponse> {
  return {
    serializeRequest: (records) => JsonLogsSerializer.serializeRequest(records),
    deserializeResponse: (data) => {
      const text = new TextDecoder().decode(data);
      if (isWebPage(text)) {
        last.partial = undefined;
        last.notOtlp = text;
        return {};
      }
      const response = JsonLogsSerializer.deserializeResponse(data);
      const partial = response.partialSuccess;
      // int64 travels as a string in OTLP/JSON.
      const rejected = Number(partial?.rejectedLogRecords ?? 0);
      last.partial = rejected > 0 ? { rejected, message: String(partial?.errorMessage ?? '') } : undefined;
      return response;
    },
  };
}

/**
 * An HTML or XML page, not an OTLP answer. Only that: another body that does not parse as JSON may still be a
 * receiver's (a protobuf answer to a JSON request, a proxy's gzip-encoded JSON), which the exporter takes as a
 * success as it always did.
 */
function isWebPage(text: string): boolean {
  return /^\uFEFF?\s*</.test(text);
}

/**
 * A redirect answered to an export (http -> https, a moved endpoint), said as such: the exporter does not follow
 * it (its message was only "Moved Permanently"), so the records fail (see isRetryable).
 */
function redirectOf(error: unknown): Error | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (!(error instanceof Error) || typeof code !== 'number' || code < 300 || code >= 400) return undefined;
  const said = new Error(
    `the endpoint answered ${code} ${error.message} (a redirect): the exporter does not follow redirects; set the ` +
      'endpoint to the URL it redirects to',
    { cause: error },
  );
  return Object.assign(said, { code });
}

/**
 * The timeout the OTLP exporter uses, read as it reads it: the option, else OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, else
 * OTEL_EXPORTER_OTLP_TIMEOUT (a variable that is blank, not a number or not > 0 is skipped, as the exporter
 * does), else 10 s. `described` names where it came from, for an error that asks for a longer export timeout.
 */
export function otlpTimeout(configured: number | undefined): {
  millis: number;
  described: string;
  /** The variable it was read from, if any. */
  variable?: string;
} {
  if (configured !== undefined) return { millis: configured, described: `timeoutMillis (${configured} ms)` };
  for (const name of ['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT']) {
    const raw = process.env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw);
    if (Number.isFinite(value) && value > 0)
      return { millis: value, described: `timeout (${value} ms, ${name})`, variable: name };
  }
  return { millis: 10_000, described: 'timeout (10000 ms, the default)' };
}

/** Brand of AuditOTLPLogExporter, shared across copies of this package (Symbol.for): instanceof is not. */
export const AUDIT_EXPORTER: unique symbol = Symbol.for('otel-audit.otlp-log-exporter') as never;

/** An AuditOTLPLogExporter of any copy of this package: its timeout is known. */
export function isAuditExporter(
  exporter: unknown,
): exporter is { timeoutMillis: number; timeoutDescribed: string } {
  const e = exporter as {
    [AUDIT_EXPORTER]?: unknown;
    timeoutMillis?: unknown;
    timeoutDescribed?: unknown;
  } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e[AUDIT_EXPORTER] === true &&
    typeof e.timeoutMillis === 'number' &&
    typeof e.timeoutDescribed === 'string'
  );
}

/**
 * `OTLPLogExporter` (HTTP, JSON) whose export result carries `rejectedLogRecords` when the endpoint answers
 * with a partial success. Same options as `OTLPLogExporter` from @opentelemetry/exporter-logs-otlp-http.
 */
export class AuditOTLPLogExporter extends OTLPExporterBase<ReadableLogRecord[]> implements LogRecordExporter {
  private readonly last: LastResponse;
  /**
   * How long one export may take, the exporter's own retries included: `timeoutMillis` as given, else read from
   * OTEL_EXPORTER_OTLP_(LOGS_)TIMEOUT as the exporter reads it, else 10,000. AuditLogRecordProcessor reads it.
   */
  readonly timeoutMillis: number;
  /** Where timeoutMillis came from (the option or which variable), as errors about it say. */
  readonly timeoutDescribed: string;
  /** Recognised by a processor of another copy of this package too (a library's bundle): see isAuditExporter. */
  readonly [AUDIT_EXPORTER]: true = true;

  constructor(config: OTLPExporterNodeConfigBase = {}) {
    const last: LastResponse = { partial: undefined, notOtlp: undefined };
    const timeout = otlpTimeout(config.timeoutMillis);
    // Outside setTimeout's range a request timeout misfires (0.5 ms timed every export out; past 2^31 - 1 Node
    // fires at once): refused here, for every way of building the pipeline; before super(), whose own check
    // throws a plain Error for 0, negatives and NaN.
    requireMillis('AuditOTLPLogExporter', timeout.variable ?? 'timeoutMillis', timeout.millis, 1);
    requireCompression('AuditOTLPLogExporter', config.compression);
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'LOGS', 'v1/logs', { 'Content-Type': 'application/json' }),
        readingSerializer(last),
        'otlp_http_log_exporter',
        LogsExporterMetricsHelper,
        // Self-observability metrics (otel.sdk.exporter.log.*), as the stock exporter reports them.
        config.selfObsMeterProvider,
      ),
    );
    this.last = last;
    this.timeoutMillis = timeout.millis;
    this.timeoutDescribed = timeout.described;
  }

  override export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    super.export(records, (result) => {
      // The delegate reads the response and calls back in the same synchronous step, so `last` is this
      // export's response even with several exports in flight.
      const partial = this.last.partial;
      const notOtlp = this.last.notOtlp;
      this.last.partial = undefined;
      this.last.notOtlp = undefined;
      // A web page answered with a success status was counted exported, and the events lost without a word.
      if (notOtlp !== undefined && result.code === ExportResultCode.SUCCESS)
        return done({ code: ExportResultCode.FAILED, error: new AuditNotOtlpResponseError(notOtlp) });
      const redirect = redirectOf(result.error);
      if (redirect !== undefined) return done({ ...result, error: redirect });
      if (partial === undefined) return done(result);
      const withRejections: PartialExportResult = {
        ...result,
        rejectedLogRecords: partial.rejected,
        rejectionMessage: partial.message,
      };
      done(withRejections);
    });
  }
}
