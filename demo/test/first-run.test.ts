// `npm start` end to end, as a newcomer runs it: serve on a fresh embedded store, the demo recorded through the
// SDK over OTLP/HTTP, every event stored, then the CLI reads the same directory.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'first-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--conditions=@otel-audit/source', '--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });

/** The table rows `  <tenant> <this run> <in the store>` of the first run's summary. */
const table = (stdout: string) =>
  [...stdout.matchAll(/^ {2}(\w+) +(\d+) +(\d+)$/gm)].map((m) => ({
    tenant: m[1] as string,
    thisRun: Number(m[2]),
    stored: Number(m[3]),
  }));
const sum = (rows: { thisRun: number; stored: number }[], key: 'thisRun' | 'stored') =>
  rows.reduce((total, row) => total + row[key], 0);

describe('npm start (first run)', () => {
  it('loads the demo through serve, says what it stored and what to try, and the CLI then finds it', () => {
    const dataDir = join(dir, 'data');
    const env = {
      OTEL_AUDIT_DATA_DIR: dataDir,
      OTEL_AUDIT_SERVE_PORT: '0',
      OTEL_AUDIT_DEMO_EVENTS: '600',
      OTEL_AUDIT_FIRST_RUN_EXIT: '1',
    };
    const start = run(['demo/src/start.ts'], env);
    // Not a terminal: one line per 10 % (the first update, at 1 %, opens the 0 % decile), not one per update.
    expect(start.stderr.split('\n').filter((line) => line.startsWith('recording demo events'))).toEqual([
      'recording demo events 6/600 (0%)',
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => `recording demo events ${d * 60}/600 (${d * 10}%)`),
    ]);
    expect(start.status).toBe(0);
    expect(start.stdout).toMatch(/^first start: created the tables \(0001_/m);
    expect(start.stdout).toMatch(
      /recorded 600 events \(\d+ with outcome failure\) in [\d.]+ s; found stored: 600 of this run's 600/,
    );
    const first = table(start.stdout);
    expect(first.length).toBeGreaterThan(1);
    expect(sum(first, 'thisRun')).toBe(600);
    expect(sum(first, 'stored')).toBe(600);
    expect(start.stdout).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:');
    expect(start.stdout).toContain(
      `OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$(cat ${dataDir}/serve.ingest-token)"`,
    );
    expect(start.stdout).toContain(`npm run -s cli -- events --data-dir ${dataDir} --tenant acme`);

    const events = run([
      'cli/src/bin.ts',
      'events',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--json',
      '--limit',
      '5',
    ]);
    expect(events.status).toBe(0);
    const page = JSON.parse(events.stdout) as { events: { tenant: string }[] };
    expect(page.events).toHaveLength(5);
    expect(page.events.every((e) => e.tenant === 'acme')).toBe(true);
    // The event hint names an event of this run, and the command as printed finds it.
    const hint = new RegExp(
      `npm run -s cli -- event ([0-9a-f-]{36}) --data-dir ${dataDir} --tenant acme\\n`,
    ).exec(start.stdout);
    expect(hint, start.stdout).not.toBeNull();
    const one = run([
      'cli/src/bin.ts',
      'event',
      hint?.[1] as string,
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--json',
    ]);
    expect(one.status, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ id: hint?.[1], tenant: 'acme' });

    // A second run on the same store: no tables to create; this run's events counted apart from the totals
    // (its ids differ: they depend on the time the run ends).
    const again = run(['demo/src/start.ts'], env);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/first start/);
    expect(again.stdout).toMatch(/found stored: 600 of this run's 600/);
    const second = table(again.stdout);
    expect(sum(second, 'thisRun')).toBe(600);
    expect(sum(second, 'stored')).toBe(1200);
  }, 180_000);
});

describe('npm start stopped by Ctrl-C while loading', () => {
  it('sends what was recorded, drains serve and removes serve.json: a doubled SIGINT (npm forwards it) is one stop', async () => {
    const dataDir = join(dir, 'interrupted');
    const child = spawn(
      process.execPath,
      ['--conditions=@otel-audit/source', '--import', 'tsx', 'demo/src/start.ts'],
      {
        cwd: root,
        env: {
          ...process.env,
          OTEL_AUDIT_DATA_DIR: dataDir,
          OTEL_AUDIT_SERVE_PORT: '0',
          OTEL_AUDIT_DEMO_EVENTS: '50000',
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    while (!/recording demo events \d+\/50000/.test(stderr)) {
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(existsSync(join(dataDir, 'serve.json'))).toBe(true);
    child.kill('SIGINT');
    child.kill('SIGINT');
    const [code, signal] = await closed;
    expect({ code, signal }, stderr).toEqual({ code: 130, signal: null });
    expect(stdout).toMatch(/stopping: sending the \d+ events recorded, then finishing in-flight requests/);
    // The loading stops: not every event of the run is recorded.
    expect(stderr).not.toContain('recording demo events 50000/50000');
    expect(existsSync(join(dataDir, 'serve.json'))).toBe(false);
  }, 120_000);
});
