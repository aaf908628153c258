// Inputs that used to pass validation and then broke delivery or the store, and inputs that made record()
// throw raw errors: each is now an AuditValidationError naming the path (or is normalised without loss).
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  AuditEventTooLargeError,
  AuditOptionError,
  AuditValidationError,
  createAuditLogger,
  MAX_AUDIT_VERSION,
  MAX_OCCURRED_AT_MS,
  parseAuditEvent,
} from '../src/index.js';
import { memoryProvider } from './support.js';

function issuesOf(input: unknown): string[] {
  try {
    parseAuditEvent(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AuditValidationError);
    return (error as AuditValidationError).issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
  return [];
}

const paths = (input: unknown) => issuesOf(input).map((i) => i.slice(0, i.indexOf(':')));

describe('the logger tenant option', () => {
  it('refuses options JavaScript callers get wrong at creation, naming the option (not at the first event)', () => {
    const provider = memoryProvider().provider;
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const cases: [unknown, string][] = [
      [null, 'options'],
      ['x', 'options'],
      [{ loggerProvider: provider, onError: 'log' }, 'onError'],
      [{ loggerProvider: provider, onDrop: {} }, 'onDrop'],
      [{ loggerProvider: provider, onInvalid: 1 }, 'onInvalid'],
      [{ loggerProvider: {} }, 'loggerProvider'],
      [{ loggerProvider: null }, 'loggerProvider'],
      [{ loggerProvider: provider, strictActions: 'yes' }, 'strictActions'],
      [{ loggerProvider: provider, flushOnExit: 0 }, 'flushOnExit'],
      [{ loggerProvider: provider, onError: 1n }, 'onError'],
      [{ loggerProvider: provider, onDrop: circular }, 'onDrop'],
      [{ loggerProvider: provider, tenant: 5n }, 'tenant'],
    ];
    for (const [options, option] of cases) {
      let error: unknown;
      try {
        createAuditLogger(options as Parameters<typeof createAuditLogger>[0]);
      } catch (e) {
        error = e;
      }
      expect(error, option).toBeInstanceOf(AuditOptionError);
      expect(error, option).toMatchObject({ option });
    }
    // Left out, or undefined as exactOptionalPropertyTypes callers pass it: accepted.
    const ok = createAuditLogger({
      loggerProvider: provider,
      onError: undefined,
      onDrop: () => undefined,
      strictActions: false,
      flushOnExit: false,
    });
    expect(ok.record({ action: 'a.b.created', tenant: 't' }).action).toBe('a.b.created');
  });

  it('is refused when blank, at creation (it would fail every event that names no tenant)', () => {
    for (const tenant of ['', '   ', 5 as unknown as string]) {
      expect(() =>
        createAuditLogger({ loggerProvider: memoryProvider().provider, tenant, flushOnExit: false }),
      ).toThrow(AuditOptionError);
    }
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: ' acme ',
      flushOnExit: false,
    });
    expect(audit.record({ action: 'a.b.created' }).tenant).toBe('acme');
  });
});

