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

  it('takes an optional field given as undefined as left out (exactOptionalPropertyTypes callers)', () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    const maybe = (value: string): string | undefined => (value === '' ? undefined : value);
    const event = parseAuditEvent(
      {
        action: 'billing.invoice.paid',
        tenant: 'acme',
        id: maybe(''),
        actor: { id: 'u1', type: 'user', name: maybe(''), fields: undefined },
        targets: [{ type: 'invoice', id: 'inv_1', name: maybe(''), fields: undefined }],
        crud: undefined,
        outcome: undefined,
        outcomeReason: maybe(''),
        occurredAt: undefined,
        version: undefined,
        context: { ip: maybe('') },
        changes: { before: undefined, after: { paid: true } },
        metadata: undefined,
      },
      { now: () => now },
    );
    // Strict: a key present with the value undefined fails it.
    expect(event).toStrictEqual({
      id: event.id,
      action: 'billing.invoice.paid',
      tenant: 'acme',
      actor: { id: 'u1', type: 'user' },
      targets: [{ type: 'invoice', id: 'inv_1' }],
      crud: 'update',
      outcome: 'success',
      occurredAt: now,
      version: 1,
      context: {},
      changes: { after: { paid: true } },
      metadata: null,
      count: 1,
      lastOccurredAt: now,
    });
    // Left out, not present with the value undefined.
    expect(Object.keys(event.actor)).toEqual(['id', 'type']);
    expect('outcomeReason' in event).toBe(false);
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

describe('JSON normalisation', () => {
  it('turns values JSON cannot carry into ones it can, without loss', () => {
    const event = parseAuditEvent({
      action: 'a.b.updated',
      tenant: 't',
      metadata: {
        at: new Date('2026-01-01T00:00:00Z'),
        big: 12345678901234567890n,
        map: new Map<string, unknown>([['k', 1]]),
        set: new Set([1, 2]),
        skipped: undefined,
        list: [undefined, 1],
        custom: { toJSON: () => 'custom' },
      },
    });
    expect(event.metadata).toEqual({
      at: '2026-01-01T00:00:00.000Z',
      big: '12345678901234567890',
      map: { k: 1 },
      set: [1, 2],
      list: [null, 1],
      custom: 'custom',
    });
  });

  it('keeps plain JSON metadata as given', () => {
    const metadata = { a: [1, 'b', { c: null }], d: true };
    expect(parseAuditEvent({ action: 'a.b.updated', tenant: 't', metadata }).metadata).toEqual(metadata);
  });

  it('reports what JSON cannot represent, with its path, instead of dropping it', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    let error: AuditValidationError | undefined;
    try {
      parseAuditEvent({
        action: 'a.b.updated',
        tenant: 't',
        metadata: { n: Number.NaN, f: () => 1, deep: { inf: Number.POSITIVE_INFINITY }, cycle },
        changes: { after: { s: Symbol('x') } },
      });
    } catch (e) {
      error = e as AuditValidationError;
    }
    expect(error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'metadata.n: NaN is not representable in JSON',
      'metadata.f: a function is not representable in JSON',
      'metadata.deep.inf: Infinity is not representable in JSON',
      'metadata.cycle.self: circular reference',
      'changes.after.s: a symbol is not representable in JSON',
    ]);
  });
});

describe('event fields', () => {
  it('infers crud from the verb, unknown otherwise (also for names of Object members)', () => {
    const crud = (action: string) => parseAuditEvent({ action, tenant: 't' }).crud;
    expect(crud('members.user.invited')).toBe('create');
    expect(crud('reports.report.exported')).toBe('read');
    expect(crud('keys.key.rotated')).toBe('update');
    expect(crud('keys.key.revoked')).toBe('delete');
    expect(crud('auth.user.logged_in')).toBe('unknown');
    expect(crud('a.b.constructor')).toBe('unknown');
    expect(parseAuditEvent({ action: 'keys.key.revoked', tenant: 't', crud: 'update' }).crud).toBe('update');
  });

  it('accepts occurredAt as a Date, an ISO string with offset, or epoch milliseconds', () => {
    const at = (occurredAt: Date | string | number) =>
      parseAuditEvent({ action: 'a.b.c', tenant: 't', occurredAt }).occurredAt.toISOString();
    expect(at(new Date('2026-02-03T04:05:06.007Z'))).toBe('2026-02-03T04:05:06.007Z');
    expect(at('2026-02-03T06:05:06.007+02:00')).toBe('2026-02-03T04:05:06.007Z');
    expect(at(1_770_091_506_007)).toBe('2026-02-03T04:05:06.007Z');
    expect(() => at('2026-02-03')).toThrow(/occurredAt/);
  });

  it('lowercases a caller-supplied id (ClickHouse stores UUIDs lowercase)', () => {
    const id = '0192F2D4-5B6C-7D8E-9F00-112233445566';
    expect(parseAuditEvent({ id, action: 'a.b.c', tenant: 't' }).id).toBe(id.toLowerCase());
  });

  it('generates time-ordered UUIDv7 ids', () => {
    const ids = Array.from({ length: 1000 }, () => parseAuditEvent({ action: 'a.b.c', tenant: 't' }).id);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(Math.abs(ms(ids[0] as string) - Date.now())).toBeLessThan(5_000);
  });
});
