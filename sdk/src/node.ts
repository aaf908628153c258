// @otel-audit/sdk/node: a ready OTel log pipeline for services that have none yet (resource, accounting batch
// processor, OTLP/HTTP exporter). Services with their own LoggerProvider add `AuditLogRecordProcessor` to it.
// Needs the optional peers @opentelemetry/sdk-logs, otlp-exporter-base, otlp-transformer, resources and core.
import type { Attributes } from '@opentelemetry/api';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { AuditOptionError } from './errors.js';
import { MAX_TIMER_MS, refuseUnknownOptions, requireCompression, requireMillis } from './options.js';
import { AuditOTLPLogExporter, otlpTimeout } from './otlp-exporter.js';
import {
  AuditLogRecordProcessor,
  type AuditLogRecordProcessorOptions,
  DEFAULT_EXPORT_TIMEOUT_MS,
  EXPORT_TIMEOUT_MARGIN_MS,
} from './processor.js';

export { AuditOTLPLogExporter } from './otlp-exporter.js';
export { type PartialExportResult, rejectedCountOf } from './partial-success.js';
export {
  AuditLogRecordProcessor,
  type AuditLogRecordProcessorOptions,
  isRetryable,
  type ProcessorStats,
} from './processor.js';

export interface AuditLoggerProviderOptions {
  /** `service.name` of the resource. Default: OTEL_SERVICE_NAME, else the SDK's `unknown_service:…`. */
  serviceName?: string | undefined;
  /** More resource attributes (OTEL_RESOURCE_ATTRIBUTES is read too; these win). */
  resourceAttributes?: Attributes | undefined;
  /**
   * OTLP/HTTP base URL, e.g. `http://collector:4318` (`/v1/logs` is appended unless present). Default: the
   * standard variables OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (the full URL, used as it is) /
   * OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, `/v1/logs` appended), else http://localhost:4318/v1/logs. The
   * option and the variable in use must be http:// or https:// URLs that parse (`new URL`; port 1-65535), else
   * `AuditOptionError` naming the option or variable.
   */
  endpoint?: string | undefined;
  /** Request headers (e.g. authorization). Default: OTEL_EXPORTER_OTLP_(LOGS_)HEADERS. */
  headers?: Record<string, string> | undefined;
  /** Request body compression. Default: OTEL_EXPORTER_OTLP_(LOGS_)COMPRESSION, else none. */
  compression?: 'gzip' | 'none' | undefined;
  /**
   * How long one export may take, the exporter's own retries included (its HTTP requests give up after this
   * long without an answer). Default: OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT, else
   * 10 s. The processor's `exportTimeoutMillis` defaults to at least this + 1 s, and may not be set lower.
   */
  timeoutMillis?: number | undefined;
  /**
   * Use this exporter instead of OTLP/HTTP JSON (`AuditOTLPLogExporter`, which reports records the endpoint
   * rejects by partial success; the stock OTLPLogExporter does not, so those would count as exported).
   */
  exporter?: LogRecordExporter | undefined;
  /**
   * Queue, batch and retry settings of the accounting processor. With the OTLP exporter (no `exporter` option),
   * `exportTimeoutMillis` defaults to the larger of 30 s and `timeoutMillis` + 1 s, and a smaller value is an
   * `AuditOptionError`: giving up on an export whose request is still open sends the batch again (stored twice,
   * yet counted failed if the retry fails).
   */
  processor?: Omit<AuditLogRecordProcessorOptions, 'exporter'> | undefined;
}

type ExporterCompression = NonNullable<
  NonNullable<ConstructorParameters<typeof AuditOTLPLogExporter>[0]>['compression']
>;

const HTTP_URL = /^https?:\/\/[^/]/i;
const URL_REQUIREMENT = 'an http:// or https:// URL with a valid host and port (e.g. http://collector:4318)';

/**
 * Refuses what the OTel exporter cannot use: no http(s):// scheme ("collector:4318", a common form in env files:
 * every export fails, retried forever), or a URL that does not parse (a port over 65535, a space in the host,
 * an unclosed IPv6 bracket: as a variable the exporter only logs it through diag and exports to localhost:4318;
 * as the option it throws a plain Error), or port 0.
 */