describe('occurredAt range (OTLP uint64 ns, DateTime64(9))', () => {
  it('rejects times outside 1970-01-01 .. 2262-04-11T23:47:16.854Z, in every accepted form', () => {
    for (const occurredAt of [
      new Date('2300-01-01T00:00:00Z'),
      '3000-01-01T00:00:00Z',
      '1969-12-31T23:59:59Z',
      new Date(-1),
      0, // OTLP reads 0 as "unset": the receiver would store the observed time instead
      MAX_OCCURRED_AT_MS + 1,
    ]) {
      expect(paths({ action: 'a.b.created', tenant: 't', occurredAt })).toEqual(['occurredAt']);
    }
  });

  it('says which forms a time takes when it is none of them (zod alone says "Invalid input")', () => {
    const cases: [unknown, RegExp][] = [
      [
        new Date('x'),
        /^occurredAt: must be a valid Date, an ISO 8601 date-time with a zone, or epoch milliseconds/,
      ],
      [1.5, /^occurredAt: must be a valid Date, .* epoch milliseconds \(a whole number >= 100000000000\)$/],
      [{}, /^occurredAt: must be a valid Date/],
      [
        -1,
        /^occurredAt: must be epoch milliseconds, a whole number >= 100000000000 \(1973-03-03T09:46:40Z\)$/,
      ],
      [0, /^occurredAt: must be epoch milliseconds, a whole number >= 100000000000/],
      [
        '2026-11-23T10:00:00',
        /^occurredAt: must be an ISO 8601 date-time with a zone, of a day that exists \(no February 30\), e\.g\. 2026-11-23T10:15:00Z/,
      ],
      // Zoned, but no such day: the message must not only ask for a zone.
      [
        '2026-02-30T10:00:00Z',
        /^occurredAt: must be an ISO 8601 date-time with a zone, of a day that exists/,
      ],
    ];
    for (const [occurredAt, message] of cases)
      expect(issuesOf({ action: 'a.b.created', tenant: 't', occurredAt }), String(occurredAt)).toEqual([
        expect.stringMatching(message),
      ]);
  });

  it('refuses a number below 100000000000 (1973-03-03): epoch seconds stored as 1970 otherwise', () => {
    for (const occurredAt of [1767225600, 1, 99_999_999_999])
      expect(issuesOf({ action: 'a.b.created', tenant: 't', occurredAt }), String(occurredAt)).toEqual([
        `occurredAt: ${occurredAt} looks like epoch seconds, not milliseconds: epoch milliseconds must be >= 100000000000 (1973-03-03T09:46:40Z); multiply seconds by 1000`,
      ]);
    // Through record() too (the fast path), and the same instant as a Date or text is still taken.
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: 't',
      flushOnExit: false,
    });
    expect(() => audit.record({ action: 'a.b.created', occurredAt: 1767225600 })).toThrow(
      /looks like epoch seconds, not milliseconds/,
    );
    expect(audit.record({ action: 'a.b.created', occurredAt: 1767225600_000 }).occurredAt.toISOString()).toBe(
      '2026-01-01T00:00:00.000Z',
    );
    expect(
      parseAuditEvent({ action: 'a.b.created', tenant: 't', occurredAt: new Date(1) }).occurredAt.getTime(),
    ).toBe(1);
  });

  it('accepts the edges of the range', () => {
    for (const occurredAt of [100_000_000_000, new Date(1), MAX_OCCURRED_AT_MS, '2262-04-11T23:47:16.854Z']) {
      expect(parseAuditEvent({ action: 'a.b.created', tenant: 't', occurredAt }).occurredAt.getTime()).toBe(
        new Date(occurredAt).getTime(),
      );
    }
  });
});

describe('a retried record() with the same id', () => {
  it('takes occurredAt from a UUIDv7 id when none is given (same row in the store), else now', () => {
    const id = '0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8091';
    const at = parseAuditEvent({ id, action: 'a.b.created', tenant: 't' }).occurredAt;
    expect(at.toISOString()).toBe(new Date(0x0193a5b07c1d).toISOString());
    const given = new Date('2026-01-01T00:00:00Z');
    expect(parseAuditEvent({ id, action: 'a.b.created', tenant: 't', occurredAt: given }).occurredAt).toEqual(
      given,
    );
    const now = new Date('2026-02-02T00:00:00Z');
    const v4 = '0193a5b0-7c1d-4e2f-8a3b-4c5d6e7f8091';
    expect(
      parseAuditEvent({ id: v4, action: 'a.b.created', tenant: 't' }, { now: () => now }).occurredAt,
    ).toEqual(now);
  });
});

describe('a UUIDv7 id whose time is outside the occurredAt range', () => {
  it('gives no time (time 0, the 48-bit maximum): occurredAt is now, no occurredAt issue', () => {
    const now = new Date('2026-02-02T00:00:00Z');
    for (const id of ['00000000-0000-7000-8000-000000000001', 'ffffffff-ffff-7fff-bfff-ffffffffffff']) {
      const event = parseAuditEvent({ id, action: 'a.b.created', tenant: 't' }, { now: () => now });
      expect(event.occurredAt).toEqual(now);
      expect(event.id).toBe(id);
    }
  });

  it('an explicit occurredAt still wins over the id, and is still checked', () => {
    const id = 'ffffffff-ffff-7fff-bfff-ffffffffffff';
    const given = new Date('2026-01-01T00:00:00Z');
    expect(parseAuditEvent({ id, action: 'a.b.created', tenant: 't', occurredAt: given }).occurredAt).toEqual(
      given,
    );
    expect(() =>
      parseAuditEvent({ id, action: 'a.b.created', tenant: 't', occurredAt: new Date(0) }),
    ).toThrow(/occurredAt: must be after/);
  });
});

