// The audit processor against the real OTel Collector's OTLP/HTTP receiver with a lowered
// max_request_body_size: the collector refuses a body over it with 400 {"code":3,"message":"http: request body
// too large"} (not 413); the processor must split such a batch, so only a record refused alone fails.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The collector package's own helpers (as the root vitest setup uses them): build once, start, stop.
import {
  ensureCollector,
  freePort,
  goToolchain,
  type RunningCollector,
  startCollector,
} from '../../collector/src/otelcol/index.js';
import { AuditLogRecordProcessor, AuditOTLPLogExporter } from '../src/node.js';
import { hookedLogger } from './support.js';

const MAX_BODY = 200_000;

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED the SDK's collector body-limit test: ${go.reason}`);

describe.skipIf(!go.available)('batches over the real collector body limit', () => {
  let dir = '';
  let collector: RunningCollector | undefined;
  let logsUrl = '';

  beforeAll(async () => {
    const built = await ensureCollector();
    if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'sdk-collector-limit-'));
    const [otlpPort, healthPort] = [await freePort(), await freePort()];
    // JSON is YAML: no serializer needed for the collector to read it.
    const config = {
      receivers: {
        otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlpPort}`, max_request_body_size: MAX_BODY } } },
      },
      exporters: { debug: { verbosity: 'basic' } },
      extensions: { health_check: { endpoint: `127.0.0.1:${healthPort}` } },
      service: {
        extensions: ['health_check'],
        telemetry: { metrics: { level: 'none' } },
        pipelines: { logs: { receivers: ['otlp'], exporters: ['debug'] } },
      },
    };
    const path = join(dir, 'body-limit.yaml');
    writeFileSync(path, JSON.stringify(config));
    collector = await startCollector({
      binary: built.path,
      configs: [path],
      healthUrl: `http://127.0.0.1:${healthPort}/`,
    });
    logsUrl = `http://127.0.0.1:${otlpPort}/v1/logs`;
  }, 10 * 60_000);

  afterAll(async () => {
    await collector?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('splits a batch the collector refuses as too large (400), and fails only a record refused alone', async () => {
    const exporter = new AuditOTLPLogExporter({ url: logsUrl, timeoutMillis: 5_000 });
    const processor = new AuditLogRecordProcessor({
      exporter,
      scheduledDelayMillis: 10,
      maxExportBatchBytes: Number.POSITIVE_INFINITY,
    });
    const provider = new LoggerProvider({ processors: [processor] });
    const { audit, errors } = hookedLogger(provider);
    const page = (i: number, size: number) => ({
      action: 'docs.page.updated',
      targets: [{ type: 'page', id: `p${i}` }],
      metadata: { text: `${'x'.repeat(size)}${i}` },
    });
    // 40 events of ~10 KB: ~400 KB in one batch, twice the collector's limit; one event over it on its own.
    for (let i = 0; i < 40; i++) audit.record(page(i, 10_000));
    const huge = audit.record(page(40, MAX_BODY)).id;
    expect(await audit.flush()).toMatchObject({ recorded: 41, exported: 40, failed: 1, pending: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.events.map((e) => e.id)).toEqual([huge]);
    expect(errors[0]?.error).toMatchObject({
      code: 400,
      data: expect.stringContaining('request body too large'),
    });
    await provider.shutdown();
    // What the collector itself took (its debug exporter logs each batch's record count).
    const took = [...(collector?.output() ?? '').matchAll(/"log records": (\d+)/g)].map((m) => Number(m[1]));
    expect(took.reduce((a, b) => a + b, 0)).toBe(40);
  });
});
