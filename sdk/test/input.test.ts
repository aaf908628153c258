// The fast path must never accept what the zod schema rejects, and must yield what zod would output.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditEventInputSchema } from '../src/index.js';
import { fastParseInput } from '../src/input.js';

/** zod's output and the fast path's agree, ignoring keys whose value is undefined. */
function agree(input: unknown): boolean {
  const fast = fastParseInput(input);
  const slow = auditEventInputSchema.safeParse(input);
  if (fast === undefined) return false; // "not sure": zod decides, nothing to compare
  expect(slow.success, `fast path accepted what zod rejects: ${JSON.stringify(input)}`).toBe(true);
  const clean = (v: unknown) =>
    JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Date ? `D${x.getTime()}` : x)));
  // zod's record parsing drops `__proto__` keys of actor/target fields; prepareAuditEvent puts the caller's
  // fields objects back (event.test), so compare with those.
  const given = input as { actor?: { fields?: unknown }; targets?: { fields?: unknown }[] };
  const data = slow.data as { actor?: { fields?: unknown }; targets?: { fields?: unknown }[] } | undefined;
  if (data?.actor?.fields !== undefined) data.actor.fields = given.actor?.fields;
  data?.targets?.forEach((t, i) => {
    if (t.fields !== undefined) t.fields = given.targets?.[i]?.fields;
  });
  expect(clean(fast)).toEqual(clean(data));
  return true;
}

const valid = {
  id: '0192f2d4-5b6c-7d8e-9f00-112233445566',
  action: 'billing.invoice.paid',
  actor: { id: 'u-1', type: 'user', name: 'Ada', fields: { a: 1 } },
  targets: [{ type: 'invoice', id: 'inv-1', name: 'x', fields: {} }],
  tenant: 'acme',
  crud: 'update',
  outcome: 'failure',
  outcomeReason: 'declined',
  occurredAt: new Date(0),
  version: 2,
  context: { ip: '10.0.0.1', userAgent: 'ua', requestId: 'r' },
  metadata: { any: ['thing'] },
  changes: { before: 1, after: 2 },
};

