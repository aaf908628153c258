// The embedded connection sends a setting only when it changes (chDB keeps what a call sets): a call that
// changes a base setting must not leak it into the next call, and concurrent calls see their own settings.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/index.js';
import { openTestStore } from './support.js';

let store: AuditStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await openTestStore());
});
afterAll(() => cleanup());

const tz = async (settings: Record<string, string> = {}) =>
  (await store.query<{ tz: string }>("SELECT getSetting('session_timezone') AS tz", {}, settings))[0]?.tz;

const threads = async (settings: Record<string, number> = {}) =>
  (
    await store.query<{ changed: number }>(
      "SELECT changed FROM system.settings WHERE name = 'max_threads'",
      {},
      settings,
    )
  )[0]?.changed;

describe('settings on the embedded connection', () => {
  it('restores a base setting after a call that changed it', async () => {
    expect(await tz()).toBe('UTC');
    expect(await tz({ session_timezone: 'Europe/Paris' })).toBe('Europe/Paris');
    expect(await tz()).toBe('UTC');
  });

  it('resets an extra setting on the next call that does not send it', async () => {
    expect(await threads()).toBe(0);
    expect(await threads({ max_threads: 1 })).toBe(1);
    expect(await threads()).toBe(0);
    await store.command('SELECT 1', {}, { max_threads: 1 });
    expect(await threads()).toBe(0);
  });

  it('resets an extra setting after a failed call that sent it', async () => {
    await expect(store.query('SELECT no_such_column', {}, { max_threads: 1 })).rejects.toThrow();
    expect(await threads()).toBe(0);
  });

  it('resets an extra setting after an insert whose empty body ran no SQL', async () => {
    expect(await threads({ max_threads: 1 })).toBe(1);
    await store.client.exec({
      query: 'INSERT INTO {db}.otel_audit_migrations FORMAT JSONEachRow'.replace('{db}', store.db),
      values: Readable.from([]),
    });
    expect(await threads()).toBe(0);
  });

  it('gives concurrent calls their own settings', async () => {
    const zones = ['Asia/Tokyo', 'UTC', 'America/New_York', 'UTC', 'Europe/Berlin'];
    const seen = await Promise.all(zones.map((zone) => tz(zone === 'UTC' ? {} : { session_timezone: zone })));
    expect(seen).toEqual(zones);
  });

  it('sends everything again after a failed call', async () => {
    await expect(
      store.query('SELECT no_such_column', {}, { session_timezone: 'Asia/Tokyo' }),
    ).rejects.toThrow();
    expect(await tz()).toBe('UTC');
  });
});
