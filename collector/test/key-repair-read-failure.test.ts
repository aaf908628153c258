// A key-repair file serve cannot read at start (an I/O error, not a missing file) may hold an earlier serve's ids
// this one does not know: it is appended to, never replaced or removed, so the next start still finds them. The
// read error is injected (node:fs readFileSync fails while `failRead` is set); everything else is the real file system.

import type * as Fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES as A } from '@otel-audit/sdk/conventions';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { jsonLogger } from '../src/receiver/log.js';

let failRead = false;
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>();
  return {
    ...fs,
    readFileSync: (...args: Parameters<typeof fs.readFileSync>) => {
      if (failRead) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      return fs.readFileSync(...args);
    },
  };
});
const { TargetKeyRepair } = await import('../src/receiver/key-repair.js');

const dir = mkdtempSync(join(tmpdir(), 'key-repair-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const row = (i: number) => ({ LogAttributes: { [A.eventId]: id(i) } }) as unknown as OtelLogRow;

describe('a key-repair file that cannot be read at start', () => {
  it('is only appended to: the ids it held survive a rewrite that empties what this serve knows', async () => {
    const file = join(dir, 'unreadable.ids');
    writeFileSync(file, `${id(1)}\n${id(2)}\n`);
    const logs: string[] = [];
    const repair = new TargetKeyRepair(
      jsonLogger((l) => logs.push(l)),
      10_000,
      file,
    );
    failRead = true;
    repair.resume();
    failRead = false;
    expect(logs.join('')).toMatch(/cannot read the file of events whose target keys are to be rewritten/);
    repair.failed([row(9)]);
    await repair.committed({ rewriteTargetKeys: async () => undefined });
    expect(repair.pendingEvents).toBe(0);
    const kept = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(kept).toEqual([id(1), id(2), id(9)]);
  });
});
