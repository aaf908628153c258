// Target keys of events whose insert failed, written again once inserts commit (see AuditStore.rewriteTargetKeys).
import { appendFileSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { AuditStore, OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES } from '@otel-audit/sdk/conventions';
import type { Logger } from './log.js';
import { ThrottledWarnings } from './throttled-warnings.js';

/** Ids remembered at most (~40 bytes each): past that, the senders' retries are the only repair. */
const MAX_PENDING = 100_000;
/** Ids rewritten after one committed insert (its acknowledgement waits for them). */
const PER_COMMIT = 2_000;
/** The file of pending ids, in serve's state directory. */
export const KEY_REPAIR_FILE = 'key-repair.ids';

/**
 * An insert the engine fails part-way through its views (seen with a full disk) can leave its events in
 * audit_events without their target keys; its requests get 503 and their senders are asked to retry, but may
 * give up. Their event ids are kept here, and after each insert that commits some of them get their keys
 * written again from the stored rows (nothing for events that did not land).
 *
 * The ids are also appended to a file (one per line) that is removed once none are left, so a serve stopped or
 * killed before the repair finished resumes it on its next start (`resume`). The file may name ids already
 * rewritten (only the removal is tracked): rewriting keys again is harmless, they collapse.
 */
export class TargetKeyRepair {
  private readonly pending = new Set<string>();
  private untracked = 0;
  private stopped = false;
  /** Lines in the file: rewritten from `pending` when it grows past twice the most it can hold. */
  private fileLines = 0;
  /** One warning per interval while rewrites keep failing. */
  private readonly warnings: ThrottledWarnings;

  constructor(
    private readonly log: Logger,
    logIntervalMs: number,
    /** Where pending ids are kept across restarts; undefined: in memory only. */
    private readonly file: string | undefined,
  ) {
    this.warnings = new ThrottledWarnings(log, logIntervalMs);
  }

  /** Takes up the ids an earlier serve left in the file. */
  resume(): void {
    if (this.file === undefined) return;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') this.fileFailed('read', error);
      return;
    }
    // A line cut by a crash mid-append is an id that names no event: harmless.
    for (const id of text.split('\n')) {
      if (id === '') continue;
      this.fileLines += 1;
      this.remember(id);
    }
    if (this.pending.size > 0)
      this.log.log('info', 'resuming the rewrite of target keys an earlier serve left unfinished', {
        events: this.pending.size,
        ...(this.untracked > 0 && { untracked: this.untracked }),
        file: this.file,
      });
  }

  /** The rows of an insert that failed. */
  failed(rows: readonly OtelLogRow[]): void {
    const added: string[] = [];
    for (const row of rows) {
      const id = row.LogAttributes[AUDIT_ATTRIBUTES.eventId];
      if (id !== undefined && this.remember(id)) added.push(id);
    }
    if (added.length === 0 || this.file === undefined) return;
    try {
      if (this.fileLines + added.length > 2 * MAX_PENDING) {
        this.rewriteFile();
      } else {
        appendFileSync(this.file, `${added.join('\n')}\n`, { mode: 0o600 });
        this.fileLines += added.length;
      }
    } catch (error) {
      // The disk that failed the insert may refuse this too: the ids are still repaired while serve runs.
      this.fileFailed('write', error);
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
      for (const id of ids) this.remember(id);
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
    if (this.pending.size === 0) {
      this.untracked = 0;
      this.removeFile();
    }
  }

  /**
   * Rewrites until none are pending, a rewrite fails or `stop` is called (at start, for ids resumed from the
   * file: not before listening, as 100k ids can take a while).
   */
  async drain(store: AuditStore): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const before = this.pending.size;
      await this.committed(store);
      if (this.pending.size >= before) return;
    }
  }

  /** Ends a running `drain` after its current rewrite (shutdown). */
  stop(): void {
    this.stopped = true;
  }

  /** What is left at shutdown: the next start resumes it from the file (or the senders' retries repair it). */
  get pendingEvents(): number {
    return this.pending.size + this.untracked;
  }

  /** Adds an id unless known; false when known or over the limit (counted untracked). */
  private remember(id: string): boolean {
    if (this.pending.has(id)) return false;
    if (this.pending.size >= MAX_PENDING) {
      this.untracked += 1;
      return false;
    }
    this.pending.add(id);
    return true;
  }

  private rewriteFile(): void {
    if (this.file === undefined) return;
    const ids = [...this.pending];
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, ids.length > 0 ? `${ids.join('\n')}\n` : '', { mode: 0o600 });
    renameSync(temporary, this.file);
    this.fileLines = ids.length;
  }

  private removeFile(): void {
    if (this.file === undefined || this.fileLines === 0) return;
    try {
      unlinkSync(this.file);
      this.fileLines = 0;
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') this.fileLines = 0;
      else this.fileFailed('remove', error);
    }
  }

  private fileFailed(what: 'read' | 'write' | 'remove', error: unknown): void {
    this.warnings.note(
      `file-${what}`,
      `cannot ${what} the file of events whose target keys are to be rewritten`,
      'failures',
      1,
      {
        file: this.file,
        error: error instanceof Error ? error.message : String(error),
        ...(what === 'write' && { effect: 'kept in memory only: a restart leaves them to the senders' }),
      },
    );
  }
}
