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
  options: DemoOptions = {},
): Promise<DemoSummary> {
  const events = generateDemoEvents(count, options);
  const step = Math.max(1, Math.floor(count / 100));
  let failures = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as AuditEventInput;
    const result = logger.record(event);
    if (result instanceof Promise) await result;
    if (event.outcome === 'failure') failures++;
    const done = i + 1;
    if (onProgress && (done % step === 0 || done === events.length)) {
      onProgress({ done, total: events.length });
      // Yield now and then so a progress bar can paint and exporters can run.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  if (events.length === 0) onProgress?.({ done: 0, total: 0 });
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
