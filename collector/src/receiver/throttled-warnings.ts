// Warnings logged at most once per key and interval, telling how many were held back (refusals, key repair).
import type { Logger } from './log.js';

/** One kind of warning held back within its interval: the line it becomes, and the count it tells. */
interface Unlogged {
  msg: string;
  /** The field holding how many came since the last line. */
  countField: string;
  count: number;
  /** The latest occurrence's fields (status, message, remote address, …). */
  fields: Record<string, unknown>;
  timer?: NodeJS.Timeout;
}

/** Warnings logged at most once per key and interval; those held back are told when it is over. */
export class ThrottledWarnings {
  private readonly unlogged = new Map<string, Unlogged>();
  private readonly loggedAt = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  note(key: string, msg: string, countField: string, count: number, fields: Record<string, unknown>): void {
    const entry = this.unlogged.get(key) ?? { msg, countField, count: 0, fields };
    entry.count += count;
    entry.fields = fields;
    this.unlogged.set(key, entry);
    const last = this.loggedAt.get(key);
    const now = performance.now();
    if (last === undefined || now - last >= this.intervalMs) this.flush(key);
    // The ones after a line are told once the interval is over, even if no more come.
    else entry.timer ??= setTimeout(() => this.flush(key), last + this.intervalMs - now).unref();
  }

  /** Logs everything held back (at shutdown). */
  close(): void {
    for (const key of [...this.unlogged.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const entry = this.unlogged.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.unlogged.delete(key);
    this.loggedAt.set(key, performance.now());
    const { status, reason, ...rest } = entry.fields;
    // status and reason first, then the count, as the line has always read.
    this.log.log('warn', entry.msg, {
      ...(status !== undefined && { status }),
      ...(reason !== undefined && { reason }),
      [entry.countField]: entry.count,
      ...rest,
    });
  }
}
