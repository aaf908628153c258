// The store keeps an absent optional text as '' and reads '' back as absent; record() treats an empty one as
// absent too, so the event it returns and the record it emits say what a read will say.
import { describe, expect, it } from 'vitest';
import { AUDIT_ATTRIBUTES as A, createAuditLogger } from '../src/index.js';
import { memoryProvider } from './support.js';

describe('an empty optional text', () => {
  it('is absent from the returned event and the emitted record', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const event = audit.record({
      action: 'billing.invoice.paid',
      actor: { id: 'u-1', type: 'user', name: '' },
      targets: [{ type: 'invoice', id: 'inv-1', name: '' }],
      outcome: 'failure',
      outcomeReason: '',
      context: { ip: '10.0.0.1', userAgent: '', requestId: '' },
    });
    expect(event.actor).toEqual({ id: 'u-1', type: 'user' });
    expect('name' in event.actor).toBe(false);
    expect(event.targets).toEqual([{ type: 'invoice', id: 'inv-1' }]);
    expect('name' in (event.targets[0] ?? {})).toBe(false);
    expect('outcomeReason' in event).toBe(false);
    expect(event.context).toEqual({ ip: '10.0.0.1' });
    const attributes = exporter.records[0]?.attributes ?? {};
    for (const key of [A.actorName, A.outcomeReason, A.contextUserAgent, A.contextRequestId])
      expect(attributes, key).not.toHaveProperty([key]);
    expect(attributes[A.targets]).toBe('[{"type":"invoice","id":"inv-1"}]');
  });

  it('white space is text: kept as given (the store reads it back the same)', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const event = audit.record({
      action: 'billing.invoice.paid',
      actor: { id: 'u-1', type: 'user', name: ' ' },
      targets: [{ type: 'invoice', id: 'inv-1', name: ' ' }],
      outcomeReason: ' ',
      context: { userAgent: ' ', requestId: ' ' },
    });
    expect(event).toMatchObject({
      actor: { name: ' ' },
      targets: [{ name: ' ' }],
      outcomeReason: ' ',
      context: { userAgent: ' ', requestId: ' ' },
    });
    expect(exporter.records[0]?.attributes[A.actorName]).toBe(' ');
  });
});
