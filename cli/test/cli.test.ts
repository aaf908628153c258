import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore, loadMigrations } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES, AUDIT_SCOPE_NAME } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../src/index.js';
import { cli } from './serve-support.js';

const root = mkdtempSync(join(tmpdir(), 'otel-audit-cli-'));
const dataDir = join(root, 'data');

const run = (...argv: string[]) => cli(argv);

const row = (i: number, tenant = 'acme') => ({
  Timestamp: `${BigInt(Date.parse('2026-11-22T10:00:00Z') + i * 1000) * 1_000_000n}`,
  TraceId: '',
  SpanId: '',
  TraceFlags: 0,
  SeverityText: 'INFO',
  SeverityNumber: 9,
  ServiceName: 'svc',
  Body: JSON.stringify({ i }),
  ResourceSchemaUrl: '',
  ResourceAttributes: {},
  ScopeSchemaUrl: '',
  ScopeName: AUDIT_SCOPE_NAME,
  ScopeVersion: '1',
  ScopeAttributes: {},
  LogAttributes: {
    [AUDIT_ATTRIBUTES.action]: i % 2 ? 'billing.invoice.paid' : 'auth.session.created',
    [AUDIT_ATTRIBUTES.eventId]: `0193a5b0-0000-7000-8000-${i.toString(16).padStart(12, '0')}`,
    [AUDIT_ATTRIBUTES.tenant]: tenant,
    [AUDIT_ATTRIBUTES.actorId]: `u${i % 2}`,
    [AUDIT_ATTRIBUTES.actorType]: 'user',
    [AUDIT_ATTRIBUTES.targets]: JSON.stringify([{ id: `inv_${i % 3}`, type: 'invoice' }]),
    [AUDIT_ATTRIBUTES.crud]: 'update',
    [AUDIT_ATTRIBUTES.outcome]: 'success',
  },
  EventName: 'x',
});

beforeAll(async () => {
  expect((await run('migrate', '--data-dir', dataDir)).code).toBe(0);
  // The command closed its store: this process may open the directory again.
  const store = await AuditStore.open({ path: dataDir });
  await store.insertLogs([...Array.from({ length: 6 }, (_, i) => row(i)), row(100, 'other')]);
  await store.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('otel-audit (in process)', () => {
  it('migrate is idempotent and reports as JSON', async () => {
    const r = await run('migrate', '--data-dir', dataDir, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      database: 'default',
      applied: [],
      alreadyApplied: expect.any(Array),
    });
  });

  it('events: filters, JSON output and paging', async () => {
    const r = await run(
      'events',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--action',
      'billing.*',
      '--json',
    );
    expect(r.code).toBe(0);
    const page = JSON.parse(r.out) as {
      events: { id: string; action: string; tenant: string }[];
      nextCursor: string | null;
    };
    expect(page.events.map((e) => e.action)).toEqual([
      'billing.invoice.paid',
      'billing.invoice.paid',
      'billing.invoice.paid',
    ]);
    expect(page.nextCursor).toBeNull();
    const first = await run('events', '--data-dir', dataDir, '--tenant', 'acme', '--limit', '4');
    expect(first.out.trim().split('\n')).toHaveLength(4);
    const cursor = /--cursor (\S+)/.exec(first.err)?.[1];
    expect(cursor).toBeDefined();
    const second = await run(
      'events',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--limit',
      '4',
      '--cursor',
      cursor as string,
    );
    expect(second.out.trim().split('\n')).toHaveLength(2);
    expect(second.out).toContain('2026-11-22T10:00:00.000Z');
  });

  it('actor and target timelines are tenant-scoped', async () => {
    const a = await run('actor', 'u1', '--type', 'user', '--data-dir', dataDir, '--tenant', 'acme', '--json');
    expect(JSON.parse(a.out).events).toHaveLength(3);
    const t = await run('target', 'invoice:inv_0', '--data-dir', dataDir, '--tenant', 'acme', '--json');
    expect(JSON.parse(t.out).events.map((e: { id: string }) => e.id.slice(-1))).toEqual(['3', '0']);
    const t2 = await run('target', 'invoice', 'inv_1', '--data-dir', dataDir, '--tenant', 'other', '--json');
    expect(JSON.parse(t2.out).events.map((e: { tenant: string }) => e.tenant)).toEqual(['other']);
  });

  it('export writes NDJSON or CSV to a file with progress on stderr', async () => {
    const file = join(root, 'out.csv');
    const r = await run(
      'export',
      '--data-dir',
      dataDir,
      '--tenant',
      'acme',
      '--format',
      'csv',
      '--output',
      file,
    );
    expect(r.code).toBe(0);
    expect(r.err).toContain('exported 6 events');
    expect(readFileSync(file, 'utf8').trim().split('\r\n')).toHaveLength(7);
    const n = await run('export', '--data-dir', dataDir, '--tenant', 'acme', '--actor', 'u0');
    expect(
      n.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).actor.id),
    ).toEqual(['u0', 'u0', 'u0']);
  });

  it('usage errors exit 2 with the message and usage on stderr', async () => {
    for (const argv of [
      ['events', '--data-dir', dataDir],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--bogus'],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--crud', 'drop'],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--from', 'yesterday'],
      ['events', '--tenant', 'acme'],
      ['events', '--url', 'http://x', '--data-dir', dataDir, '--tenant', 'acme'],
      ['target', 'invoice', '--data-dir', dataDir, '--tenant', 'acme'],
      ['migrate', '--data-dir', dataDir, '--logs-engine', 'Log'],
      ['events', '--data-dir', dataDir, '--tenant', 'acme', '--limit', '0'],
      ['nope'],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^otel-audit/);
    }
  });

  it('--help prints usage on stdout and exits 0', async () => {
    const r = await run('export', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--format F');
    expect(r.out).toContain(ENV.url);
  });
});

describe('otel-audit (the bin, through tsx)', () => {
  const bin = join(import.meta.dirname, '..', 'src', 'bin.ts');
  const exec = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', bin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });

  it('runs a command from the environment and exits 1 with the locked-directory error when the directory is busy', async () => {
    const other = join(root, 'bin-data');
    const ok = exec(['migrate', '--json'], { [ENV.dataDir]: other });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).applied).toEqual(loadMigrations().map((m) => m.name));
    // This process holds dataDir open now: the child cannot lock it.
    const store = await AuditStore.open({ path: dataDir });
    try {
      const busy = exec(['events', '--tenant', 'acme'], { [ENV.dataDir]: dataDir });
      expect(busy.status).toBe(1);
      expect(busy.stderr).toContain(`data directory ${dataDir} is locked by another process`);
      expect(busy.stdout).toBe('');
    } finally {
      await store.close();
    }
  });
});
