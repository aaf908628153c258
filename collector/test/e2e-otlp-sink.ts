// A capture endpoint for OTLP/HTTP JSON log exports: the last hop of the end-to-end tests while the local
// receiver (collector/src, another part of this issue) is not in the tree. It records what the real collector
// delivers; it does not stand in for anything under test.
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: { key: string; value: OtlpAnyValue }[] };
}

export interface DeliveredLog {
  resource: Record<string, OtlpAnyValue>;
  scope: string;
  scopeVersion: string;
  eventName: string;
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  traceId: string;
  spanId: string;
  body: OtlpAnyValue | undefined;
  attributes: Record<string, OtlpAnyValue>;
}

interface OtlpLogsRequest {
  resourceLogs?: {
    resource?: { attributes?: { key: string; value: OtlpAnyValue }[] };
    scopeLogs?: {
      scope?: { name?: string; version?: string };
      logRecords?: {
        eventName?: string;
        timeUnixNano?: string;
        observedTimeUnixNano?: string;
        severityNumber?: number;
        severityText?: string;
        traceId?: string;
        spanId?: string;
        body?: OtlpAnyValue;
        attributes?: { key: string; value: OtlpAnyValue }[];
      }[];
    }[];
  }[];
}

const toMap = (kvs: { key: string; value: OtlpAnyValue }[] = []) =>
  Object.fromEntries(kvs.map((kv) => [kv.key, kv.value]));

export class OtlpJsonSink {
  readonly logs: DeliveredLog[] = [];
  requests = 0;
  private server: Server | undefined;

  constructor(
    readonly port: number,
    private readonly token: string,
  ) {}

  get logsUrl(): string {
    return `http://127.0.0.1:${this.port}/v1/logs`;
  }

  /** Listens on the fixed port given at construction (so a collector can be pointed at it while it is down). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url !== '/v1/logs' || req.method !== 'POST') return void res.writeHead(404).end();
        if (req.headers.authorization !== `Bearer ${this.token}`) return void res.writeHead(401).end();
        if (!req.headers['content-type']?.startsWith('application/json'))
          return void res.writeHead(415).end();
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        let parsed: OtlpLogsRequest;
        try {
          parsed = JSON.parse(body.toString('utf8')) as OtlpLogsRequest;
        } catch {
          return void res.writeHead(400).end();
        }
        this.requests += 1;
        for (const rl of parsed.resourceLogs ?? []) {
          for (const sl of rl.scopeLogs ?? []) {
            for (const lr of sl.logRecords ?? []) {
              this.logs.push({
                resource: toMap(rl.resource?.attributes),
                scope: sl.scope?.name ?? '',
                scopeVersion: sl.scope?.version ?? '',
                eventName: lr.eventName ?? '',
                timeUnixNano: lr.timeUnixNano ?? '',
                observedTimeUnixNano: lr.observedTimeUnixNano ?? '',
                severityNumber: lr.severityNumber ?? 0,
                severityText: lr.severityText ?? '',
                traceId: lr.traceId ?? '',
                spanId: lr.spanId ?? '',
                body: lr.body,
                attributes: toMap(lr.attributes),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
