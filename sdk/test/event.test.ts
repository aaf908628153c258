import { describe, expect, it } from 'vitest';
import { AuditValidationError, DEFAULT_ACTOR, parseAuditEvent } from '../src/index.js';

describe('parseAuditEvent', () => {
  it('applies every default', () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    const event = parseAuditEvent({ action: 'billing.invoice.paid', tenant: 'acme' }, { now: () => now });
    expect(event).toMatchObject({
      action: 'billing.invoice.paid',
      tenant: 'acme',
      actor: DEFAULT_ACTOR,
      targets: [],
      crud: 'update',
      outcome: 'success',
      version: 1,
      context: {},
      metadata: null,
      count: 1,
    });
    expect(event.occurredAt).toEqual(now);
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('lists every issue with its path', () => {
    let error: unknown;
    try {
      parseAuditEvent({
        action: 'Bad Action',
        actor: { id: '', type: 'user' },
        context: { ip: '300.1.1.1' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuditValidationError);
    const paths = (error as AuditValidationError).issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['action', 'actor.id', 'context.ip']));
  });
});