describe('a generated id', () => {
  it('carries the instant of the occurredAt it defaults to: re-recording the returned id gives the same time', () => {
    const now = new Date('2026-03-04T05:06:07.089Z');
    const input = { action: 'a.b.created', tenant: 't' };
    const first = parseAuditEvent(input, { now: () => now });
    expect(first.occurredAt).toEqual(now);
    expect(Number.parseInt(first.id.replaceAll('-', '').slice(0, 12), 16)).toBe(now.getTime());
    // The retry derives occurredAt from the id, whatever its own clock says.
    const later = new Date(now.getTime() + 1);
    const again = parseAuditEvent({ ...input, id: first.id }, { now: () => later });
    expect(again.occurredAt).toEqual(first.occurredAt);
  });

  it('through record(), with slow metadata: the returned id and occurredAt agree, every time', () => {
    const { provider } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 't', flushOnExit: false });
    const metadata = { rows: Array.from({ length: 200 }, (_, i) => ({ i, d: new Date(i) })) };
    for (let i = 0; i < 50; i++) {
      const first = audit.record({ action: 'a.b.created', metadata });
      const again = audit.record({ action: 'a.b.created', metadata, id: first.id });
      expect(again.occurredAt).toEqual(first.occurredAt);
    }
  });
});

describe('maxEventBytes covers the whole record', () => {
  it('counts every attribute (outcome reason, user agent, names, tenant, request id), not only the JSON parts', () => {
    const big = 'x'.repeat(400);
    const fits = { action: 'a.b.created', tenant: 't', metadata: { a: 1 } };
    expect(parseAuditEvent(fits, { maxEventBytes: 1000 }).id).toBeTypeOf('string');
    for (const extra of [
      { outcome: 'failure', outcomeReason: big + big },
      { context: { userAgent: big, requestId: big } },
      { actor: { id: big, type: 'user', name: big } },
      { tenant: big + big },
    ]) {
      expect(() => parseAuditEvent({ ...fits, ...extra }, { maxEventBytes: 1000 })).toThrow(
        AuditEventTooLargeError,
      );
    }
  });
});

