// Metadata values whose own enumerable keys say nothing (an Error's message, a RegExp, bytes) are stored in a
// form that keeps what they carry, through the real OTel SDK's log record.
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

  it('reports an Error whose cause chain is circular, with its path', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(() => parseAuditEvent({ action: 'a.b.failed', tenant: 't', metadata: { a } })).toThrow(
      /metadata\.a\.cause\.cause: circular reference/,
    );
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
