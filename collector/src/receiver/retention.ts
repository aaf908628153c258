// The store's retention as serve knows it: an audit record whose time is already past it would be acknowledged
// and then deleted by the TTL at once (on chDB before the next read), so serve rejects it by partial success.
import type { AuditReads } from '@otel-audit/clickhouse';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';

const DAY_MS = 86_400_000;
/**
 * How often the retention of a server store is read again: a migrate against the same server may change it while
 * serve runs, and a backfill started right after a raised retention must not be rejected under the old one for
 * long. An embedded store's cannot change meanwhile (serve holds its directory).
 */
export const RETENTION_REFRESH_MS = 5_000;

/** The retention at one moment: records whose time (ms since the epoch) is before `expiredBeforeMs` are past it. */
export interface RetentionCutoff {
  days: number;
  expiredBeforeMs: number;
}

export interface Retention {
  /**
   * undefined: events are kept forever (or the retention could not be read yet). `now`: this host's time, used
   * unless the store's own clock was read (a server store: see watchRetention).
   */
  cutoff(now: number): RetentionCutoff | undefined;
  /** Stops refreshing. */
  stop(): void;
}

/**
 * The retention of audit_events, read now and then every `refreshMs` if given; a failed read keeps the last one.
 * `storeNow` (a server store) reads the server's clock with it: the TTL deletes by the server's clock, and with
 * serve's host behind it (another host, or a clock NTP has not stepped yet) records that far past the retention
 * were acknowledged and then deleted. Between readings it runs on the monotonic clock; until a first reading, on
 * this host's.
 */
export async function watchRetention(
  store: Pick<AuditReads, 'status'>,
  onError: (error: unknown, what: 'retention' | 'clock') => void,
  refreshMs: number | undefined,
  storeNow?: () => Promise<number>,
): Promise<Retention> {
  let days: number | undefined;
  let clock: { storeMs: number; at: number } | undefined;
  // A refresh running when stop() is called (serve shutting down) starts no further query and reports nothing: the
  // store may be closed by then.
  let stopped = false;
  const read = async () => {
    try {
      const status = await store.status();
      days = status.tables.find((t) => t.name === AUDIT_TABLES.events)?.retentionDays;
    } catch (error) {
      if (!stopped) onError(error, 'retention');
      return;
    }
    if (!storeNow || stopped) return;
    try {
      const storeMs = await storeNow();
      if (!Number.isFinite(storeMs)) throw new Error(`the server answered ${storeMs} for its clock`);
      clock = { storeMs, at: performance.now() };
    } catch (error) {
      if (!stopped) onError(error, 'clock');
    }
  };
  await read();
  const timer = refreshMs === undefined ? undefined : setInterval(() => void read(), refreshMs);
  timer?.unref();
  const storeTime = (now: number) => (clock ? clock.storeMs + (performance.now() - clock.at) : now);
  return {
    cutoff: (now) =>
      days === undefined ? undefined : { days, expiredBeforeMs: storeTime(now) - days * DAY_MS },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** A server store's clock, in ms since the epoch (what its TTL deletes by). */
export async function serverNow(store: { query<T>(sql: string): Promise<T[]> }): Promise<number> {
  const [row] = await store.query<{ now: string | number }>('SELECT toUnixTimestamp64Milli(now64(3)) AS now');
  return Number(row?.now);
}