describe('the maxEventBytes boundary', () => {
  it('accepts a record of exactly maxEventBytes and refuses one byte over', () => {
    // Multi-byte text: the limit is in UTF-8 bytes, not characters.
    const event = { action: 'files.blob.uploaded', tenant: 't', metadata: { name: 'é'.repeat(300) } };
    const sizeOf = () => {
      try {
        parseAuditEvent(event, { maxEventBytes: 1 });
      } catch (error) {
        expect(error).toBeInstanceOf(AuditEventTooLargeError);
        return (error as AuditEventTooLargeError).size;
      }
      throw new Error('a 1-byte limit accepted the event');
    };
    const size = sizeOf();
    expect(size).toBeGreaterThan(600); // the 300 two-byte characters at least
    expect(parseAuditEvent(event, { maxEventBytes: size }).action).toBe('files.blob.uploaded');
    let refused: unknown;
    try {
      parseAuditEvent(event, { maxEventBytes: size - 1 });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(AuditEventTooLargeError);
    expect(refused).toMatchObject({ size, limit: size - 1 });
  });
});

describe('the maxEventBytes option', () => {
  it('must be a whole number >= 1 or Infinity: NaN (an unset environment variable) would disable the limit', () => {
    const { provider } = memoryProvider();
    for (const maxEventBytes of [Number.NaN, -1, 0, 0.5]) {
      let error: unknown;
      try {
        createAuditLogger({ loggerProvider: provider, tenant: 't', flushOnExit: false, maxEventBytes });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AuditOptionError);
      expect(error).toMatchObject({ option: 'maxEventBytes' });
      expect((error as Error).message).toContain('maxEventBytes must be a whole number >= 1 (or Infinity');
      expect((error as Error).message).toContain(`got ${maxEventBytes}`);
      // parseAuditEvent / prepareAuditEvent are public too: the same check there.
      expect(() => parseAuditEvent({ action: 'a.b.created', tenant: 't' }, { maxEventBytes })).toThrow(
        AuditOptionError,
      );
    }
    // Infinity: no limit (as before the checks existed).
    expect(() =>
      createAuditLogger({
        loggerProvider: provider,
        tenant: 't',
        flushOnExit: false,
        maxEventBytes: Number.POSITIVE_INFINITY,
      }).record({ action: 'a.b.created', metadata: 'x'.repeat(2_000_000) }),
    ).not.toThrow();
    const audit = createAuditLogger({
      loggerProvider: provider,
      tenant: 't',
      flushOnExit: false,
      maxEventBytes: 1000,
    });
    expect(() => audit.record({ action: 'a.b.created', metadata: 'x'.repeat(2000) })).toThrow(
      AuditEventTooLargeError,
    );
  });
});

describe('values the store would mark malformed', () => {
  it('caps version at the UInt32 column maximum', () => {
    expect(parseAuditEvent({ action: 'a.b.created', tenant: 't', version: MAX_AUDIT_VERSION }).version).toBe(
      MAX_AUDIT_VERSION,
    );
    expect(paths({ action: 'a.b.created', tenant: 't', version: MAX_AUDIT_VERSION + 1 })).toEqual([
      'version',
    ]);
  });

  it('rejects lone surrogates in every string, with the path', () => {
    const bad = 'x\ud800y';
    expect(
      paths({
        action: 'a.b.created',
        tenant: bad,
        actor: { id: bad, type: bad, name: bad, fields: { [bad]: 1, k: bad } },
        targets: [{ type: 't', id: bad, name: bad, fields: { list: [bad] } }],
        outcomeReason: bad,
        context: { userAgent: bad, requestId: bad },
        metadata: { deep: { v: bad }, [bad]: true },
        changes: { before: bad, after: { m: new Map([[bad, 1]]) } },
      }).sort(),
    ).toEqual(
      [
        'tenant',
        'actor.id',
        'actor.type',
        'actor.name',
        'targets.0.id',
        'targets.0.name',
        'outcomeReason',
        'context.userAgent',
        'context.requestId',
      ].sort(),
    );
    // The shape is fine: the JSON parts report theirs.
    expect(
      paths({
        action: 'a.b.created',
        tenant: 't',
        actor: { id: 'u', type: 'user', fields: { [bad]: 1, k: bad } },
        targets: [{ type: 't', id: '1', fields: { list: [bad] } }],
        metadata: { deep: { v: bad }, [bad]: true },
        changes: { before: bad, after: { m: new Map([[bad, 1]]) } },
      }).sort(),
    ).toEqual(
      [
        `actor.fields.${bad}`,
        'actor.fields.k',
        'targets.0.fields.list.0',
        'metadata.deep.v',
        `metadata.${bad}`,
        'changes.before',
        `changes.after.m.${bad}`,
      ].sort(),
    );
    expect(paths({ action: 'a.b.created', tenant: 't', metadata: bad })).toEqual(['metadata']);
  });

  it("checks the logger's default tenant too", () => {
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: 'a\udc00',
      flushOnExit: false,
    });
    expect(() => audit.record({ action: 'a.b.created' })).toThrow(/tenant: contains a lone surrogate/);
  });

  it('requires actor and target fields to stay objects after toJSON', () => {
    const toJSON = (value: unknown) => ({ toJSON: () => value });
    expect(
      paths({
        action: 'a.b.created',
        tenant: 't',
        actor: { id: 'u', type: 'user', fields: toJSON('text') },
        targets: [
          { type: 't', id: '1', fields: toJSON([1]) },
          { type: 't', id: '2', fields: toJSON(null) },
          { type: 't', id: '3', fields: toJSON({ ok: true }) },
        ],
      }),
    ).toEqual(['actor.fields', 'targets.0.fields', 'targets.1.fields']);
  });
});

