// A process that records and then simply ends (no shutdown call): the logger flushes on `beforeExit`, so
// queued and coalesced events still reach the endpoint.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capture, eventIds } from './support.js';

const child = `
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
const provider = createAuditLoggerProvider({ endpoint: process.env.ENDPOINT });
const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme' });
const ids = [audit.record({ action: 'a.b.created' }).id, audit.record({ action: 'a.b.updated' }).id];
const saves = audit.coalesce({ idleMs: 60_000 });
for (let i = 0; i < 3; i++) ids.push(saves.record({ action: 'docs.sheet.saved', targets: [{ type: 'sheet', id: 's1' }] }).id);
console.log(JSON.stringify([...new Set(ids)]));
`;

const endpoints: { close: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const e of endpoints) await e.close();
});

describe('flush on exit', () => {
  it('delivers queued and coalesced events of a process that ends without calling shutdown()', async () => {
    const endpoint = await capture();
    endpoints.push(endpoint);
    const proc = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', child],
      {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, ENDPOINT: endpoint.url },
      },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(0);
    const recorded = JSON.parse(out) as string[];
    expect(recorded).toHaveLength(3);
    expect(eventIds(endpoint).sort()).toEqual([...recorded].sort());
  }, 30_000);
});
