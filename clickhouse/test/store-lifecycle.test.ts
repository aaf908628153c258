// An embedded store over its life in one process: closed, reopened, and an export whose own sink fails.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditStore, OtherDataDirectoryOpenError, StoreClosedError } from '../src/index.js';
import { logRow, openTestStore } from './support.js';

let dir: string | undefined;
afterAll(() => {
  if (dir) for (const d of [dir, `${dir}-other`]) rmSync(d, { recursive: true, force: true });
});

describe('an embedded store', () => {
  it('refuses calls after close() with StoreClosedError; the directory opens again', async () => {
    const opened = await openTestStore();
    dir = opened.dir;
    const { store } = opened;
    await store.insertLogs([logRow({ id: '0193a5b0-0000-7000-8000-000000000001', tenant: 'acme' })]);
    await store.close();
    await store.close(); // twice is fine
    for (const call of [store.search({ tenant: 'acme' }), store.insertLogs([]), store.status()]) {
      const error = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreClosedError);
      expect((error as Error).message).toBe(
        'the store is closed: open a new one (AuditStore.open) for further calls',
      );
    }
    const again = await AuditStore.open({ path: dir });
    try {
      // A second directory while one is open: chDB holds one per process.
      const other = await AuditStore.open({ path: `${dir}-other` }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(other).toBeInstanceOf(OtherDataDirectoryOpenError);
      expect((other as Error).message).toMatch(
        new RegExp(
          `^data directory ${dir}-other cannot be opened: this process has another embedded data directory open`,
        ),
      );
      expect((await again.search({ tenant: 'acme' })).events.map((e) => e.id)).toEqual([
        '0193a5b0-0000-7000-8000-000000000001',
      ]);
      // The caller's own write failing (a closed stdout: EPIPE, a code that also means "server gone") comes back
      // as it was thrown, not as a store failure.
      const pipeClosed = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      const thrown = await again
        .exportEvents(
          { tenant: 'acme' },
          {
            format: 'ndjson',
            write: () => {
              throw pipeClosed;
            },
          },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(thrown).toBe(pipeClosed);
      // So does a progress callback's: the export ends with it (it was an unhandled rejection: exit 1).
      const stop = new Error('stop: output closed');
      const progressed = await again
        .exportEvents(
          { tenant: 'acme' },
          {
            format: 'ndjson',
            write: () => {},
            onProgress: () => {
              throw stop;
            },
          },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(progressed).toBe(stop);
    } finally {
      await again.close();
    }
  });
});