describe('record() never throws a raw error', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 20_000; i++) deep = [deep];
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const cases: [string, () => Record<string, unknown>, string][] = [
    [
      'a throwing toJSON',
      () => ({
        metadata: {
          x: {
            toJSON() {
              throw new Error('boom');
            },
          },
        },
      }),
      'metadata.x: toJSON() threw: boom',
    ],
    [
      'a throwing getter',
      () => ({
        metadata: {
          get x() {
            throw new Error('getter boom');
          },
        },
      }),
      'metadata.x: could not be read: getter boom',
    ],
    [
      'a throwing getter in actor fields',
      () => ({
        actor: {
          id: 'u',
          type: 'user',
          fields: {
            get g() {
              throw new Error('g');
            },
          },
        },
      }),
      'actor.fields.g: could not be read: g',
    ],
    ['20,000-deep nesting', () => ({ metadata: deep }), 'nested deeper than 100 levels'],
    ['a revoked proxy', () => ({ metadata: revoked.proxy }), 'metadata: could not be read:'],
    ['a throwing getter on the event itself', () => ({}), 'tenant: could not be read: tenant getter'],
  ];
  // Spreading would call the getter in the test: define it on the input itself.
  const input = (name: string, extra: Record<string, unknown>) => {
    const value: Record<string, unknown> = { action: 'a.b.created', ...extra };
    if (name === 'a throwing getter on the event itself')
      Object.defineProperty(value, 'tenant', {
        enumerable: true,
        get() {
          throw new Error('tenant getter');
        },
      });
    return value as never;
  };

  for (const [name, make, expected] of cases) {
    it(`${name}: onInvalid gets an issue with its path; without onInvalid, AuditValidationError`, () => {
      const onInvalid = vi.fn();
      const lenient = createAuditLogger({
        loggerProvider: memoryProvider().provider,
        tenant: 't',
        onInvalid,
        flushOnExit: false,
      });
      expect(lenient.record(input(name, make()))).toBeUndefined();
      expect(onInvalid).toHaveBeenCalledOnce();
      const error = onInvalid.mock.calls[0]?.[0] as AuditValidationError;
      expect(error).toBeInstanceOf(AuditValidationError);
      expect(error.message).toContain(expected);
      expect(lenient.stats()).toMatchObject({ recorded: 0, invalid: 1 });

      const strict = createAuditLogger({
        loggerProvider: memoryProvider().provider,
        tenant: 't',
        flushOnExit: false,
      });
      expect(() => strict.record(input(name, make()))).toThrow(AuditValidationError);
    });
  }

  it('an action schema that throws is an issue at metadata', () => {
    const metadataSchema = z.unknown().transform(() => {
      throw new Error('schema bug');
    });
    expect(() => parseAuditEvent({ action: 'a.b.created', tenant: 't' }, { metadataSchema })).toThrow(
      /metadata: the action's schema threw: schema bug/,
    );
  });

  it('names the throwing property of the shape (actor, targets, context), or (event) for the event itself', () => {
    const throwing = (key: string) =>
      Object.defineProperty({}, key, {
        enumerable: true,
        get() {
          throw new Error('nope');
        },
      });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    for (const [input, path] of [
      [{ action: 'a.b.created', tenant: 't', actor: throwing('id') }, 'actor.id'],
      [
        { action: 'a.b.created', tenant: 't', targets: [{ type: 't', id: '1' }, throwing('id')] },
        'targets.1.id',
      ],
      [{ action: 'a.b.created', tenant: 't', context: throwing('ip') }, 'context.ip'],
      [revoked.proxy, '(event)'],
    ] as const) {
      let error: AuditValidationError | undefined;
      try {
        parseAuditEvent(input);
      } catch (e) {
        error = e as AuditValidationError;
      }
      expect(error).toBeInstanceOf(AuditValidationError);
      expect(error?.message).toContain(`  - ${path}: could not be read: `);
    }
  });

  it('parseAuditEvent throws AuditValidationError for an input that throws while read', () => {
    const input = { action: 'a.b.created' };
    Object.defineProperty(input, 'tenant', {
      enumerable: true,
      get() {
        throw new Error('nope');
      },
    });
    expect(() => parseAuditEvent(input)).toThrow(AuditValidationError);
  });

  it('a throwing onInvalid hook does not make record() throw', () => {
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: 't',
      onInvalid: () => {
        throw new Error('hook');
      },
      flushOnExit: false,
    });
    expect(audit.record({ action: 'NOPE' })).toBeUndefined();
  });
});

