// serve with a store that has a retention: an audit record already past it is rejected by partial success (its TTL
// would delete it as soon as it landed: acknowledged, then gone), the others stored.

import type { StoreStatus } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES as A } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeProtobufResponse } from '../src/index.js';
import { RETENTION_REFRESH_MS, serverNow, watchRetention } from '../src/receiver/retention.js';
import { type JsonObject, logsRequest, startTestServe, str, type TestServe } from './receiver-support.js';

const DAY_NS = 86_400_000_000_000n;
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

function auditRecord(id: string, times: JsonObject): JsonObject {
  return {
    ...times,
    body: { stringValue: '{}' },
    attributes: [
      str(A.eventId, id),
      str(A.action, 'iam.user.updated'),
      str(A.tenant, 'acme'),
      str(A.actorId, 'user-1'),
      str(A.actorType, 'user'),
      str(A.targets, '[]'),
      str(A.crud, 'update'),
      str(A.outcome, 'success'),
    ],
  };
}

const id = (n: number) => `0193a5b0-0000-7000-8000-${String(n).padStart(12, '0')}`;

let t: TestServe;
beforeAll(async () => {
  t = await startTestServe({ records: 'audit', migrate: { retentionDays: 30 } });
});
afterAll(() => t.close());

describe('an audit record older than the store retention', () => {
  for (const encoding of ['json', 'protobuf'] as const)
    it(`is rejected with its reason, the rest stored (${encoding})`, async () => {
      const base = encoding === 'json' ? 0 : 10;
      const sixtyDaysAgo = nowNs() - 60n * DAY_NS;
      const res = await t.send(
        logsRequest([
          auditRecord(id(base + 1), { timeUnixNano: `${nowNs()}` }),
          auditRecord(id(base + 2), { timeUnixNano: `${sixtyDaysAgo}` }),
          // No time at all: stored at 1970-01-01 (as the exporter does), so past any retention.
          auditRecord(id(base + 3), {}),
          // observedTimeUnixNano stands in when timeUnixNano is 0.
          auditRecord(id(base + 4), { observedTimeUnixNano: `${nowNs() - 29n * DAY_NS}` }),
          auditRecord(id(base + 5), { observedTimeUnixNano: `${sixtyDaysAgo}` }),
        ]),
        encoding,
      );
      expect(res.status).toBe(200);
      const partial = (
        encoding === 'json' ? res.json?.partialSuccess : decodeProtobufResponse(res.bytes)
      ) as { rejectedLogRecords: string | number; errorMessage: string };
      expect(String(partial.rejectedLogRecords)).toBe('3');
      expect(partial.errorMessage).toMatch(
        /logRecords\[1\]: occurred at \S+Z, older than the store's retention of 30 days: it would be deleted as soon as stored/,
      );
      expect(partial.errorMessage).toContain(
        "logRecords[2]: occurred at 1970-01-01T00:00:00.000Z, older than the store's retention of 30 days: it " +
          'would be deleted as soon as stored (the record has no timeUnixNano nor observedTimeUnixNano: 1970-01-01)',
      );
      expect(partial.errorMessage).toMatch(/logRecords\[4\]: occurred at/);
      const sent = new Set([1, 2, 3, 4, 5].map((n) => id(base + n)));
      const page = await t.serve.store.search({ tenant: 'acme' }, { limit: 100 });
      expect(
        page.events
          .map((e) => e.id)
          .filter((e) => sent.has(e))
          .sort(),
      ).toEqual([id(base + 1), id(base + 4)]);
    });
});

describe('the retention serve knows', () => {
  it('follows a server store every RETENTION_REFRESH_MS (a migrate may raise it before a backfill); read once embedded', async () => {
    let days = 30;
    const store = {
      status: async () =>
        ({ tables: [{ name: 'audit_events', retentionDays: days }] }) as unknown as StoreStatus,
    };
    vi.useFakeTimers();
    try {
      const server = await watchRetention(store, () => {}, RETENTION_REFRESH_MS);
      const embedded = await watchRetention(store, () => {}, undefined);
      expect(server.cutoff(0)?.days).toBe(30);
      days = 365;
      await vi.advanceTimersByTimeAsync(RETENTION_REFRESH_MS);
      expect(server.cutoff(0)).toEqual({ days: 365, expiredBeforeMs: -365 * 86_400_000 });
      expect(embedded.cutoff(0)?.days).toBe(30);
      server.stop();
      embedded.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    expect(RETENTION_REFRESH_MS).toBeLessThanOrEqual(5_000);
  });

  it("follows a server store's clock, which its TTL deletes by, not this host's (behind it, or stepped)", async () => {
    const store = {
      status: async () =>
        ({ tables: [{ name: 'audit_events', retentionDays: 1 }] }) as unknown as StoreStatus,
    };
    const ahead = 2 * 3_600_000; // serve's host 2 h behind the server
    const server = await watchRetention(
      store,
      () => {},
      RETENTION_REFRESH_MS,
      async () => Date.now() + ahead,
    );
    try {
      const expected = Date.now() + ahead - 86_400_000;
      expect(Math.abs((server.cutoff(Date.now())?.expiredBeforeMs ?? 0) - expected)).toBeLessThan(1_000);
      // This host's time is not what counts (a step of its wall clock moves nothing).
      expect(Math.abs((server.cutoff(0)?.expiredBeforeMs ?? 0) - expected)).toBeLessThan(1_000);
    } finally {
      server.stop();
    }
    // A failed clock read is told as such; the retention is still checked (by this host's clock until a reading).
    const said: string[] = [];
    let fails = true;
    const flaky = await watchRetention(
      store,
      (error, what) => said.push(`${what}: ${(error as Error).message}`),
      RETENTION_REFRESH_MS,
      async () => {
        if (fails) throw new Error('no route to host');
        return Date.now() + ahead;
      },
    );
    try {
      expect(said).toEqual(['clock: no route to host']);
      expect(flaky.cutoff(0)?.expiredBeforeMs).toBe(-86_400_000);
      fails = false;
      await vi.waitFor(() => expect(flaky.cutoff(0)?.expiredBeforeMs).toBeGreaterThan(0), {
        timeout: RETENTION_REFRESH_MS + 2_000,
      });
    } finally {
      flaky.stop();
    }
    // A refresh running when stop() is called (serve shutting down) queries nothing more and reports nothing.
    let clockReads = 0;
    const slow = {
      status: async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { tables: [{ name: 'audit_events', retentionDays: 30 }] } as unknown as StoreStatus;
      },
    };
    const told: string[] = [];
    const stopping = await watchRetention(
      slow,
      (_error, what) => told.push(what),
      50,
      async () => {
        clockReads += 1;
        return Date.now();
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 80)); // a refresh is waiting on status()
    stopping.stop();
    const readsAtStop = clockReads;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(clockReads).toBe(readsAtStop);
    expect(told).toEqual([]);
    // The clock query runs on the engine.
    expect(Math.abs((await serverNow(t.serve.store)) - Date.now())).toBeLessThan(5_000);
  });
});
