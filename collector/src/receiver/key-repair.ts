// Target keys of events whose insert failed, written again once inserts commit (see AuditStore.rewriteTargetKeys).
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditStore, OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES } from '@otel-audit/sdk/conventions';
import type { Logger } from './log.js';
import { ThrottledWarnings } from './throttled-warnings.js';

/** What rewrites the keys: the store (AuditStore.rewriteTargetKeys). */
export type KeyRewriter = Pick<AuditStore, 'rewriteTargetKeys'>;

/** Ids of new failures remembered at most (~40 bytes each): past that, the senders' retries are the only repair. */
const MAX_PENDING = 100_000;
/** Ids rewritten after one committed insert (its acknowledgement waits for them). */
const PER_COMMIT = 2_000;
/**
 * The file of pending ids for one store (`store`: what names it, see serve.ts), named after it, so serves of
 * other stores sharing a state directory (every `--url` serve by default) never take up or remove each other's.
 */
export function keyRepairFile(stateDir: string, store: string): string {
  const hash = createHash('sha256').update(store).digest('hex').slice(0, 16);
  return join(stateDir, `key-repair-${hash}.ids`);
}

/**
 * An insert the engine fails part-way through its views (seen with a full disk) can leave its events in
 * audit_events without their target keys; its requests get 503 and their senders are asked to retry, but may
 * give up. Their event ids are kept here, and after each insert that commits some of them get their keys
 * written again from the stored rows (nothing for events that did not land).
 *
 * The ids are also kept in a file, so a serve stopped or killed before the repair finished resumes it on its
 * next start (`resume`): new ids are appended, and after each successful rewrite the file is written again with
 * the ids still pending or being rewritten (removed when there are none). It always holds at least those ids
 * whenever its writes succeed; one that fails (the full disk) leaves the previous file, a superset of what is
 * left, and the next successful write makes it whole again.
 */
export class TargetKeyRepair {
  /** Ids waiting for a rewrite. */
  private readonly pending = new Set<string>();
  /**
   * Ids taken out by rewrites still running, with how many hold each (one failing again mid-rewrite can be taken
   * by a second): kept in the file until the last of them ends.
   */
  private readonly rewriting = new Map<string, number>();
  /** Ids of failures over MAX_PENDING: neither remembered nor in the file. */
  private untracked = 0;
  private stopped = false;
  /** An append failed since the file was last written whole: some ids are in memory only. */
  private appendFailed = false;
  /**
   * The file could not be read at start: it may hold ids of an earlier serve this one does not know, so it is only
   * appended to, never replaced or removed.
   */
  private appendOnly = false;
  /** One warning per interval while rewrites (or the file's writes) keep failing. */
  private readonly warnings: ThrottledWarnings;

  constructor(
    private readonly log: Logger,
    logIntervalMs: number,
    /** Where pending ids are kept across restarts (see keyRepairFile); undefined: in memory only. */
    private readonly file: string | undefined,
  ) {
    this.warnings = new ThrottledWarnings(log, logIntervalMs);
  }

