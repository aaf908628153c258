// Target keys of events whose insert failed, written again once inserts commit (see AuditStore.rewriteTargetKeys).
import type { AuditStore, OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES } from '@otel-audit/sdk/conventions';
import type { Logger } from './log.js';
import { ThrottledWarnings } from './throttled-warnings.js';

/** Ids remembered at most (~40 bytes each): past that, the senders' retries are the only repair. */
const MAX_PENDING = 100_000;
/** Ids rewritten after one committed insert (its acknowledgement waits for them). */
const PER_COMMIT = 2_000;

/**
 * An insert the engine fails part-way through its views (seen with a full disk) can leave its events in
 * audit_events without their target keys; its requests get 503 and their senders are asked to retry, but may
 * give up. Their event ids are kept here, and after each insert that commits some of them get their keys
 * written again from the stored rows (nothing for events that did not land). Kept in memory only: a restart
 * leaves the repair to the senders' retries.
 */
export class TargetKeyRepair {
  private readonly pending = new Set<string>();
  private untracked = 0;
  /** One warning per interval while rewrites keep failing. */
  private readonly warnings: ThrottledWarnings;

  constructor(
    private readonly log: Logger,
    logIntervalMs: number,
  ) {
    this.warnings = new ThrottledWarnings(log, logIntervalMs);
  }

  /** The rows of an insert that failed. */
  failed(rows: readonly OtelLogRow[]): void {
    for (const row of rows) {
      const id = row.LogAttributes[AUDIT_ATTRIBUTES.eventId];
      if (id === undefined) continue;
      if (this.pending.size < MAX_PENDING) this.pending.add(id);
      else this.untracked += 1;
    }
  }

  /** After an insert committed on `store`: rewrites the keys of up to PER_COMMIT pending events. */
  async committed(store: AuditStore): Promise<void> {
    if (this.pending.size === 0) return;
    // Taken out before the rewrite: another writer committing meanwhile takes other ids, and an id failing again
    // meanwhile is added back and kept.
    const ids = [...this.pending].slice(0, PER_COMMIT);
    for (const id of ids) this.pending.delete(id);
    try {
      await store.rewriteTargetKeys(ids);
    } catch (error) {
      // Back for the next commit; the insert that just committed is acknowledged regardless.
      for (const id of ids) {
        if (this.pending.size < MAX_PENDING) this.pending.add(id);
        else this.untracked += 1;
      }
      this.warnings.note(
        'rewrite',
        'rewriting target keys of events from failed inserts failed',
        'failures',
        1,
        {
          events: ids.length,
          error: error instanceof Error ? error.message : String(error),
        },
      );
      return;
    }
    this.log.log('info', 'rewrote target keys of events from failed inserts', {
      events: ids.length,
      stillPending: this.pending.size,
      ...(this.untracked > 0 && { untracked: this.untracked }),
    });
    this.untracked = 0;
  }

  /** What is left at shutdown: the senders' retries repair it (or nothing, if they gave up). */
  get pendingEvents(): number {
    return this.pending.size + this.untracked;
  }
}
