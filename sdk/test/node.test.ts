// The ready Node pipeline: the real OTLP/HTTP exporter against an endpoint on this machine.
import { afterEach, describe, expect, it } from 'vitest';
import { AuditOptionError, createAuditLogger } from '../src/index.js';
import { createAuditLoggerProvider } from '../src/node.js';
import { type Capture, capture, eventIds } from './support.js';

const open: Capture[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

describe('createAuditLoggerProvider', () => {
  it('refuses an endpoint without http:// or https:// (every export would fail, retried forever)', () => {
    for (const endpoint of [
      'localhost:4318',
      'collector:4318/v1/logs',
      'grpc://collector:4317',
      '',
      'http://',
    ]) {
      expect(() => createAuditLoggerProvider({ endpoint }), endpoint).toThrow(AuditOptionError);
      expect(() => createAuditLoggerProvider({ endpoint }), endpoint).toThrow(
        /^createAuditLoggerProvider: endpoint must be an http:\/\/ or https:\/\/ URL/,
      );
    }
    expect(() => createAuditLoggerProvider({ endpoint: 'HTTPS://collector:4318' })).not.toThrow();
  });

  it('exports over OTLP/HTTP to <endpoint>/v1/logs with the service name, headers and gzip', async () => {
    const endpoint = await capture();
    open.push(endpoint);
    const provider = createAuditLoggerProvider({
      serviceName: 'billing',
      resourceAttributes: { 'deployment.environment.name': 'test' },
      endpoint: endpoint.url,
      headers: { authorization: 'Bearer s3cret' },
      compression: 'gzip',
    });
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const event = audit.record({ action: 'billing.invoice.paid', metadata: { amount: 1 } });
    const stats = await audit.flush();
    expect(stats).toMatchObject({ recorded: 1, exported: 1, pending: 0, tracked: true });
    expect(endpoint.requests).toHaveLength(1);
    const [request] = endpoint.requests;
    expect(request?.path).toBe('/v1/logs');
    expect(request?.headers.authorization).toBe('Bearer s3cret');
    expect(request?.headers['content-encoding']).toBe('gzip');
    const resource = Object.fromEntries(
      request?.body.resourceLogs[0]?.resource.attributes.map((a) => [a.key, a.value.stringValue]) ?? [],
    );
    expect(resource).toMatchObject({ 'service.name': 'billing', 'deployment.environment.name': 'test' });
    expect(eventIds(endpoint)).toEqual([event.id]);
    await provider.shutdown();
  });

  it('holds events while the endpoint is down, counts what did not fit, and delivers the rest once it is back', async () => {
    const first = await capture();
    const { port, url } = first;
    await first.close(); // down: connections refused
    const provider = createAuditLoggerProvider({
      endpoint: url,
      timeoutMillis: 300,
      processor: {
        maxQueueSize: 50,
        maxExportBatchSize: 20,
        scheduledDelayMillis: 10,
        retryInitialDelayMillis: 50,
        retryMaxDelayMillis: 100,
      },
    });
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const recorded = Array.from({ length: 80 }, (_, i) =>
      audit.record({ action: 'a.b.created', metadata: { i } }),
    );
    const down = await audit.flush();
    expect(down).toMatchObject({ recorded: 80, exported: 0, dropped: 30, failed: 0, pending: 50 });
    const back = await capture(port);
    open.push(back);
    const deadline = Date.now() + 10_000;
    while (audit.stats().pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(audit.stats()).toMatchObject({ recorded: 80, exported: 50, dropped: 30, failed: 0, pending: 0 });
    // Exactly the first 50 arrive (the queue keeps order), each once.
    expect(eventIds(back).sort()).toEqual(
      recorded
        .slice(0, 50)
        .map((e) => e.id)
        .sort(),
    );
    await provider.shutdown();
  });
});
