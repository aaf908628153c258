// The receiver's limits: positive whole numbers, and times Node's timers can keep (a delay over 2^31-1 ms
// fires after 1 ms: a shutdown "waiting" that long would not wait at all).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  defaultStateDir,
  MAX_TIMER_MS,
  ReceiverConfigError,
  receiverLimits,
} from '../src/index.js';

describe('receiverLimits', () => {
  it('takes the defaults and positive whole numbers up to the timer limit for times', () => {
    expect(receiverLimits()).toEqual(DEFAULT_LIMITS);
    expect(receiverLimits({ shutdownTimeoutMs: MAX_TIMER_MS }).shutdownTimeoutMs).toBe(MAX_TIMER_MS);
  });

  it('reads undefined as left out (values passed on from flags or the environment as they are)', () => {
    expect(receiverLimits({ shutdownTimeoutMs: undefined, maxBodyBytes: undefined })).toEqual(DEFAULT_LIMITS);
    // A server target with `path: undefined` is a server's (its state directory is not `resolve(undefined)`).
    expect(
      defaultStateDir({ url: 'http://127.0.0.1:1', path: undefined } as never, { XDG_STATE_HOME: '/x' }),
    ).toBe('/x/otel-audit');
  });

  it.each([
    [{ shutdownTimeoutMs: MAX_TIMER_MS + 1 }, `shutdownTimeoutMs: must be at most ${MAX_TIMER_MS} ms`],
    [{ bodyIdleTimeoutMs: 9_999_999_000 }, `bodyIdleTimeoutMs: must be at most ${MAX_TIMER_MS} ms`],
    [{ maxBodyBytes: 0 }, 'maxBodyBytes: must be a whole number >= 1'],
    [{ maxPendingRows: 1e20 }, 'maxPendingRows: must be a whole number >= 1'],
  ])('refuses %j naming the limit', (overrides, message) => {
    expect(() => receiverLimits(overrides)).toThrow(ReceiverConfigError);
    expect(() => receiverLimits(overrides)).toThrow(message);
  });
});
