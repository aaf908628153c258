// `npm start -w demo` (demo/src/main.ts) against a real `otel-audit serve`: without serve's token every export
// is refused, and the demo says why; with OTEL_EXPORTER_OTLP_HEADERS as demo/README.md documents, all arrive.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INGEST_TOKEN_FILE_NAME, jsonLogger, type RunningServe, startServe } from '@otel-audit/collector';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'demo-main-'));
let serve: RunningServe;

beforeAll(async () => {
  // In this process: the demo child's requests are answered while the test awaits it.
  serve = await startServe({
    store: { path: join(dir, 'data') },
    port: 0,
    log: jsonLogger(() => undefined, 'error'),
  });
});
afterAll(async () => {
  await serve?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function demo(env: Record<string, string>) {
  const { OTEL_EXPORTER_OTLP_HEADERS: _h, OTEL_EXPORTER_OTLP_LOGS_HEADERS: _l, ...inherited } = process.env;
  const child = spawn(
    process.execPath,
    ['--conditions=@otel-audit/source', '--import', 'tsx', 'demo/src/main.ts'],
    {
      cwd: root,
      env: { ...inherited, OTEL_EXPORTER_OTLP_ENDPOINT: serve.url, OTEL_AUDIT_DEMO_EVENTS: '40', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out, err };
}

const stored = async () => {
  const [row] = await serve.store.query<{ n: string }>(
    `SELECT count() AS n FROM {db}.${AUDIT_TABLES.events} FINAL`,
  );
  return Number(row?.n);
};

describe('the demo program against otel-audit serve', () => {
  it('without the token: exit 1, and the first export error (401, what serve answered, how to pass the token)', async () => {
    const r = await demo({});
    expect(r.code).toBe(1);
    expect(r.out).toContain('exported 0, dropped 0, failed 40');
    expect(r.err).toContain(
      'demo: 40 events failed to export; first error: HTTP 401 Unauthorized: ' +
        '{"code":16,"message":"missing or wrong bearer token (Authorization: Bearer <token>)"}',
    );
    expect(r.err).toContain(
      'OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$(cat <state dir>/serve.ingest-token)"',
    );
    expect(await stored()).toBe(0);
  }, 60_000);

  it('with OTEL_EXPORTER_OTLP_HEADERS as the README says: every event stored, no error printed', async () => {
    const token = readFileSync(join(serve.stateDir, INGEST_TOKEN_FILE_NAME), 'utf8').trim();
    const r = await demo({ OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${token}` });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('exported 40, dropped 0, failed 0, still pending 0');
    // Progress every 10 %, not every event.
    expect(r.out.split('\n').filter((line) => line.startsWith('recorded '))).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => `recorded ${d * 4}/40 (${d * 10}%)`),
    );
    expect(await stored()).toBe(40);
  }, 60_000);
});
