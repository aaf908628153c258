// The producer side of the pipeline bench: audit events recorded through the OTel JS SDK (LoggerProvider +
// BatchLogRecordProcessor + OTLP/HTTP exporter), with an exporter wrapper that timestamps every acknowledged
// batch. serve acknowledges only after the rows (and the views' rows) are committed, so the ack time of a
// record is when it became queryable.
import { SeverityNumber } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  AUDIT_ATTRIBUTES as A,
  AUDIT_SCOPE_NAME,
  AUDIT_SEVERITY,
  CONVENTIONS_VERSION,
} from '@otel-audit/sdk/conventions';

export const BENCH_TENANT = 'bench';

/** What the bench learns from every acknowledged export. */
export interface AckListener {
  /** `observedMs`: when each record was recorded (epoch ms); `ackMs`: when serve acknowledged it. */
  onAck(records: readonly { id: string; observedMs: number }[], ackMs: number): void;
  onFailure(count: number, error: unknown): void;
}

const hrToMs = (hr: [number, number]) => hr[0] * 1000 + hr[1] / 1e6;

export class AckTimingExporter implements LogRecordExporter {
  constructor(
    private readonly inner: LogRecordExporter,
    private readonly listener: AckListener,
  ) {}
  export(logs: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.inner.export(logs, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        // Same clock as the observed time the SDK stamps (Date.now()).
        const ackMs = Date.now();
        this.listener.onAck(
          logs.map((l) => ({ id: String(l.attributes[A.eventId]), observedMs: hrToMs(l.hrTimeObserved) })),
          ackMs,
        );
      } else this.listener.onFailure(logs.length, result.error);
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export const ACTIONS = [
  'billing.invoice.paid',
  'iam.user.updated',
  'docs.document.viewed',
  'iam.api_key.created',
];

export interface Producer {
  /** Records event number `i` (an audit record per the conventions); returns its id. */
  record(i: number): string;
  /** Exports everything recorded so far; resolves when serve acknowledged it. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  /** The SDK's delivery counters, when the producer has them. */
  stats?(): { recorded: number; exported: number; dropped: number; failed: number };
}

export interface ProducerOptions {
  logsUrl: string;
  token: string;
  instance: number;
  batchSize: number;
  queueSize: number;
  listener: AckListener;
}

/** One service instance: its own provider, processor and exporter (so several export concurrently). */
export function createOtelProducer(options: ProducerOptions): Producer {
  const exporter = new AckTimingExporter(
    new OTLPLogExporter({
      url: options.logsUrl,
      headers: { authorization: `Bearer ${options.token}` },
      timeoutMillis: 60_000,
    }),
    options.listener,
  );
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': 'bench-service',
      'service.instance.id': `i${options.instance}`,
    }),
    processors: [
      new BatchLogRecordProcessor({
        exporter,
        maxQueueSize: options.queueSize,
        maxExportBatchSize: options.batchSize,
        scheduledDelayMillis: 50,
        exportTimeoutMillis: 60_000,
      }),
    ],
  });
  const logger = provider.getLogger(AUDIT_SCOPE_NAME, CONVENTIONS_VERSION);
  return {
    record(i) {
      const id = crypto.randomUUID();
      const action = ACTIONS[i % ACTIONS.length] as string;
      logger.emit({
        eventName: action,
        timestamp: Date.now(),
        severityNumber: SeverityNumber.INFO,
        severityText: AUDIT_SEVERITY.success.text,
        body: JSON.stringify({ amount: i % 1000, currency: 'EUR', note: 'pipeline bench' }),
        attributes: {
          [A.eventId]: id,
          [A.action]: action,
          [A.tenant]: BENCH_TENANT,
          [A.actorId]: `user-${i % 5000}`,
          [A.actorType]: 'user',
          [A.actorName]: `User ${i % 5000}`,
          [A.targets]: JSON.stringify([
            { type: 'invoice', id: `inv-${i % 100_000}` },
            { type: 'customer', id: `cus-${i % 2000}` },
          ]),
          [A.crud]: 'update',
          [A.outcome]: 'success',
          [A.version]: 1,
          [A.contextIp]: `10.0.${(i >> 8) & 255}.${i & 255}`,
          [A.contextRequestId]: `req-${i}`,
        },
      });
      return id;
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
