// The ready Node pipeline: the real OTLP/HTTP exporter against an endpoint on this machine.
import { afterEach, describe, expect, it } from 'vitest';
import { AuditOptionError, createAuditLogger } from '../src/index.js';
import {
  type AuditLoggerProviderOptions,
  AuditOTLPLogExporter,
  createAuditLoggerProvider,
} from '../src/node.js';
import { type Capture, capture, eventIds } from './support.js';

const open: Capture[] = [];

const ENDPOINT_VARIABLES = ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'];

/** Runs `fn` with exactly these endpoint variables set (none from the outer environment), then restores. */
async function withEnv(vars: Record<string, string>, fn: () => void | Promise<void>): Promise<void> {
  const saved = Object.fromEntries(ENDPOINT_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of ENDPOINT_VARIABLES) delete process.env[name];
  Object.assign(process.env, vars);
  try {
    await fn();
  } finally {
    for (const name of ENDPOINT_VARIABLES) {
      const value = saved[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

describe('createAuditLoggerProvider', () => {
  it('refuses a compression the exporter does not know (it sent such bodies uncompressed without a word)', () => {
    for (const compression of ['zstd', 'GZIP', '']) {
      const options = {
        endpoint: 'http://collector:4318',
        compression,
      } as unknown as AuditLoggerProviderOptions;
      expect(() => createAuditLoggerProvider(options), compression).toThrow(
        /^createAuditLoggerProvider: compression must be 'gzip' or 'none'/,
      );
    }
    for (const compression of ['gzip', 'none'] as const)
      expect(() =>
        createAuditLoggerProvider({ endpoint: 'http://collector:4318', compression }),
      ).not.toThrow();
    // Also an exporter given as is.
    const zstd = {
      url: 'http://collector:4318/v1/logs',
      compression: 'zstd',
    } as unknown as ConstructorParameters<typeof AuditOTLPLogExporter>[0];
    expect(() => new AuditOTLPLogExporter(zstd)).toThrow(
      /^AuditOTLPLogExporter: compression must be 'gzip' or 'none'/,
    );
  });

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

  it('refuses an http:// endpoint or variable that does not parse, naming it (the variable fell back to localhost:4318)', async () => {
    const unparseable = [
      'http://collector:99999',
      'http://exa mple:4318',
      'http://[::1:4318',
      'http://collector:0',
    ];
    for (const endpoint of unparseable) {
      expect(() => createAuditLoggerProvider({ endpoint }), endpoint).toThrow(AuditOptionError);
      expect(() => createAuditLoggerProvider({ endpoint }), endpoint).toThrow(
        /^createAuditLoggerProvider: endpoint must be an http:\/\/ or https:\/\/ URL with a valid host and port/,
      );
      for (const name of ENDPOINT_VARIABLES)
        await withEnv({ [name]: endpoint }, () => {
          expect(() => createAuditLoggerProvider(), `${name}=${endpoint}`).toThrow(AuditOptionError);
          expect(() => createAuditLoggerProvider(), `${name}=${endpoint}`).toThrow(
            new RegExp(`^createAuditLoggerProvider: ${name} must be an http`),
          );
        });
    }
    for (const endpoint of ['http://[::1]:4318', 'https://collector', 'http://collector:65535/v1/logs'])
      expect(() => createAuditLoggerProvider({ endpoint }), endpoint).not.toThrow();
  });

  it('refuses an endpoint variable without http:// or https:// too (the exporter fell back to localhost:4318)', async () => {
    const env = withEnv;
    await env({ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:14320' }, () => {
      expect(() => createAuditLoggerProvider()).toThrow(AuditOptionError);
      expect(() => createAuditLoggerProvider()).toThrow(
        /^createAuditLoggerProvider: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL.*got "127.0.0.1:14320"/,
      );
      // The option wins over the variable; a custom exporter reads none.
      expect(() => createAuditLoggerProvider({ endpoint: 'http://127.0.0.1:14320' })).not.toThrow();
    });
    await env(
      {
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'collector:4318/v1/logs',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ok:4318',
      },
      () => {
        expect(() => createAuditLoggerProvider()).toThrow(/OTEL_EXPORTER_OTLP_LOGS_ENDPOINT must be/);
      },
    );
    // The logs variable is the one used: a bad generic one beside it does not matter; blank is unset.
    await env(
      { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://ok:4318/v1/logs', OTEL_EXPORTER_OTLP_ENDPOINT: 'bad:1' },
      () => {
        expect(() => createAuditLoggerProvider()).not.toThrow();
      },
    );
    await env({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: ' ', OTEL_EXPORTER_OTLP_ENDPOINT: 'bad:1' }, () => {
      expect(() => createAuditLoggerProvider()).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be/);
    });
  });

  it('sends to OTEL_EXPORTER_OTLP_LOGS_ENDPOINT as it is, and to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/logs', async () => {
    const endpoint = await capture();
    open.push(endpoint);
    const send = (vars: Record<string, string>) =>
      withEnv(vars, async () => {
        const provider = createAuditLoggerProvider();
        const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
        audit.record({ action: 'a.b.created' });
        expect(await audit.flush()).toMatchObject({ exported: 1 });
        await provider.shutdown();
      });
    await send({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${endpoint.url}/audit/in` });
    await send({ OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint.url}/base` });
    expect(endpoint.requests.map((r) => r.path)).toEqual(['/audit/in', '/base/v1/logs']);
  });

  it('appends /v1/logs to the endpoint option’s path, keeping its query after it', async () => {
    const endpoint = await capture();
    open.push(endpoint);
    for (const given of [`${endpoint.url}/ingest?tenant=acme`, `${endpoint.url}/ingest/?tenant=acme`]) {
      const provider = createAuditLoggerProvider({ endpoint: given });
      const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
      audit.record({ action: 'a.b.created' });
      expect(await audit.flush()).toMatchObject({ exported: 1 });
      await provider.shutdown();
    }
    expect(endpoint.requests.map((r) => r.path)).toEqual([
      '/ingest/v1/logs?tenant=acme',
      '/ingest/v1/logs?tenant=acme',
    ]);
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