  /** Takes up the ids an earlier serve of this store left in the file. */
  resume(): void {
    if (this.file === undefined) return;
    let text: string;
    try {
      // Whole: its oldest lines may be ids still pending (a rewrite of them failed). Bounded by the disk only
      // while writes of the whole file keep failing; one too large to read is left alone (appendOnly below).
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') {
        this.appendOnly = true;
        this.fileFailed('read', error);
      }
      return;
    }
    // Blank lines separate appends; a line cut by a crash or a full disk is an id that names no event.
    for (const id of text.split('\n')) if (id !== '') this.pending.add(id);
    if (this.pending.size > 0)
      this.log.log('info', 'resuming the rewrite of target keys an earlier serve left unfinished', {
        events: this.pending.size,
        file: this.file,
      });
  }

  /** The rows of an insert that failed. */
  failed(rows: readonly OtelLogRow[]): void {
    const added: string[] = [];
    for (const row of rows) {
      const id = row.LogAttributes[AUDIT_ATTRIBUTES.eventId];
      // An id whose rewrite is running is taken again: that rewrite may have read the stored rows before this
      // insert's events landed.
      if (id === undefined || this.pending.has(id)) continue;
      // Already held by a running rewrite: not a new id, so not over the limit.
      if (!this.rewriting.has(id) && this.pending.size + this.rewriting.size >= MAX_PENDING) {
        this.untracked += 1;
        continue;
      }
      this.pending.add(id);
      added.push(id);
    }
    if (added.length === 0 || this.file === undefined) return;
    try {
      // Led by a newline: an earlier append the disk cut short must not run into this one's first id.
      appendFileSync(this.file, `\n${added.join('\n')}\n`, { mode: 0o600 });
    } catch (error) {
      // The disk that failed the insert may refuse this too: the next write of the whole file takes them.
      this.appendFailed = true;
      this.fileFailed('write', error);
    }
  }

  /** After an insert committed on `store`: rewrites the keys of up to PER_COMMIT pending events. */
  async committed(store: KeyRewriter): Promise<void> {
    if (this.pending.size === 0) return;
    // Taken out before the rewrite: another writer committing meanwhile takes other ids, and an id failing again
    // meanwhile is added back and kept.
    const ids = [...this.pending].slice(0, PER_COMMIT);
    for (const id of ids) {
      this.pending.delete(id);
      this.rewriting.set(id, (this.rewriting.get(id) ?? 0) + 1);
    }
    try {
      await store.rewriteTargetKeys(ids);
    } catch (error) {
      // Back for the next commit (still in the file); the insert that just committed is acknowledged regardless.
      for (const id of ids) {
        this.released(id);
        this.pending.add(id);
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
    // An id that failed again meanwhile is in pending still.
    for (const id of ids) this.released(id);
    this.log.log('info', 'rewrote target keys of events from failed inserts', {
      events: ids.length,
      stillPending: this.pending.size + this.rewriting.size,
      ...(this.untracked > 0 && { untracked: this.untracked }),
    });
    if (this.pending.size + this.rewriting.size === 0) this.untracked = 0;
    // After stop (a drain outliving shutdown) the file is left as it is: it holds every id left, and more.
    if (!this.stopped) this.writeFile();
  }

  /**
   * Rewrites until none are pending, a rewrite fails or `stop` is called (at start, for ids resumed from the
   * file: not before listening, as 100k ids can take a while).
   */
  async drain(store: KeyRewriter): Promise<void> {
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
    return this.pending.size + this.rewriting.size + this.untracked;
  }

  /** One rewrite holding `id` ended. */
  private released(id: string): void {
    const holders = (this.rewriting.get(id) ?? 1) - 1;
    if (holders > 0) this.rewriting.set(id, holders);
    else this.rewriting.delete(id);
  }

  /**
   * Writes the file whole if an append failed since the last whole write (at shutdown, after `stop`): those ids
   * are in memory only.
   */
  flush(): void {
    if (this.appendFailed) this.writeFile();
  }

  /**
   * The file as what is left: removed when nothing is, else written whole with the ids pending or being rewritten
   * (~17 ms for 100k ids, on the acknowledgement path of the insert that committed: only while ids are left).
   */
  private writeFile(): void {
    if (this.file === undefined) return;
    if (this.appendOnly) return;
    const left = new Set([...this.pending, ...this.rewriting.keys()]);
    if (left.size === 0) {
      this.appendFailed = false;
      try {
        unlinkSync(this.file);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') this.fileFailed('write', error);
      }
      return;
    }
    const temporary = `${this.file}.tmp`;
    try {
      writeFileSync(temporary, `${[...left].join('\n')}\n`, { mode: 0o600 });
      renameSync(temporary, this.file);
      this.appendFailed = false;
    } catch (error) {
      // The previous file stays: it holds every id left (and some already rewritten).
      this.fileFailed('write', error);
      try {
        unlinkSync(temporary);
      } catch {
        // not there, or the disk refuses this too: the next write replaces it
      }
    }
  }

  private fileFailed(what: 'read' | 'write', error: unknown): void {
    this.warnings.note(
      `file-${what}`,
      `cannot ${what} the file of events whose target keys are to be rewritten`,
      'failures',
      1,
      {
        file: this.file,
        error: error instanceof Error ? error.message : String(error),
        ...(what === 'write' && { effect: 'kept in memory; written with the next successful rewrite' }),
        ...(what === 'read' && {
          effect: 'its ids are rewritten at the next start; until then it is only appended to',
        }),
      },
    );
  }
}
