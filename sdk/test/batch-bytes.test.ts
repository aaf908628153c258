// Export batches against a receiver's body limit: a real HTTP listener that refuses a body over a size as
// `otel-audit serve --max-body-bytes` does (413) or as the OTel Collector's OTLP/HTTP receiver does (400 with
// {"code":3,"message":"http: request body too large"}, not 413), the real OTLP exporter.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_ATTRIBUTES as A, AuditOptionError } from '../src/index.js';
import {
  AuditLogRecordProcessor,
  type AuditLogRecordProcessorOptions,
  AuditOTLPLogExporter,
} from '../src/node.js';
import { hookedLogger } from './support.js';

interface Limited {
  url: string;
  /** Body sizes of the requests taken (2xx), and of those refused (413). */
  taken: number[];
  refused: number[];
  /** Event ids the listener took. */
  ids: string[];
  close: () => Promise<void>;
}

/** How a receiver answers a body over its limit. */
const REFUSALS = {
  'otel-audit serve (413)': { status: 413, body: '{"code":3,"message":"too large"}' },
  // What the collector's confighttp answers to http.MaxBytesError (max_request_body_size).
  'the OTel Collector (400 "http: request body too large")': {
    status: 400,
    body: '{"code":3,"message":"http: request body too large"}',
  },
} as const;
type Refusal = (typeof REFUSALS)[keyof typeof REFUSALS];

/** An OTLP/HTTP JSON listener that reads each body whole and refuses one over `maxBodyBytes` as `refusal` says. */
async function limitedEndpoint(maxBodyBytes: number, refusal: Refusal): Promise<Limited> {
  const taken: number[] = [];
  const refused: number[] = [];
  const ids: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.length > maxBodyBytes) {
        refused.push(body.length);
        res.writeHead(refusal.status, { 'content-type': 'application/json' }).end(refusal.body);
        return;
      }
      taken.push(body.length);
      const otlp = JSON.parse(body.toString()) as {
        resourceLogs: {
          scopeLogs: { logRecords: { attributes: { key: string; value: { stringValue?: string } }[] }[] }[];
        }[];
      };
      for (const rl of otlp.resourceLogs)
        for (const sl of rl.scopeLogs)
          for (const lr of sl.logRecords)
            ids.push(lr.attributes.find((a) => a.key === A.eventId)?.value.stringValue ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/logs`,
    taken,
    refused,
    ids,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const open: Limited[] = [];
afterEach(async () => {
  for (const endpoint of open.splice(0)) await endpoint.close();
});

async function setup(
  maxBodyBytes: number,
  options: Omit<AuditLogRecordProcessorOptions, 'exporter'>,
  refusal: Refusal = REFUSALS['otel-audit serve (413)'],
) {
  const endpoint = await limitedEndpoint(maxBodyBytes, refusal);
  open.push(endpoint);
  const exporter = new AuditOTLPLogExporter({ url: endpoint.url, timeoutMillis: 5_000 });
  const processor = new AuditLogRecordProcessor({ scheduledDelayMillis: 10, ...options, exporter });
  const provider = new LoggerProvider({ processors: [processor] });
  return { endpoint, provider, ...hookedLogger(provider) };
}

const page = (i: number, size: number) => ({
  action: 'docs.page.updated',
  targets: [{ type: 'page', id: `p${i}` }],
  changes: { before: 'x'.repeat(size), after: `${'x'.repeat(size)}${i}` },
});

describe('export batches and the receiver body limit', () => {
  it('caps each batch by bytes (maxExportBatchBytes), so batches of large events stay under the limit', async () => {
    // 60 events of ~20 KB: one count-sized batch (512) would be ~1.2 MB, over the listener's 512 KiB.
    const { endpoint, audit, provider, errors } = await setup(512 * 1024, {
      maxExportBatchBytes: 256 * 1024,
    });
    const recorded = Array.from({ length: 60 }, (_, i) => audit.record(page(i, 10_000)).id);
    expect(await audit.flush()).toMatchObject({ recorded: 60, exported: 60, failed: 0, pending: 0 });
    expect(endpoint.refused).toEqual([]);
    expect(endpoint.taken.length).toBeGreaterThan(3);
    expect(endpoint.ids).toEqual(recorded);
    expect(errors).toEqual([]);
    await provider.shutdown();
  });

  it.each(Object.entries(REFUSALS))(
    'splits a batch refused as too large by %s and sends the halves; only a record refused alone fails',
    async (_, refusal) => {
      // No byte cap: the first batch is refused whole; one event is over the limit on its own.
      const { endpoint, audit, provider, errors } = await setup(
        300 * 1024,
        { maxExportBatchBytes: Number.POSITIVE_INFINITY },
        refusal,
      );
      const recorded = Array.from({ length: 40 }, (_, i) => audit.record(page(i, 10_000)).id);
      const huge = audit.record(page(40, 200_000)).id;
      recorded.push(...Array.from({ length: 5 }, (_, i) => audit.record(page(41 + i, 10_000)).id));
      expect(await audit.flush()).toMatchObject({ recorded: 46, exported: 45, failed: 1, pending: 0 });
      expect(endpoint.refused.length).toBeGreaterThan(1);
      expect(endpoint.ids).toEqual(recorded);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.events.map((e) => e.id)).toEqual([huge]);
      expect(errors[0]?.error).toMatchObject({ code: refusal.status, data: refusal.body });
      await provider.shutdown();
    },
  );

  it('refuses a maxExportBatchBytes that is not a whole number >= 1 (or Infinity)', async () => {
    const exporter = new AuditOTLPLogExporter({ url: 'http://127.0.0.1:9/v1/logs' });
    for (const maxExportBatchBytes of [0, -1, 1.5, Number.NaN])
      expect(() => new AuditLogRecordProcessor({ exporter, maxExportBatchBytes })).toThrow(
        /^AuditLogRecordProcessor: maxExportBatchBytes must be a whole number >= 1/,
      );
    expect(() => new AuditLogRecordProcessor({ exporter, maxExportBatchBytes: 1 })).not.toThrow(
      AuditOptionError,
    );
  });
});
