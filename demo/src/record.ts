// Records the demo dataset through an audit logger (the SDK's, or anything with the same `record`).
import type { AuditEventInput } from '@otel-audit/sdk';
import { type DemoOptions, generateDemoEvents } from './generate.js';

/** What the demo needs of a logger: the SDK's `createAuditLogger(...)` result fits. */
export interface DemoAuditLogger {
  record(input: AuditEventInput): unknown;
}

export interface DemoProgress {
  done: number;
  total: number;
}

export interface DemoSummary {
  recorded: number;
  failures: number;
  tenants: string[];
  actions: string[];
  from?: Date;
  to?: Date;
}

/**
 * Records `count` demo events, calling `onProgress` about every 1% and once at the end. An event the logger
 * rejects throws (the demo must never drop events silently); a returned promise is awaited.
 */
export async function recordDemoEvents(
  logger: DemoAuditLogger,
  count: number,
  onProgress?: (progress: DemoProgress) => void,
  options: DemoOptions & {
    /** Stops recording (Ctrl-C): the summary then counts what was recorded before it. */
    signal?: AbortSignal;
  } = {},
): Promise<DemoSummary> {
  const all = generateDemoEvents(count, options);
  const events: AuditEventInput[] = [];
  const step = Math.max(1, Math.floor(count / 100));
  let failures = 0;
  for (let i = 0; i < all.length; i++) {
    if (options.signal?.aborted) break;
    const event = all[i] as AuditEventInput;
    events.push(event);
    const result = logger.record(event);
    if (result instanceof Promise) await result;
    if (event.outcome === 'failure') failures++;
    const done = i + 1;
    if (onProgress && (done % step === 0 || done === all.length)) {
      onProgress({ done, total: all.length });
      // Yield now and then so a progress bar can paint and exporters can run.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  if (all.length === 0) onProgress?.({ done: 0, total: 0 });
  return {
    recorded: events.length,
    failures,
    tenants: [...new Set(events.map((e) => e.tenant as string))].sort(),
    actions: [...new Set(events.map((e) => e.action))].sort(),
    ...(events.length > 0
      ? { from: events[0]?.occurredAt as Date, to: events.at(-1)?.occurredAt as Date }
      : {}),
  };
}