function requireHttpUrl(option: string, value: unknown): void {
  let valid = typeof value === 'string' && HTTP_URL.test(value);
  if (valid) {
    try {
      const url = new URL(value as string);
      valid =
        (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.port !== '0';
    } catch {
      valid = false;
    }
  }
  if (!valid)
    throw new AuditOptionError('createAuditLoggerProvider', option, URL_REQUIREMENT, JSON.stringify(value));
}

/** `/v1/logs` appended to the endpoint's path, not after its query (`http://gw/ingest?tenant=acme`). */
function logsUrl(endpoint: string): string {
  requireHttpUrl('endpoint', endpoint);
  const url = new URL(endpoint);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/v1/logs') ? path : `${path}/v1/logs`;
  return url.toString();
}

/**
 * The endpoint variable the exporter will read (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT wins, blank = unset) must be an
 * http(s) URL that parses: the OTel exporter only logs a bad one through diag and exports to localhost:4318 instead.
 */
function checkEndpointVariables(): void {
  for (const name of ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const value = process.env[name]?.trim();
    if (!value) continue;
    requireHttpUrl(name, value);
    return;
  }
}

/**
 * The timeout the OTLP exporter will use, read as it reads it: the option, else the logs variable, else the
 * general one (a variable that is blank, not a number or not > 0 is skipped, as the exporter does), else 10 s.
 */
function exporterTimeout(options: AuditLoggerProviderOptions): { millis: number; described: string } {
  if (options.timeoutMillis !== undefined) {
    // Past setTimeout's range Node would make the exporter's request timeout 1 ms.
    requireMillis('createAuditLoggerProvider', 'timeoutMillis', options.timeoutMillis, 1);
  }
  const timeout = otlpTimeout(options.timeoutMillis);
  // The same range for a value the exporter reads from the environment (0.5 timed every export out).
  if (timeout.variable !== undefined)
    requireMillis('createAuditLoggerProvider', timeout.variable, timeout.millis, 1);
  return timeout;
}

/**
 * The processor's options with an export timeout that outlasts the exporter's: the processor gave up at 30 s
 * on an exporter allowed 60 s, sent the batch again while the first request was still open (stored twice), and
 * counted it failed.
 */
function processorOptions(
  options: AuditLoggerProviderOptions,
): Omit<AuditLogRecordProcessorOptions, 'exporter'> {
  const processor = { ...options.processor };
  // Another exporter's timeout is unknown here (an AuditOTLPLogExporter's is checked by the processor itself).
  if (options.exporter !== undefined) return processor;
  const timeout = exporterTimeout(options);
  const least = timeout.millis + EXPORT_TIMEOUT_MARGIN_MS;
  if (processor.exportTimeoutMillis === undefined)
    processor.exportTimeoutMillis = Math.min(MAX_TIMER_MS, Math.max(DEFAULT_EXPORT_TIMEOUT_MS, least));
  else if (processor.exportTimeoutMillis < least)
    throw new AuditOptionError(
      'createAuditLoggerProvider',
      'processor.exportTimeoutMillis',
      `at least the exporter's ${timeout.described} + ${EXPORT_TIMEOUT_MARGIN_MS} ms (an export given up on while its request is still open is sent twice)`,
      processor.exportTimeoutMillis,
    );
  return processor;
}

function otlpExporter(options: AuditLoggerProviderOptions): LogRecordExporter {
  if (options.endpoint === undefined) checkEndpointVariables();
  requireCompression('createAuditLoggerProvider', options.compression);
  return new AuditOTLPLogExporter({
    ...(options.endpoint !== undefined && { url: logsUrl(options.endpoint) }),
    ...(options.headers !== undefined && { headers: options.headers }),
    ...(options.timeoutMillis !== undefined && { timeoutMillis: options.timeoutMillis }),
    // The exporter types this as a string enum whose values are exactly 'gzip' | 'none'.
    ...(options.compression !== undefined && { compression: options.compression as ExporterCompression }),
  });
}

/**
 * A LoggerProvider for `createAuditLogger({ loggerProvider })`: OTLP/HTTP export through an
 * `AuditLogRecordProcessor`, so the logger's `stats()` count exports, drops and failures. Call its
 * `shutdown()` (after the audit logger's) before the process exits.
 */
const PROVIDER_OPTIONS: Record<keyof AuditLoggerProviderOptions, true> = {
  serviceName: true,
  resourceAttributes: true,
  endpoint: true,
  headers: true,
  compression: true,
  timeoutMillis: true,
  exporter: true,
  processor: true,
};

export function createAuditLoggerProvider(options: AuditLoggerProviderOptions = {}): LoggerProvider {
  refuseUnknownOptions('createAuditLoggerProvider', options, PROVIDER_OPTIONS);
  const explicit: Attributes = { ...options.resourceAttributes };
  if (options.serviceName !== undefined) explicit['service.name'] = options.serviceName;
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes(explicit));
  const processor = processorOptions(options);
  const exporter = options.exporter ?? otlpExporter(options);
  return new LoggerProvider({
    resource,
    processors: [new AuditLogRecordProcessor({ ...processor, exporter })],
  });
}
