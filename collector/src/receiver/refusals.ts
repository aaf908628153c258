// What serve turns away, seen by the operator: refused logs requests (counted per HTTP status), records rejected
// from accepted requests (OTLP partial success) and query requests without the token or over the limit, each
// counted for /health and stats() and logged as a warning at most once per reason and interval, with how many
// came since the last line. A sender refused in a loop (a service started without the token: OTel exporters drop
// a 401 and go on, and a rejected record is not retried) shows in the log without flooding it.
import type { Logger } from './log.js';
import { ThrottledWarnings } from './throttled-warnings.js';

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
  | 'too many JSON objects'
  | 'too many protobuf messages'
  | 'unsupported media type'
  | 'busy'
  | 'shutting down'
  | 'store unavailable';

export class Refusals {
  private readonly counts = Object.fromEntries(REFUSAL_STATUSES.map((s) => [s, 0])) as Record<
    RefusalStatus,
    number
  >;
  private rejected = 0;
  private unauthorized = 0;
  private queriesBusy = 0;
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

  /** A query API request over --max-concurrent-queries (429): `query requests refused`. */
  refuseBusyQuery(remoteAddress: string | undefined, inProgress: number): void {
    this.queriesBusy += 1;
    this.warnings.note('query busy', 'query requests refused', 'refused', 1, {
      status: 429,
      reason: 'too many query requests in progress',
      inProgress,
      lastRemoteAddress: remoteAddress,
    });
  }

  /** An export over its half of the query slots (429): `query requests refused`, counted in queryBusy too. */
  refuseBusyExport(remoteAddress: string | undefined, exportsInProgress: number, maxExports: number): void {
    this.queriesBusy += 1;
    this.warnings.note('export busy', 'query requests refused', 'refused', 1, {
      status: 429,
      reason: 'exports hold their half of the query slots',
      exportsInProgress,
      maxExports,
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

  /** Query API requests refused 429 (--max-concurrent-queries, or exports over their half) since start. */
  get queryBusy(): number {
    return this.queriesBusy;
  }

  /** Logs what was held back (at shutdown). */
  close(): void {
    this.warnings.close();
  }
}
