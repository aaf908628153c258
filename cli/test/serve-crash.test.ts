// kill -9 of `otel-audit serve` while clients are sending: every event it acknowledged (200) is there after a
// restart on the same directory (chDB data survives SIGKILL once an insert returned; serve acks after commit).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_FILE_NAME } from '@otel-audit/collector';
import { afterAll, describe, expect, it } from 'vitest';
import { auditRequest, postLogs, type SentEvent, type ServeChild, startServeChild } from './serve-support.js';

const root = mkdtempSync(join(tmpdir(), 'otel-audit-crash-'));
const children: ServeChild[] = [];
afterAll(() => {
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const batch = (n: number): SentEvent[] =>
  Array.from({ length: n }, () => ({
    id: randomUUID(),
    tenant: 'crash',
    action: 'billing.invoice.paid',
    actor: 'user-1',
    target: 'inv-1',
  }));

describe('kill -9 of serve under load', () => {
  it('keeps every acknowledged event across the crash', async () => {
    const dir = join(root, 'data');
    const first = await startServeChild(['--data-dir', dir, '--port', '0']);
    children.push(first);
    const token = readFileSync(join(dir, TOKEN_FILE_NAME), 'utf8').trim();
    const acknowledged = new Set<string>();
    let failedRequests = 0;
    let stop = false;
    const senders = Array.from({ length: 6 }, async () => {
      while (!stop) {
        const events = batch(250);
        try {
          if ((await postLogs(first.url, token, auditRequest(events))) === 200)
            for (const e of events) acknowledged.add(e.id);
        } catch {
          // The connection died with the process: this request was never acknowledged.
          failedRequests += 1;
          return;
        }
      }
    });
    const deadline = Date.now() + 20_000;
    while (acknowledged.size < 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    stop = true;
    await Promise.all(senders);
    expect(acknowledged.size).toBeGreaterThanOrEqual(5000);
    // Requests were in flight when it died (that is what "under load" means here).
    expect(failedRequests).toBeGreaterThan(0);

    // Restart on the same directory (its serve.json is stale: the new one replaces it).
    const second = await startServeChild(['--data-dir', dir, '--port', '0']);
    children.push(second);
    const stored = new Set<string>();
    let cursor: string | undefined;
    do {
      const res = await fetch(
        `${second.url}/v1/audit/events?tenant=crash&limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(res.status).toBe(200);
      const page = (await res.json()) as { events: { id: string }[]; nextCursor?: string };
      for (const e of page.events) stored.add(e.id);
      cursor = page.nextCursor;
    } while (cursor);
    const missing = [...acknowledged].filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 120_000);
});
