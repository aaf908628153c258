// Type-level tests: per-action metadata is checked at compile time.
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type ActionName,
  type AuditEvent,
  type AuditLogger,
  type AuditLoggerLifecycle,
  type AuditLoggerOptions,
  createAuditLogger,
  type DeliveryStats,
  defineAuditActions,
  type MetadataOf,
} from '../src/index.js';

const actions = defineAuditActions({
  'monitor.check.failed': z.object({ url: z.string(), latencyMs: z.number() }),
  'billing.invoice.paid': z.object({ amount: z.number(), note: z.string().optional() }),
  'auth.session.created': z.undefined(),
});

describe('typed actions', () => {
  const audit = createAuditLogger({ actions, tenant: 'acme' });

  it('takes exactly the metadata of each action', () => {
    audit.record({ action: 'monitor.check.failed', metadata: { url: 'https://x', latencyMs: 12 } });
    audit.record({ action: 'billing.invoice.paid', metadata: { amount: 5 } });
    audit.record({ action: 'auth.session.created' });
    // @ts-expect-error wrong metadata type for the action
    audit.record({ action: 'monitor.check.failed', metadata: { url: 'https://x', latencyMs: '12' } });
    // @ts-expect-error metadata required by the schema is missing
    audit.record({ action: 'billing.invoice.paid' });
    // @ts-expect-error an action the logger does not define
    audit.record({ action: 'billing.invoice.voided', metadata: {} });
  });

  it('checks the metadata of an action typed as a union of names against whichever it is', () => {
    const pick = (paid: boolean) => (paid ? 'billing.invoice.paid' : 'monitor.check.failed');
    const either = pick(true);
    // @ts-expect-error one action's metadata does not pass for the other
    audit.record({ action: either, metadata: { amount: 1 } });
    const name = 'billing.invoice.paid' as 'billing.invoice.paid' | 'auth.session.created';
    // @ts-expect-error metadata is optional for one of the two only
    audit.record({ action: name });
    // A narrowed name takes its own metadata.
    if (either === 'billing.invoice.paid') audit.record({ action: either, metadata: { amount: 1 } });
    // The recorder too.
    // @ts-expect-error as record()
    audit.coalesce().record({ action: either, metadata: { amount: 1 } });
    // The generic helper the README gives for loops over several actions.
    type Actions = typeof actions;
    const audited = <A extends ActionName<Actions>>(action: A, metadata: MetadataOf<Actions, A>) =>
      audit.record({ action, metadata });
    expectTypeOf(audited('billing.invoice.paid', { amount: 1 })).toEqualTypeOf<
      AuditEvent<'billing.invoice.paid'>
    >();
    // @ts-expect-error the helper still checks each action's metadata
    audited('billing.invoice.paid', { latencyMs: 1 });
    // As the README says: a union-typed action takes any member's metadata (the loop case), checked at run time.
    audited(either, { url: 'https://x', latencyMs: 1 });
  });

  it('returns the event with its action type', () => {
    const event = audit.record({ action: 'billing.invoice.paid', metadata: { amount: 1 } });
    expectTypeOf(event).toEqualTypeOf<AuditEvent<'billing.invoice.paid'>>();
    expectTypeOf(event.action).toEqualTypeOf<'billing.invoice.paid'>();
  });

  it('returns undefined for invalid events only when onInvalid is set', () => {
    const safe = createAuditLogger({ actions, tenant: 'acme', onInvalid: () => {} });
    expectTypeOf(safe.record({ action: 'auth.session.created' })).toEqualTypeOf<
      AuditEvent<'auth.session.created'> | undefined
    >();
    expectTypeOf(safe).toEqualTypeOf<AuditLogger<typeof actions, undefined>>();
  });

  it('returns possibly undefined when the options may carry onInvalid (a variable of the options type)', () => {
    const options: AuditLoggerOptions = { tenant: 'acme', onInvalid: () => {} };
    const maybe = createAuditLogger(options);
    expectTypeOf(maybe.record({ action: 'a.b.created' })).toEqualTypeOf<
      AuditEvent<'a.b.created'> | undefined
    >();
    // @ts-expect-error record() may return undefined: .id needs a check first
    maybe.record({ action: 'Bad Action' }).id;
    const typedOptions: AuditLoggerOptions<typeof actions> = { actions, tenant: 'acme' };
    expectTypeOf(createAuditLogger(typedOptions).record({ action: 'auth.session.created' })).toEqualTypeOf<
      AuditEvent<'auth.session.created'> | undefined
    >();
    // Known to be absent: never undefined.
    expectTypeOf(createAuditLogger({ actions }).record({ action: 'auth.session.created' })).toEqualTypeOf<
      AuditEvent<'auth.session.created'>
    >();
    expectTypeOf(createAuditLogger().record({ action: 'a.b.created' })).toEqualTypeOf<
      AuditEvent<'a.b.created'>
    >();
  });

  it('takes actor and target fields of an interface type (no index signature)', () => {
    interface UserFacts {
      role: string;
      plan: string;
    }
    const facts: UserFacts = { role: 'admin', plan: 'pro' };
    audit.record({
      action: 'auth.session.created',
      actor: { id: 'u', type: 'user', fields: facts },
      targets: [{ type: 'user', id: 'u', fields: facts }],
    });
    // @ts-expect-error fields must be an object
    audit.record({ action: 'auth.session.created', actor: { id: 'u', type: 'user', fields: 'admin' } });
  });

  it('accepts any action and metadata without schemas', () => {
    const untyped = createAuditLogger({ tenant: 'acme' });
    const event = untyped.record({ action: 'anything.at.all', metadata: { at: new Date(), n: 1n } });
    expectTypeOf(event.action).toEqualTypeOf<'anything.at.all'>();
    untyped.record({
      action: 'x',
      metadata: 'text',
      actor: { id: 'u', type: 'user', fields: { since: new Date() } },
    });
  });

  it('gives code that only flushes or shuts loggers down one type for typed and untyped ones', () => {
    const untyped = createAuditLogger({ tenant: 'acme' });
    const all: AuditLoggerLifecycle[] = [audit, untyped];
    expectTypeOf(all[0]?.shutdown).toEqualTypeOf<(() => Promise<DeliveryStats>) | undefined>();
    // A typed logger takes only its actions, so it is not the any-action AuditLogger.
    // @ts-expect-error
    const anyAction: AuditLogger = audit;
    void anyAction;
  });

  it('types the coalescing recorder like record()', () => {
    const sheet = audit.coalesce({ idleMs: 1000 });
    sheet.record({ action: 'billing.invoice.paid', metadata: { amount: 1 } });
    // @ts-expect-error wrong metadata
    sheet.record({ action: 'billing.invoice.paid', metadata: { amount: 'one' } });
  });
});
