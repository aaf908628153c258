// An insert the engine fails part-way through its views (seen with a full disk) left its events in audit_events
// without their target keys: invisible to target history unless the sender, answered 503, sent them again. serve
// now rewrites their keys once inserts commit. The part-way failure is made here with a constraint on the keys
// table (the events land, the keys are refused), dropped afterwards like space being freed.
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES as A } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonObject, logsRequest, startTestServe, str, type TestServe } from './receiver-support.js';

const TENANT = 'repair';
const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function record(i: number, target: string): JsonObject {
  return {
    timeUnixNano: `${BigInt(Date.UTC(2026, 10, 1) + i) * 1_000_000n}`,
    attributes: [
      str(A.eventId, id(i)),
      str(A.action, 'docs.page.viewed'),
      str(A.tenant, TENANT),
      str(A.actorId, `user-${i}`),
      str(A.actorType, 'user'),
      str(A.targets, JSON.stringify([{ type: 'page', id: target }])),
    ],
  };
}

describe('events of an insert that failed part-way through the views', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ records: 'audit' });
  }, 60_000);
  afterAll(async () => t?.close());

  it('get their target keys back once inserts commit, without being sent again', async () => {
    const store = t.serve.store;
    const history = async () =>
      (await store.targetHistory(TENANT, { type: 'page', id: 'home' })).events.map((e) => e.id);
    await store.command(
      "ALTER TABLE {db}.audit_target_keys ADD CONSTRAINT poison CHECK target_id != 'poison'",
    );
    // One request: its events land in audit_events, the keys insert is refused: 503.
    // Event 4's id has no dashes: the view reads it as a UUID, and so must the repair.
    const noDashes = record(4, 'home');
    noDashes.attributes = (noDashes.attributes as JsonObject[]).map((a) =>
      a.key === A.eventId ? str(A.eventId, id(4).replaceAll('-', '')) : a,
    );
    const failed = await t.send(logsRequest([record(1, 'home'), record(2, 'poison'), noDashes]));
    expect(failed.status).toBe(503);
    expect((await store.getEvent(TENANT, id(1)))?.id).toBe(id(1));
    expect(await history()).toEqual([]);
    await store.command('ALTER TABLE {db}.audit_target_keys DROP CONSTRAINT poison');
    // Another request commits; the failed one is never sent again.
    expect((await t.send(logsRequest([record(3, 'home')]))).status).toBe(200);
    expect(await history()).toEqual([id(4), id(3), id(1)]);
    expect(t.logs.some((line) => line.includes('rewrote target keys of events from failed inserts'))).toBe(
      true,
    );
  });
});

const repairFiles = (stateDir: string) => readdirSync(stateDir).filter((f) => /^key-repair-.*\.ids$/.test(f));

describe('a repair serve could not finish before it stopped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'key-repair-restart-'));
  const path = join(dir, 'data');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is taken up by the next serve of the store, at its start', async () => {
    const first = await startTestServe({ records: 'audit', store: { path } });
    await first.serve.store.command(
      "ALTER TABLE {db}.audit_target_keys ADD CONSTRAINT poison CHECK target_id != 'poison'",
    );
    expect((await first.send(logsRequest([record(11, 'home'), record(12, 'poison')]))).status).toBe(503);
    await first.close();
    // Nothing committed after the failure: the ids are in the store's file, not yet rewritten.
    const files = repairFiles(path);
    expect(files).toHaveLength(1);
    const file = join(path, files[0] ?? '');
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean).sort()).toEqual([id(11), id(12)]);
    expect(first.logs.some((l) => l.includes('not rewritten') && l.includes(file))).toBe(true);

    // Another store's serve with the same state directory leaves the file alone.
    const other = await startTestServe({
      records: 'audit',
      store: { path: join(dir, 'other') },
      stateDir: path,
    });
    await other.close();
    expect(other.logs.some((l) => l.includes('resuming the rewrite'))).toBe(false);
    expect(repairFiles(path)).toEqual(files);

    // Space freed while serve was down, and the data directory moved (the file goes with it).
    const moved = join(dir, 'moved');
    renameSync(path, moved);
    const offline = await AuditStore.open({ path: moved });
    await offline.command('ALTER TABLE {db}.audit_target_keys DROP CONSTRAINT poison');
    expect((await offline.targetHistory(TENANT, { type: 'page', id: 'home' })).events).toEqual([]);
    await offline.close();

    // The next serve rewrites them without any insert committing.
    const second = await startTestServe({ records: 'audit', store: { path: moved } });
    try {
      const history = async () =>
        (await second.serve.store.targetHistory(TENANT, { type: 'page', id: 'home' })).events.map(
          (e) => e.id,
        );
      await expect.poll(history, { timeout: 20_000 }).toEqual([id(11)]);
      await expect.poll(() => repairFiles(moved), { timeout: 5_000 }).toEqual([]);
      expect(second.logs.some((l) => l.includes('resuming the rewrite of target keys'))).toBe(true);
    } finally {
      await second.close();
    }
  }, 120_000);
});
