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
  /** undefined: events are kept forever (or the retention could not be read yet). */
  cutoff(now: number): RetentionCutoff | undefined;
  /** Stops refreshing. */
  stop(): void;
}

/** The retention of audit_events, read now and then every `refreshMs` if given; a failed read keeps the last one. */
export async function watchRetention(
  store: Pick<AuditReads, 'status'>,
  onError: (error: unknown) => void,
  refreshMs: number | undefined,
): Promise<Retention> {
  let days: number | undefined;
  const read = async () => {
    try {
      const status = await store.status();
      days = status.tables.find((t) => t.name === AUDIT_TABLES.events)?.retentionDays;
    } catch (error) {
      onError(error);
    }
  };
  await read();
  const timer = refreshMs === undefined ? undefined : setInterval(() => void read(), refreshMs);
  timer?.unref();
  return {
    cutoff: (now) => (days === undefined ? undefined : { days, expiredBeforeMs: now - days * DAY_MS }),
    stop: () => clearInterval(timer),
  };
}
