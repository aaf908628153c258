// What serve turns away, seen by the operator: refused logs requests (counted per HTTP status), records rejected
// from accepted requests (OTLP partial success) and query requests without the token, each counted for /health
// and stats() and logged as a warning at most once per reason and interval, with how many came since the last
// line. A sender refused in a loop (a service started without the token: OTel exporters drop a 401 and go on, and
// a rejected record is not retried) shows in the log without flooding it.
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
class ThrottledWarnings {
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

export class Refusals {
  private readonly counts = Object.fromEntries(REFUSAL_STATUSES.map((s) => [s, 0])) as Record<
    RefusalStatus,
    number
  >;
  private rejected = 0;
  private unauthorized = 0;
  private readonly warnings: ThrottledWarnings;

  constructor(log: Logger, intervalMs = 10_000) {
    this.warnings = new ThrottledWarnings(log, intervalMs);
  }

  /** A logs request refused: `logs requests refused`, with `refused` requests since the last line. */
  refuse(
    status: RefusalStatus,
    reason: RefusalReason,
    message: string,
    remoteAddress: string | undefined,
  ): void {
    this.counts[status] += 1;
    this.warnings.note(`refused ${reason}`, 'logs requests refused', 'refused', 1, {
      status,
      reason,
      lastRemoteAddress: remoteAddress,
      lastMessage: message,
    });
  }

  /**
   * Records of an accepted request rejected (OTLP partial success: over --max-record-size, a time past 2262):
   * `records rejected`, with `rejected` records since the last line.
   */
  rejectRecords(count: number, accepted: number, message: string, remoteAddress: string | undefined): void {
    this.rejected += count;
    this.warnings.note('records rejected', 'records rejected', 'rejected', count, {
      lastAccepted: accepted,
      lastRemoteAddress: remoteAddress,
      lastMessage: message,
    });
  }

  /** A query API request without the token (401): `query requests refused`. */
  refuseQuery(remoteAddress: string | undefined): void {
    this.unauthorized += 1;
    this.warnings.note('query unauthorized', 'query requests refused', 'refused', 1, {
      status: 401,
      reason: 'missing or wrong token',
      lastRemoteAddress: remoteAddress,
    });
  }

  /** Refused logs requests per status since start. */
  get stats(): Record<RefusalStatus, number> {
    return { ...this.counts };
  }

  /** Records rejected from accepted logs requests since start. */
  get rejectedRecords(): number {
    return this.rejected;
  }

  /** Query API requests refused for a missing or wrong token since start. */
  get queryUnauthorized(): number {
    return this.unauthorized;
  }

  /** Logs what was held back (at shutdown). */
  close(): void {
    this.warnings.close();
  }
}
