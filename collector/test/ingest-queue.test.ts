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
