// Group-commit scheduling of the receiver's IngestQueue. The writer here records batches instead of writing to
// chDB: what is under test is which requests share an insert (the store path is covered by the receiver tests).
import type { OtelLogRow } from '@otel-audit/clickhouse';
import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../src/receiver/errors.js';
import { IngestQueue } from '../src/receiver/ingest-queue.js';

const row = (n: number) => ({ Body: String(n) }) as unknown as OtelLogRow;

function recordingWriter() {
  const batches: string[][] = [];
  const insert = async (rows: OtelLogRow[]) => {
    batches.push(rows.map((r) => r.Body));
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  return { batches, insert };
}

describe('IngestQueue group commit', () => {
  it('without a delay, writes the first request at once and groups what arrives meanwhile', async () => {
    const w = recordingWriter();
    const queue = new IngestQueue({ insert: [w.insert], maxPendingRows: 100, maxBatchRows: 10 });
    await Promise.all([queue.submit([row(1)]), queue.submit([row(2)]), queue.submit([row(3)])]);
    expect(w.batches).toEqual([['1'], ['2', '3']]);
  });

  it('close() waits for queued requests and refuses new ones', async () => {
    const w = recordingWriter();
    const queue = new IngestQueue({ insert: [w.insert], maxPendingRows: 100, maxBatchRows: 10 });
    const pending = [queue.submit([row(1)]), queue.submit([row(2)])];
    await queue.close();
    await Promise.all(pending);
    expect(w.batches).toEqual([['1'], ['2']]);
    await expect(queue.submit([row(3)])).rejects.toThrow(/shutting down/);
  });

  it('refuses a request whole when the pending rows would exceed the limit', async () => {
    const w = recordingWriter();
    const queue = new IngestQueue({ insert: [w.insert], maxPendingRows: 3, maxBatchRows: 10 });
    const first = queue.submit([row(1), row(2)]);
    await expect(queue.submit([row(3), row(4)])).rejects.toBeInstanceOf(QueueFullError);
    await first;
    expect(w.batches).toEqual([['1', '2']]);
  });
});

describe('IngestQueue with two writers', () => {
  it('runs two inserts at once and commits every row of concurrent submits exactly once', async () => {
    const committed: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const writer = async (rows: OtelLogRow[]) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
      committed.push(...rows.map((r) => r.Body));
      running -= 1;
    };
    const queue = new IngestQueue({ insert: [writer, writer], maxPendingRows: 10_000, maxBatchRows: 7 });
    const acknowledged: string[] = [];
    // 60 requests of 1-4 rows, arriving in waves while inserts are running.
    const submits: Promise<void>[] = [];
    let n = 0;
    for (let wave = 0; wave < 6; wave += 1) {
      for (let i = 0; i < 10; i += 1) {
        const rows = Array.from({ length: 1 + ((wave + i) % 4) }, () => row(n++));
        submits.push(
          queue.submit(rows).then(() => {
            // Acknowledged only once its rows are committed.
            for (const r of rows) expect(committed).toContain(r.Body);
            acknowledged.push(...rows.map((r) => r.Body));
          }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await Promise.all(submits);
    await queue.close();
    const all = Array.from({ length: n }, (_, i) => String(i));
    expect([...committed].sort()).toEqual([...all].sort());
    expect([...acknowledged].sort()).toEqual([...all].sort());
    expect(maxRunning).toBe(2);
    expect(queue.stats).toMatchObject({ pendingRows: 0, committedRows: n, failedBatches: 0 });
  });

  it('fails only the batch whose insert failed; the other writer keeps committing', async () => {
    const committed: string[] = [];
    let calls = 0;
    const writer = async (rows: OtelLogRow[]) => {
      calls += 1;
      const fail = calls === 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (fail) throw new Error('disk full');
      committed.push(...rows.map((r) => r.Body));
    };
    const queue = new IngestQueue({ insert: [writer, writer], maxPendingRows: 100, maxBatchRows: 10 });
    const results = await Promise.allSettled([queue.submit([row(1)]), queue.submit([row(2)])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(
      /writing to the store failed: disk full/,
    );
    expect(committed).toEqual(['2']);
    expect(queue.stats).toMatchObject({ pendingRows: 0, committedRows: 1, failedBatches: 1 });
  });
});

describe('IngestQueue: a group whose insert fails', () => {
  it('is written again one request at a time: only the request the store refuses fails', async () => {
    const calls: string[][] = [];
    const writer = async (rows: OtelLogRow[]) => {
      const bodies = rows.map((r) => r.Body);
      calls.push(bodies);
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (bodies.includes('poison'))
        throw new Error('Code: 252. Too many partitions for single INSERT block');
    };
    const queue = new IngestQueue({ insert: [writer], maxPendingRows: 100, maxBatchRows: 10 });
    const first = queue.submit([row(1)]); // keeps the writer busy while the next three queue up together
    const results = await Promise.allSettled([
      queue.submit([row(2)]),
      queue.submit([{ Body: 'poison' } as unknown as OtelLogRow]),
      queue.submit([row(3)]),
    ]);
    await first;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/Too many partitions/);
    expect(calls).toEqual([['1'], ['2', 'poison', '3'], ['2'], ['poison'], ['3']]);
    expect(queue.stats).toMatchObject({ pendingRows: 0, committedRows: 3 });
  });

  it('fails every request at once when the store cannot be reached (no attempt per request)', async () => {
    const calls: number[] = [];
    let block = true;
    const writer = async (rows: OtelLogRow[]) => {
      calls.push(rows.length);
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (block) {
        block = false;
        return;
      }
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    };
    const queue = new IngestQueue({ insert: [writer], maxPendingRows: 100, maxBatchRows: 10 });
    const first = queue.submit([row(1)]);
    const results = await Promise.allSettled([queue.submit([row(2)]), queue.submit([row(3)])]);
    await first;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toEqual([1, 2]);
    expect(queue.stats).toMatchObject({ pendingRows: 0, committedRows: 1 });
  });
});

describe('IngestQueue wake-up', () => {
  it('writes a request submitted the moment the previous one is acknowledged (writer not yet marked idle)', async () => {
    const batches: string[][] = [];
    // Resolves without a timer: the acknowledgement's continuation runs before the writer's bookkeeping.
    const insert = async (rows: OtelLogRow[]) => {
      batches.push(rows.map((r) => r.Body));
    };
    const queue = new IngestQueue({ insert: [insert], maxPendingRows: 100, maxBatchRows: 10 });
    const second = queue.submit([row(1)]).then(() => queue.submit([row(2)]));
    const outcome = await Promise.race([
      second.then(() => 'written'),
      new Promise((resolve) => setTimeout(() => resolve('stuck in the queue'), 1_000)),
    ]);
    expect(outcome).toBe('written');
    expect(batches).toEqual([['1'], ['2']]);
  });
});
