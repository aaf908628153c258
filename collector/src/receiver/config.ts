// Options of the receiver and their defaults (the CLI maps flags and environment variables onto these).
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_EVENT_BYTES } from '@otel-audit/sdk/conventions';
import { ReceiverConfigError } from './errors.js';

export interface ReceiverLimits {
  /** Largest request body, on the wire and after decompression (413 above). */
  maxBodyBytes: number;
  /** Largest record: characters of body + attribute keys and values (rejected by partial success above). */
  maxRecordSize: number;
  /** Log records in one request (413 above): bounds what one small compressed body decodes to. */
  maxRecordsPerRequest: number;
  /** Rows waiting for or in an insert above which requests get 429. */
  maxPendingRows: number;
  /** Most rows per insert (group commit). */
  maxBatchRows: number;
  /** Inserts running at once (a store connection each). */
  insertConcurrency: number;
  /**
   * HTTP requests in progress above which a new logs request gets 429: every route but the query API's responses
   * (a long export, or one whose reader stopped, must not make ingest refuse).
   */
  maxConcurrentRequests: number;
  /**
   * Query API requests in progress (exports and responses waiting for their reader included) above which a new
   * one gets 429: reads share the engine's threads with ingest, and each holds its answer in memory.
   */
  maxConcurrentQueries: number;
  /**
   * Open connections; one more is closed as it comes. Each holds a file descriptor, which the embedded engine
   * needs too: sockets that never finish their headers, by the thousand, ran the process out of descriptors and
   * failed its inserts (EMFILE).
   */
  maxConnections: number;
  /** Retry-After (seconds) on 429 and 503. */
  retryAfterSeconds: number;
  /** How long shutdown waits for in-flight requests (and inserts) before closing their connections. */
  shutdownTimeoutMs: number;
  /**
   * A request body that sends nothing for this long is dropped (connection closed): a client trickling bytes
   * would otherwise hold a request slot for the whole request timeout (120 s).
   */
  bodyIdleTimeoutMs: number;
  /** Refused logs requests are logged at most once per reason in this interval, with how many since. */
  refusalLogIntervalMs: number;
  /**
   * A query response whose writes have waited this long for its client is cut (connection closed), as
   * ClickHouse's send_timeout does: an export whose reader stopped (a pager left open, a peer gone silent) held
   * its memory and connection for good. (A write waits until the client frees a good part of the send buffer:
   * a reader slower than a few KB/s looks the same.)
   */
  sendStallTimeoutMs: number;
  /**
   * At shutdown, a query response whose writes have waited this long for its client is cut instead of waited
   * for. Writes wait until the client frees a good part of the socket's send buffer (~1/3 of up to 4 MB on
   * Linux), so a client reading slower than about that much per this time looks the same as one that stopped.
   */
  shutdownStallMs: number;
}

export const DEFAULT_PORT = 4318;
export const DEFAULT_HOST = '127.0.0.1';

/**
 * Half the process's soft open-files limit (Linux: /proc/self/limits), at most 1,000: the other half stays for
 * the engine's files and the store's connections. 1,000 where the limit cannot be read or is unlimited.
 */
function defaultMaxConnections(): number {
  const most = 1_000;
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isSafeInteger(soft) && soft > 0 ? Math.max(1, Math.min(most, Math.floor(soft / 2))) : most;
  } catch {
    return most;
  }
}

export const DEFAULT_LIMITS: ReceiverLimits = {
  maxBodyBytes: 16 * 1024 * 1024,
  // The SDK bounds a whole record by DEFAULT_MAX_EVENT_BYTES (UTF-8 bytes >= characters counted here), so an SDK
  // event always fits; twice that leaves room for other senders' larger records.
  maxRecordSize: 2 * DEFAULT_MAX_EVENT_BYTES,
  // OTel SDKs batch 512 records, the collector's exporters a few thousand (our configs' batches: at most 20,000).
  // 700k minimal records in one 16 MiB body took ~1.5 GB to decode; 100k about a seventh of that.
  maxRecordsPerRequest: 100_000,
  maxPendingRows: 100_000,
  // Bigger groups gain little (the per-row cost dominates) and add latency: 5k rows take ~0.3 s to insert here.
  maxBatchRows: 5_000,
  // One connection: with SDK producers on the same 2 cores, one insert at a time gave 11.6k events/s (p99
  // 0.93 s) vs 9.5k (p99 1.12 s) for two (pipeline bench, 1M events): fewer, bigger parts, fewer merges.
  // Two help only a lone bulk writer (2 × 40k rows: 3.1 s instead of 4.3 s).
  insertConcurrency: 1,
  maxConcurrentRequests: 64,
  maxConcurrentQueries: 8,
  maxConnections: defaultMaxConnections(),
  retryAfterSeconds: 1,
  shutdownTimeoutMs: 30_000,
  bodyIdleTimeoutMs: 15_000,
  refusalLogIntervalMs: 10_000,
  sendStallTimeoutMs: 300_000,
  shutdownStallMs: 10_000,
};

/** Longest timer Node keeps: a larger delay fires after 1 ms instead (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Merges and checks limits; every value must be a positive whole number, a time in ms one Node's timers take. */
/** Limits to override; a field left out or `undefined` keeps its default. */
export type ReceiverLimitOverrides = { [K in keyof ReceiverLimits]?: ReceiverLimits[K] | undefined };

export function receiverLimits(overrides: ReceiverLimitOverrides = {}): ReceiverLimits {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const limits: ReceiverLimits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new ReceiverConfigError(name, `must be a whole number >= 1, got ${value}`);
    if (name.endsWith('Ms') && value > MAX_TIMER_MS)
      throw new ReceiverConfigError(name, `must be at most ${MAX_TIMER_MS} ms, got ${value}`);
  }
  return limits;
}