describe('fastParseInput', () => {
  it('accepts the common valid shapes as they are', () => {
    const proto = { ...valid, actor: { id: 'u', type: 'user', fields: JSON.parse('{"__proto__":1}') } };
    expect(fastParseInput(proto)).toBe(proto);
    agree(proto);
    expect(fastParseInput(valid)).toBe(valid);
    expect(fastParseInput({ action: 'a' })).toEqual({ action: 'a' });
    expect(fastParseInput({ ...valid, occurredAt: 1_700_000_000_000 })).toBeDefined();
    expect(fastParseInput({ ...valid, occurredAt: '2026-01-01T00:00:00Z' })).toBeDefined();
    expect(fastParseInput({ ...valid, context: { ip: '2001:db8::1' } })).toBeDefined();
  });

  it('defers every edge case to zod', () => {
    const edge: unknown[] = [
      null,
      [],
      'string',
      Object.assign(Object.create({ inherited: 1 }), { action: 'a' }),
      { ...valid, extra: 1 },
      { ...valid, action: 'Upper.Case' },
      { ...valid, id: 'not-a-uuid' },
      { ...valid, id: 42 },
      { ...valid, tenant: ' acme' },
      { ...valid, tenant: '' },
      { ...valid, actor: { id: 'u', type: 'user', extra: true } },
      { ...valid, actor: { id: ' u ', type: 'user' } },
      { ...valid, actor: { id: 'u', type: 'user', fields: new Map() } },
      { ...valid, actor: { id: 'u', type: 'user', fields: [] } },
      { ...valid, targets: {} },
      { ...valid, targets: [{ type: 't' }] },
      { ...valid, crud: 'upsert' },
      { ...valid, outcome: 'ok' },
      { ...valid, outcomeReason: 1 },
      { ...valid, occurredAt: new Date(Number.NaN) },
      { ...valid, occurredAt: -1 },
      { ...valid, occurredAt: 1.5 },
      { ...valid, occurredAt: 'yesterday' },
      { ...valid, version: 0 },
      { ...valid, version: 1.5 },
      { ...valid, version: Number.POSITIVE_INFINITY },
      { ...valid, context: { ip: '256.0.0.1' } },
      { ...valid, context: { ip: '::1\n' } },
      { ...valid, context: { ip: '::@1\\' } },
      { ...valid, context: { agent: 'x' } },
      { ...valid, changes: { before: 1, during: 2 } },
      { ...valid, changes: [] },
      { ...valid, version: 2 ** 32 },
      { ...valid, tenant: 'ac\ud800me' },
      { ...valid, actor: { id: 'u\udc00', type: 'user' } },
      { ...valid, actor: { id: 'u', type: 'user', name: '\ud83d' } },
      { ...valid, targets: [{ type: 't', id: '\udfff1' }] },
      { ...valid, outcomeReason: 'x\ud800' },
      { ...valid, context: { userAgent: '\ud800', requestId: 'r' } },
    ];
    for (const input of edge) {
      agree(input);
      if (!auditEventInputSchema.safeParse(input).success) expect(fastParseInput(input)).toBeUndefined();
    }
  });

  it('agrees with the zod schema on generated inputs', () => {
    // Mostly valid values with the odd invalid one: the fast path must take the valid ones and defer the rest.
    const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
      fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: bad, weight: 1 });
    const clean = fc.constantFrom('a', 'user', 'inv-1', 'acme', 'Ünïcode ✓', 'x'.repeat(300));
    const dirty = fc.oneof(fc.constantFrom('', ' ', ' x ', '\t'), fc.integer(), fc.string({ maxLength: 4 }));
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
    const fields = mostly(
      fc.object({ maxDepth: 2 }),
      fc.oneof(fc.array(fc.integer()), fc.date(), fc.constant(null)),
    );
    const party = mostly(
      fc.record(
        { id: clean, type: clean, name: maybe(mostly(fc.string(), fc.integer())), fields: maybe(fields) },
        { requiredKeys: ['id', 'type'] },
      ),
      fc.record({ id: mostly(clean, dirty), type: dirty, extra: fc.boolean() }, { requiredKeys: [] }),
    );
    const input = fc.record(
      {
        id: mostly(
          fc.uuid(),
          fc.oneof(
            fc.string(),
            fc.uuid().map((u) => u.toUpperCase()),
          ),
        ),
        action: mostly(
          fc.constantFrom('billing.invoice.paid', 'a', 'x_y.z-1', 'auth.user.logged_in'),
          fc.constantFrom('', 'A.b', 'a..b', '.a', 'a b'),
        ),
        actor: party,
        targets: mostly(fc.array(party, { maxLength: 3 }), party),
        tenant: mostly(clean, dirty),
        crud: mostly(fc.constantFrom('create', 'read', 'update', 'delete', 'unknown'), fc.constant('upsert')),
        outcome: mostly(fc.constantFrom('success', 'failure'), fc.constant('ok')),
        outcomeReason: mostly(fc.string(), fc.integer()),
        occurredAt: mostly(
          fc.oneof(fc.date({ noInvalidDate: true }), fc.nat(), fc.constant('2026-01-01T00:00:00.000+02:00')),
          fc.oneof(fc.double(), fc.integer({ max: -1 }), fc.string({ maxLength: 6 }), fc.date()),
        ),
        version: mostly(fc.integer({ min: 1 }), fc.oneof(fc.integer({ max: 0 }), fc.double())),
        context: mostly(
          fc.record(
            {
              ip: fc.constantFrom('10.0.0.1', '::1', '2001:db8::1'),
              userAgent: fc.string(),
              requestId: fc.string(),
            },
            { requiredKeys: [] },
          ),
          fc.record(
            { ip: fc.constantFrom('1.2.3', '::@1\\', '::1\n', ''), agent: fc.string() },
            { requiredKeys: [] },
          ),
        ),
        metadata: fc.anything(),
        changes: mostly(
          fc.record({ before: fc.anything(), after: fc.anything() }, { requiredKeys: [] }),
          fc.record({ during: fc.anything() }),
        ),
      },
      { requiredKeys: ['action'] },
    );
    const withTypo = mostly(
      input,
      input.map((i) => ({ ...i, typo: 1 })),
    );
    let accepted = 0;
    fc.assert(
      fc.property(withTypo, (value) => {
        if (agree(value)) accepted += 1;
      }),
      { numRuns: 3000 },
    );
    // The comparison means something only if the fast path accepted a good share of the inputs.
    expect(accepted).toBeGreaterThan(100);
  });
});