describe('JSON normalisation keeps what the caller gave', () => {
  it('keeps a __proto__ key as an own key (fast and slow path, metadata and fields)', () => {
    const withProto = () => JSON.parse('{"__proto__":{"isAdmin":true},"a":1}') as Record<string, unknown>;
    const slow = { ...withProto(), at: new Date(0) };
    Object.defineProperty(slow, '__proto__', { value: { isAdmin: true }, enumerable: true });
    for (const metadata of [withProto(), slow]) {
      const event = parseAuditEvent({ action: 'a.b.created', tenant: 't', metadata });
      expect(Object.hasOwn(event.metadata as object, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(event.metadata)).toBe(Object.prototype);
      expect(JSON.stringify(event.metadata)).toContain('"__proto__":{"isAdmin":true}');
    }
    // zod's record parsing drops __proto__ keys: an input that takes the schema path keeps them too.
    const event = parseAuditEvent({
      action: 'a.b.created',
      tenant: ' t ', // trimmed by the schema: the fast path defers
      actor: { id: 'u', type: 'user', fields: withProto() },
      targets: [{ type: 't', id: '1', fields: withProto() }],
    });
    expect(Object.keys(event.actor.fields ?? {})).toEqual(['__proto__', 'a']);
    expect(Object.keys(event.targets[0]?.fields ?? {})).toEqual(['__proto__', 'a']);
  });

  it('reports Map keys that collide or have no JSON form', () => {
    expect(
      issuesOf({
        action: 'a.b.created',
        tenant: 't',
        metadata: {
          numbers: new Map<unknown, string>([
            [1, 'num'],
            ['1', 'str'],
          ]),
          objects: new Map([[{ a: 1 }, 1]]),
        },
      }),
    ).toEqual([
      'metadata.numbers.1: two Map keys both become the JSON key "1"',
      'metadata.objects.[object Object]: a object Map key has no JSON form (use string, number, bigint or boolean keys)',
    ]);
  });

  it('unwraps boxed primitives', () => {
    const event = parseAuditEvent({
      action: 'a.b.created',
      tenant: 't',
      metadata: { flag: new Boolean(false), s: new String('ab'), n: new Number(2), big: Object(3n), d: 1n },
    });
    expect(event.metadata).toEqual({ flag: false, s: 'ab', n: 2, big: '3', d: '1' });
  });
});

describe('error messages as the README shows them', () => {
  it('prints array indexes as path segments and points at a misspelt key', () => {
    const audit = createAuditLogger({
      loggerProvider: memoryProvider().provider,
      tenant: 't',
      flushOnExit: false,
    });
    let message = '';
    try {
      audit.record({
        action: 'a.b.created',
        targets: [{ type: 't', id: ' ' }],
        context: { ip: 'nope' },
        actorr: {},
      } as never);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('  - targets.0.id: must not be empty\n');
    expect(message).toContain('  - context.ip: must be an IPv4 or IPv6 address\n');
    expect(message).toContain('  - actorr: unrecognized key');
  });
});

describe('the AuditValidationError message', () => {
  const messageOf = (input: unknown) => {
    try {
      parseAuditEvent(input);
    } catch (error) {
      expect(error).toBeInstanceOf(AuditValidationError);
      return error as AuditValidationError;
    }
    throw new Error('accepted');
  };
  const event = { action: 'a.b.created', tenant: 'acme', actor: { id: 'u1', type: 'user' } };

  it('spells out at most 100 issues (all in .issues): 200,000 made an 8 MB message', () => {
    const error = messageOf({ ...event, targets: Array.from({ length: 5_000 }, () => ({})) });
    expect(error.issues.length).toBeGreaterThan(100);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(1 + 100 + 1);
    expect(lines.at(-1)).toBe(`  - … ${error.issues.length - 100} more in .issues`);
  });

  it('quotes path segments that are not plain names, so a key cannot pass for nesting or forge a line', () => {
    const error = messageOf({
      ...event,
      metadata: { 'a.b': Number.NaN, a: { b: Number.NaN }, 'k\n  - tenant: must not be empty': Number.NaN },
    });
    const lines = error.message.split('\n').slice(1);
    // A misspelt top-level key with a dot is not the nested field it looks like.
    const misspelt = messageOf({ ...event, 'actor.id': 'u1' });
    expect(misspelt.message.split('\n').slice(1)).toEqual(['  - ["actor.id"]: unrecognized key']);
    expect(lines).toEqual([
      '  - metadata["a.b"]: NaN is not representable in JSON',
      '  - metadata.a.b: NaN is not representable in JSON',
      '  - metadata["k\\n  - tenant: must not be empty"]: NaN is not representable in JSON',
    ]);
  });
});
