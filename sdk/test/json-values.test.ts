// Metadata values whose own enumerable keys say nothing (an Error's message, a RegExp, bytes) are stored in a
// form that keeps what they carry, through the real OTel SDK's log record.
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createAuditLogger, parseAuditEvent } from '../src/index.js';
import { memoryProvider } from './support.js';

function storedMetadata(metadata: unknown): unknown {
  const { provider, exporter } = memoryProvider();
  const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
  audit.record({ action: 'jobs.run.failed', outcome: 'failure', metadata });
  return JSON.parse(String(exporter.records[0]?.body));
}

describe('metadata values JSON has no form for', () => {
  it('keeps an Error: name, message, stack, cause (normalised) and its own members', () => {
    const root = Object.assign(new TypeError('socket closed'), { code: 'ECONNRESET' });
    const err = Object.assign(new Error('payment failed', { cause: root }), { status: 502, at: new Date(0) });
    const stored = storedMetadata({ err }) as { err: Record<string, unknown> };
    expect(stored.err).toMatchObject({
      name: 'Error',
      message: 'payment failed',
      status: 502,
      at: '1970-01-01T00:00:00.000Z',
      cause: { name: 'TypeError', message: 'socket closed', code: 'ECONNRESET' },
    });
    expect(stored.err.stack).toEqual(err.stack);
    expect((stored.err.cause as Record<string, unknown>).stack).toEqual(root.stack);
  });

  it("keeps an AggregateError's errors and a subclass's name", () => {
    class PaymentError extends Error {
      override name = 'PaymentError';
    }
    const stored = storedMetadata(
      new AggregateError([new PaymentError('card declined'), 'plain'], 'all failed'),
    );
    expect(stored).toMatchObject({
      name: 'AggregateError',
      message: 'all failed',
      errors: [{ name: 'PaymentError', message: 'card declined' }, 'plain'],
    });
  });

  it('records an axios-like error: its plain members, unreadable ones as placeholders, cycles in its causes; not its config or toJSON', () => {
    // What `catch (err) { audit.record({ ..., metadata: { err } }) }` gets from an HTTP client: an Error
    // subclass whose config holds functions, whose toJSON returns something else, whose cause chain loops.
    class HttpClientError extends Error {
      override name = 'HttpClientError';
      code = 'ERR_BAD_RESPONSE';
      config = {
        url: 'https://api.example/invoices',
        headers: { Authorization: 'Bearer sk_live_secret' },
        validateStatus: function validateStatus(status: number) {
          return status < 300;
        },
        transformRequest: [() => undefined],
        kind: Symbol('get'),
        timeout: Number.POSITIVE_INFINITY,
        self: undefined as unknown,
      };
      get response(): unknown {
        throw new Error('socket hang up');
      }
      toJSON() {
        return { replaced: true };
      }
    }
    Object.defineProperty(HttpClientError.prototype, 'response', { enumerable: true });
    const err = new HttpClientError('Request failed with status code 502');
    err.config.self = err.config;
    const root = new Error('upstream', { cause: err });
    err.cause = root;
    Object.defineProperty(err, 'late', {
      enumerable: true,
      get() {
        throw new Error('not yet');
      },
    });
    Object.defineProperty(err, 'odd', {
      enumerable: true,
      get() {
        throw Object.create(null); // no String form
      },
    });

    const stored = storedMetadata({ err, attempt: 2 }) as { err: Record<string, unknown>; attempt: number };
    expect(stored.attempt).toBe(2);
    expect(stored.err).toMatchObject({
      name: 'HttpClientError',
      message: 'Request failed with status code 502',
      code: 'ERR_BAD_RESPONSE',
      late: '[Unreadable: not yet]',
      odd: '[Unreadable: an unprintable value was thrown]',
      cause: { name: 'Error', message: 'upstream', cause: '[Circular]' },
    });
    expect(stored.err.stack).toEqual(err.stack);
    expect(stored.err).not.toHaveProperty('replaced');
    // The objects it carries (config, request, response) are left out: request headers and bodies hold
    // credentials and personal data an audit log would keep for years.
    expect(stored.err).not.toHaveProperty('config');
    expect(JSON.stringify(stored)).not.toContain('sk_live_secret');
    // Nor through a cause or an AggregateError item that is no error: "[Object]" there.
    const headers = { Authorization: 'Bearer sk_live_secret' };
    const viaCause = storedMetadata({ err: new Error('HTTP 401', { cause: { request: { headers } } }) });
    const viaItems = storedMetadata({
      err: new AggregateError([{ config: { headers } }, new Error('x'), 7]),
    });
    expect(viaCause).toMatchObject({ err: { message: 'HTTP 401', cause: '[Object]' } });
    expect(viaItems).toMatchObject({ err: { errors: ['[Object]', { message: 'x' }, 7] } });
    expect(JSON.stringify([viaCause, viaItems])).not.toContain('sk_live_secret');
  });

  it('keeps strict rules outside an Error: a function beside it still refuses the event', () => {
    expect(() =>
      parseAuditEvent({ action: 'a.b.failed', tenant: 't', metadata: { err: new Error('x'), fn: () => 1 } }),
    ).toThrow(/metadata\.fn: a function is not representable in JSON/);
  });

  it('recognises errors, regular expressions and bytes from another realm (vm, Jest)', () => {
    const [err, pattern, bytes, date] = runInNewContext(
      '[new TypeError("other realm"), /x+/g, new Uint8Array([104, 105]).buffer, new Date(0)]',
    ) as unknown[];
    expect(err instanceof Error).toBe(false);
    const stored = storedMetadata({ err, pattern, bytes, date }) as Record<string, Record<string, unknown>>;
    expect(stored.err).toMatchObject({ name: 'TypeError', message: 'other realm' });
    expect(stored.err?.stack).toMatch(/^TypeError: other realm/);
    expect(stored).toMatchObject({ pattern: '/x+/g', bytes: 'aGk=', date: '1970-01-01T00:00:00.000Z' });
  });

  it('stores a RegExp as its source text and bytes as base64', () => {
    const bytes = new Uint8Array([1, 2, 250, 255]);
    const stored = storedMetadata({
      pattern: /^inv_[0-9]+$/gi,
      buffer: Buffer.from('hi'),
      bytes,
      offset: new Uint8Array(bytes.buffer, 1, 2),
      words: new Uint16Array([1]),
      view: new DataView(bytes.buffer),
      arrayBuffer: bytes.buffer,
    });
    expect(stored).toEqual({
      pattern: '/^inv_[0-9]+$/gi',
      buffer: 'aGk=',
      bytes: 'AQL6/w==',
      offset: 'Avo=',
      words: 'AQA=',
      view: 'AQL6/w==',
      arrayBuffer: 'AQL6/w==',
    });
  });
});
