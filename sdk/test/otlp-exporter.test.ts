// AuditOTLPLogExporter behaves as the stock OTLPLogExporter where it does not differ on purpose: its
// self-observability metrics go to the configured selfObsMeterProvider. Where it differs: a 200 that is not an OTLP
// response fails the export.
import { createServer, type ServerResponse } from 'node:http';
import { type Counter, createNoopMeter, type Meter, type MeterProvider } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditNotOtlpResponseError, createAuditLogger } from '../src/index.js';
import { AuditLogRecordProcessor, AuditOTLPLogExporter } from '../src/node.js';
import { type Capture, capture, eventIds } from './support.js';

/** A MeterProvider that keeps every counter increment (the exporter's, not the code under test). */
function recordingMeterProvider() {
  const added: { meter: string; counter: string; value: number }[] = [];
  const provider: MeterProvider = {
    getMeter(meterName: string): Meter {
      const meter = Object.create(createNoopMeter()) as Meter;
      meter.createCounter = (counter: string) =>
        ({ add: (value: number) => added.push({ meter: meterName, counter, value }) }) as unknown as Counter;
      return meter;
    },
  };
  return { provider, added };
}

/**
 * An endpoint answering each request with `answer` (after reading it), and an audit logger exporting to it through
 * AuditOTLPLogExporter; `errors` collects what onError is told.
 */
async function answeringEndpoint(answer: (res: ServerResponse) => void) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const errors: Error[] = [];
  const exporter = new AuditOTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs` });
  const provider = new LoggerProvider({ processors: [new AuditLogRecordProcessor({ exporter })] });
  const audit = createAuditLogger({
    loggerProvider: provider,
    tenant: 'acme',
    flushOnExit: false,
    onError: (error) => errors.push(error),
  });
  return {
    audit,
    errors,
    requests: () => requests,
    close: async () => {
      await provider.shutdown();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let endpoint: Capture | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('AuditOTLPLogExporter', () => {
  it('passes selfObsMeterProvider through: exported records are counted on it', async () => {
    endpoint = await capture();
    const metrics = recordingMeterProvider();
    const exporter = new AuditOTLPLogExporter({
      url: `${endpoint.url}/v1/logs`,
      selfObsMeterProvider: metrics.provider,
    });
    const provider = new LoggerProvider({ processors: [new AuditLogRecordProcessor({ exporter })] });
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const events = [audit.record({ action: 'a.b.created' }), audit.record({ action: 'a.b.created' })];
    expect(await audit.flush()).toMatchObject({ exported: 2, pending: 0 });
    expect(eventIds(endpoint)).toEqual(events.map((e) => e.id));
    expect(metrics.added).toContainEqual({
      meter: '@opentelemetry/otlp-exporter',
      counter: 'otel.sdk.exporter.log.exported',
      value: 2,
    });
    await provider.shutdown();
  });

  it('fails an export the endpoint redirects (not followed; retried, the same answer until the queue filled)', async () => {
    const { audit, errors, requests, close } = await answeringEndpoint((res) =>
      res.writeHead(308, { location: 'https://audit.example/v1/logs' }).end(),
    );
    try {
      audit.record({ action: 'a.b.created' });
      expect(await audit.flush()).toMatchObject({ recorded: 1, failed: 1, pending: 0 });
      expect(requests()).toBe(1);
      expect(errors.map((e) => e.message)).toEqual([
        expect.stringMatching(
          /^the endpoint answered 308 .*\(a redirect\): the exporter does not follow redirects/,
        ),
      ]);
    } finally {
      await close();
    }
  });

  it('fails an export the endpoint answers with a success and a web page (not OTLP): counted failed and told', async () => {
    // Pages fail; any other body is taken as the exporter always took it (a protobuf answer to a JSON request, a
    // proxy's gzip-encoded JSON).
    const bodies = [
      '<html><body>Welcome</body></html>',
      '\uFEFF\n <?xml version="1.0"?><r/>',
      '[]',
      '\n\0',
      '{}',
      '',
    ];
    const exports = bodies.length;
    const { audit, errors, close } = await answeringEndpoint((res) => {
      const body = bodies.shift() ?? '';
      res.writeHead(200, {
        'content-type': body.startsWith('{') || body === '' ? 'application/json' : 'text/html',
      });
      res.end(body);
    });
    try {
      // One export per flush.
      for (let i = 0; i < exports; i++) {
        audit.record({ action: 'a.b.created' });
        await audit.flush();
      }
      expect(audit.stats()).toMatchObject({ recorded: 6, exported: 4, failed: 2, pending: 0 });
      expect(errors).toHaveLength(2);
      expect(errors[0]).toBeInstanceOf(AuditNotOtlpResponseError);
      expect(errors[0]?.message).toMatch(
        /^the endpoint answered a success status with a web page, not an OTLP response \("<html><body>Welcome/,
      );
    } finally {
      await close();
    }
  });
});
