// A retention change rewrites the audit tables' parts; on a disk without room for that the engine's mutation
// waited for space and migrate hung silently, holding the store (review: 31 minutes). Runs on a small tmpfs,
// which needs root (mount): skipped otherwise, saying so.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore, AuditStoreError } from '../src/index.js';
import { logRow } from './support.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'otel-audit-small-disk-'));
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mountPoint], { stdio: 'ignore' });
  mounted = true;
} catch {
  console.warn(
    `skipped: mounting a small tmpfs at ${mountPoint} needs root (mount); the disk-room check is untested here`,
  );
}

describe.skipIf(!mounted)('a retention change on a disk without room to rewrite the tables', () => {
  let store: AuditStore;
  const filler = join(mountPoint, 'filler');
  beforeAll(async () => {
    store = await AuditStore.open({ path: join(mountPoint, 'data') });
    await store.migrate();
    // ~8 MB of metadata that does not compress.
    await store.insertLogs(
      Array.from({ length: 80 }, (_, i) =>
        logRow({
          tenant: 'acme',
          metadata: { blob: randomBytes(75_000).toString('base64') },
          occurredAt: new Date(Date.now() - i),
        }),
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('is refused up front, saying how much to free; once freed, it applies', async () => {
    // 5% more than the parts take: the engine wants ~10% more than a part to rewrite it (with 4% more it waited).
    const [parts] = await store.query<{ bytes: string }>(
      "SELECT sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = 'default' AND active AND table = 'audit_events'",
    );
    const leave = Math.round(Number(parts?.bytes) * 1.05);
    const { bavail, bsize } = statfsSync(mountPoint);
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - leave)));
    const refused = await store.migrate({ retentionDays: 30 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AuditStoreError);
    expect((refused as Error).message).toMatch(
      /rewrites the parts of .*audit_events.* which needs [\d.]+ MiB free there and has [\d.]+ MiB: free at least [\d.]+ MiB and run migrate again/,
    );
    const events = async () => (await store.status()).tables.find((t) => t.name === 'audit_events');
    expect(await events()).not.toHaveProperty('retentionDays');
    expect(await events()).not.toHaveProperty('ttlRecalculationPending');
    // A table an earlier migrate marked and did not finish: a plain migrate finishes it, so it is checked too,
    // and says what it is doing (no retention change was asked for).
    await store.command(
      'ALTER TABLE {db}.audit_events MODIFY SETTING materialize_ttl_recalculate_only = 1, ' +
        'max_number_of_merges_with_ttl_in_pool = 0, max_bytes_to_merge_at_max_space_in_pool = 1, ' +
        'max_bytes_to_merge_at_min_space_in_pool = 1',
    );
    await expect(store.migrate()).rejects.toThrow(
      /^finishing the retention change an earlier migrate left unfinished rewrites the parts of audit_events /,
    );
    rmSync(filler);
    await store.migrate({ retentionDays: 30 });
    expect(await events()).toMatchObject({ retentionDays: 30, rows: 80 });
    expect(await events()).not.toHaveProperty('ttlRecalculationPending');
  }, 120_000);
});
