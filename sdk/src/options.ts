// Range checks of numeric options, shared by the logger, the processor and coalescers: a value that passes
// must not make a loop spin (a fraction of a batch, a timer Node shortens to 1 ms).
import { AuditOptionError } from './errors.js';

/** setTimeout's longest delay: Node makes anything above it (or NaN) 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A count or size: a whole number >= 1. */
export function requireWholeNumber(component: string, option: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new AuditOptionError(component, option, 'a whole number >= 1', value);
}

/** A size limit: a whole number >= 1, or Infinity for no limit. */
export function requireLimit(component: string, option: string, value: number): void {
  if (value !== Number.POSITIVE_INFINITY && (!Number.isInteger(value) || value < 1))
    throw new AuditOptionError(component, option, 'a whole number >= 1 (or Infinity: no limit)', value);
}

/** A duration that is never passed to a timer as it is: >= 1 ms, Infinity allowed, not NaN. */
export function requireDuration(component: string, option: string, value: number): void {
  if (Number.isNaN(value) || value < 1)
    throw new AuditOptionError(component, option, 'a number of milliseconds >= 1 (or Infinity)', value);
}

/** A timer delay: finite, from `min` to MAX_TIMER_MS. */
export function requireMillis(component: string, option: string, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min || value > MAX_TIMER_MS)
    throw new AuditOptionError(
      component,
      option,
      `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`,
      value,
    );
}

/** The OTLP exporter's compression: it sends any other value (zstd, GZIP) uncompressed without a word. */
export function requireCompression(component: string, value: unknown): void {
  if (value !== undefined && value !== 'gzip' && value !== 'none')
    throw new AuditOptionError(
      component,
      'compression',
      "'gzip' or 'none' (the OTLP exporter knows no other)",
      value,
    );
}

/**
 * Keys TypeScript would refuse, refused for JavaScript callers (and options built in a variable) too: a misspelt
 * `onError` or `endpoint` was silently ignored (losses unreported, events sent to localhost). `known` is a
 * `Record<keyof Options, true>`, so the compiler keeps it complete.
 */
export function refuseUnknownOptions(component: string, given: object, known: Record<string, true>): void {
  for (const key of Object.keys(given))
    if (!Object.hasOwn(known, key))
      throw new AuditOptionError(
        component,
        key,
        `one of the options ${Object.keys(known).join(', ')}`,
        'an unknown option (misspelt?)',
      );
}
