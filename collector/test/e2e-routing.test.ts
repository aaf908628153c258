// SDK -> the real collector running an existing config merged with audit-routing.yaml: audit records go to the
// audit last hop (otel-audit serve), every other log still reaches the existing exporter (debug/app writing to a
// file).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_MARKER_ATTRIBUTE } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureCollector,
  freePort,
  goToolchain,
  type RunningCollector,
  SHIPPED_CONFIGS,
  startCollector,
} from '../src/otelcol/index.js';
import { INGEST_TOKEN_FILE_NAME } from '../src/receiver/index.js';
import {
  auditEvents,
  collectorEndpoints,
  emit,
  expectIntact,
  ReceiverLastHop,
  rowsById,
  waitFor,
  waitForStored,
  writeLastHopOverlay,
} from './e2e-support.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED collector end-to-end tests: ${go.reason}`);

describe.skipIf(!go.available)('audit-routing.yaml merged into an existing collector config', () => {
  const token = randomUUID();
  let dir = '';
  let appLogs = '';
  let lastHop: ReceiverLastHop | undefined;
  let collector: RunningCollector | undefined;
  let otlpHttpUrl = '';

  beforeAll(async () => {
    const built = await ensureCollector();
    if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'e2e-routing-'));
    appLogs = join(dir, 'app-logs.txt');
    lastHop = new ReceiverLastHop(await freePort(), join(dir, 'chdb'), token);
    await lastHop.start();
    const endpoints = await collectorEndpoints(dir, lastHop.logsUrl, token);
    otlpHttpUrl = endpoints.otlpHttpUrl;
    collector = await startCollector({
      binary: built.path,
      configs: [
        SHIPPED_CONFIGS.exampleExistingCollector,
        SHIPPED_CONFIGS.auditRouting,
        // zstd here, gzip in the other tests: serve takes both of the exporter's usual compressions.
        // The ingest token serve generated, read by the collector with ${file:...} as collector/README.md shows.
        writeLastHopOverlay(dir, {
          encoding: 'proto',
          compression: 'zstd',
          tokenFile: join(lastHop.dataDir, INGEST_TOKEN_FILE_NAME),
        }),
      ],
      env: {
        ...endpoints.env,
        APP_LOGS_OUTPUT: appLogs,
        OTEL_AUDIT_SERVICE_EXTENSIONS: '[health_check, file_storage/audit_queue]',
        OTEL_AUDIT_INTAKE_RECEIVERS: '[otlp]',
      },
      healthUrl: endpoints.healthUrl,
    });
  }, 30 * 60_000);

  afterAll(async () => {
    await collector?.kill();
    await lastHop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('moves audit records to the audit pipeline and leaves ordinary logs on their original exporter', async () => {
    const runId = randomUUID().slice(0, 8);
    const events = auditEvents(runId, 40);
    const ordinary = Array.from({ length: 40 }, (_, i) => `ordinary log ${i} of ${runId}`);
    await emit(otlpHttpUrl, runId, events, ordinary);

    const appOutput = () => (existsSync(appLogs) ? readFileSync(appLogs, 'utf8') : '');
    if (!lastHop) throw new Error('not set up');
    const rows = await waitForStored(lastHop, runId, events);
    await waitFor(`${ordinary.length} ordinary logs at the existing exporter`, () =>
      ordinary.every((body) => appOutput().includes(`Body: Str(${body})`)),
    );

    const byId = rowsById(rows);
    for (const event of events) for (const copy of byId.get(event.id) ?? []) expectIntact(event, copy);
    // Moved, not copied: the existing exporter saw no audit record, the audit pipeline no ordinary log.
    const app = appOutput();
    expect(app).not.toContain(AUDIT_MARKER_ATTRIBUTE);
    for (const event of events) expect(app).not.toContain(event.id);
    expect(rows.filter((row) => ordinary.includes(row.Body))).toEqual([]);
    // Ordinary logs arrive as the app emitted them, attributes included.
    expect(app).toContain('-> http.route: Str(/x)');
  }, 60_000);
});
