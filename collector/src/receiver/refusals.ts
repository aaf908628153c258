// Refused logs requests: counted per HTTP status (for /health and stats()) and logged as a warning at most once
// per reason and interval, with how many were refused since the last line. A sender refused in a loop (a service
// started without the token: OTel exporters drop a 401 and go on) shows in the log without flooding it.
import type { Logger } from './log.js';

/** The statuses a logs request is refused with, each counted from 0 (a stable shape for monitoring). */
export const REFUSAL_STATUSES = [400, 401, 403, 413, 415, 429, 503] as const;
export type RefusalStatus = (typeof REFUSAL_STATUSES)[number];

/** Why a request was refused: one log line per reason and interval. */
export type RefusalReason =
  | 'malformed request'
  | 'missing or wrong token'
  | 'Host not a loopback name'
  | 'body too large'
  | 'decompressed body too large'
  | 'rows too large'
  | 'too many records'
  | 'unsupported media type'
  | 'busy'
  | 'shutting down'
  | 'store unavailable';

interface Unlogged {
  status: RefusalStatus;
  count: number;
  message: string;
  remoteAddress: string | undefined;
  timer?: NodeJS.Timeout;
}

export class Refusals {
  private readonly counts = Object.fromEntries(REFUSAL_STATUSES.map((s) => [s, 0])) as Record<
    RefusalStatus,
    number
  >;
  private readonly unlogged = new Map<RefusalReason, Unlogged>();
  private readonly loggedAt = new Map<RefusalReason, number>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  refuse(
    status: RefusalStatus,
    reason: RefusalReason,
    message: string,
    remoteAddress: string | undefined,
  ): void {
    this.counts[status] += 1;
    const entry = this.unlogged.get(reason) ?? { status, count: 0, message, remoteAddress };
    entry.count += 1;
    entry.status = status;
    entry.message = message;
    entry.remoteAddress = remoteAddress;
    this.unlogged.set(reason, entry);
    const last = this.loggedAt.get(reason);
    const now = performance.now();
    if (last === undefined || now - last >= this.intervalMs) this.flush(reason);
    // The refusals after a line are told once the interval is over, even if no more come.
    else entry.timer ??= setTimeout(() => this.flush(reason), last + this.intervalMs - now).unref();
  }

  /** Refused requests per status since start. */
  get stats(): Record<RefusalStatus, number> {
    return { ...this.counts };
  }

  /** Logs what was refused and not logged yet (at shutdown). */
  close(): void {
    for (const reason of [...this.unlogged.keys()]) this.flush(reason);
  }

  private flush(reason: RefusalReason): void {
    const entry = this.unlogged.get(reason);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.unlogged.delete(reason);
    this.loggedAt.set(reason, performance.now());
    this.log.log('warn', 'logs requests refused', {
      status: entry.status,
      reason,
      refused: entry.count,
      lastRemoteAddress: entry.remoteAddress,
      lastMessage: entry.message,
    });
  }
}
