// The schema of what callers pass to `record()`, and a fast path that accepts the common valid shapes
// without running it. The zod schema is the definition: the fast path only ever says "valid, and zod would
// output exactly this" or "not sure" (then zod decides and reports every issue). Tested against each other.
import { z } from 'zod';
import {
  ACTION_PATTERN,
  CRUD_VALUES,
  MAX_AUDIT_VERSION,
  MAX_REFERENCE_LENGTH,
  OUTCOME_VALUES,
} from './conventions.js';
import { isWellFormed, NOT_WELL_FORMED } from './text.js';

const text = z.string().refine((s) => isWellFormed(s), NOT_WELL_FORMED);
/** The issue of a tenant, action, actor or target type or id over MAX_REFERENCE_LENGTH. */
export const REFERENCE_TOO_LONG =
  `must be at most ${MAX_REFERENCE_LENGTH} characters (UTF-16 code units): ` +
  'reads refuse a longer filter value, so the event could never be found';
// zod's max() counts code points; reads count UTF-16 code units (`.length`).
const fitsReference = (s: string) => s.length <= MAX_REFERENCE_LENGTH;
// Tenant, actor and target type and id: what reads filter on.
const nonEmpty = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .refine(fitsReference, REFERENCE_TOO_LONG)
  .refine((s) => isWellFormed(s), NOT_WELL_FORMED);
/**
 * Actor and target fields: any non-array object; a class instance, Map or value with toJSON is normalised like the
 * metadata and must be a JSON object after that (checked when serialised).
 */
const fieldsObject = z.custom<object>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  {
    error: 'must be an object',
  },
);
const uuid = z.uuid();
// zod's pattern takes the max UUID (all f) in lowercase only, every other UUID in either case; the id is stored
// lowercased, so it is checked lowercased: FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF is accepted like the rest.
const idSchema = z.string().refine((s) => uuid.safeParse(s.toLowerCase()).success, 'Invalid UUID');
const ipSchema = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });
/**
 * Smallest number taken as epoch milliseconds (1973-03-03T09:46:40Z). A smaller one is almost surely epoch
 * seconds (1767225600 would be stored as January 1970): refused rather than stored at the wrong time.
 */
export const MIN_EPOCH_MILLISECONDS = 100_000_000_000;
const TIME_FORMS =
  'a valid Date, an ISO 8601 date-time with a zone, or epoch milliseconds (a whole number >= 100000000000)';
const epochMillisSchema = z
  .number()
  .int()
  .min(MIN_EPOCH_MILLISECONDS, {
    error: (issue) =>
      typeof issue.input === 'number' && issue.input >= 1
        ? `${issue.input} looks like epoch seconds, not milliseconds: epoch milliseconds must be >= ` +
          `${MIN_EPOCH_MILLISECONDS} (1973-03-03T09:46:40Z); multiply seconds by 1000`
        : `must be epoch milliseconds, a whole number >= ${MIN_EPOCH_MILLISECONDS} (1973-03-03T09:46:40Z)`,
  });
const isoSeconds = z.iso.datetime({ offset: true });
const isoMinutes = z.iso.datetime({ offset: true, precision: -1 });
/** `t` and `z` as `T` and `Z`: RFC 3339 allows them lowercase, zod's pattern wants them uppercase (Date takes both). */
const upperIsoLetters = (text: string): string => text.replace(/[tz]/g, (c) => c.toUpperCase());
// With seconds (any fraction) or minutes only (2026-11-23T10:15Z), as the query API takes; always with a zone.
const isoTimeSchema = z.string().refine((text) => {
  const upper = upperIsoLetters(text);
  return isoSeconds.safeParse(upper).success || isoMinutes.safeParse(upper).success;
}, 'must be an ISO 8601 date-time with a zone, of a day that exists (no February 30), e.g. 2026-11-23T10:15:00Z or 2026-11-23T11:15:00+01:00');
const timeSchema = z.union(
  [z.date(), isoTimeSchema, epochMillisSchema],
  // zod's own message for a failed union is only "Invalid input".
  { error: `must be ${TIME_FORMS}` },
);
const optionalText = text.optional();

// Strict objects: a misspelt key (`actorr`, `target`) is an error, not silently stripped.
const actorSchema = z.strictObject({
  id: nonEmpty,
  type: nonEmpty,
  name: optionalText,
  fields: fieldsObject.optional(),
});

const targetSchema = z.strictObject({
  type: nonEmpty,
  id: nonEmpty,
  name: optionalText,
  fields: fieldsObject.optional(),
});

const contextSchema = z.strictObject({
  ip: ipSchema.optional(),
  userAgent: optionalText,
  requestId: optionalText,
});

const changesSchema = z.strictObject({ before: z.unknown().optional(), after: z.unknown().optional() });

/** Shape check of the input; JSON normalisation and the per-action metadata schema follow. */
export const auditEventInputSchema = z.strictObject({
  id: idSchema.optional(),
  action: z
    .string()
    .regex(ACTION_PATTERN, 'must be lowercase dot-separated segments, e.g. billing.invoice.paid')
    .refine(fitsReference, REFERENCE_TOO_LONG),
  actor: actorSchema.optional(),
  targets: z.array(targetSchema).optional(),
  tenant: nonEmpty.optional(),
  crud: z.enum(CRUD_VALUES).optional(),
  outcome: z.enum(OUTCOME_VALUES).optional(),
  outcomeReason: optionalText,
  occurredAt: timeSchema.optional(),
  version: z.number().int().positive().max(MAX_AUDIT_VERSION).optional(),
  context: contextSchema.optional(),
  metadata: z.unknown().optional(),
  changes: changesSchema.optional(),
});

export type RawAuditEventInput = z.output<typeof auditEventInputSchema>;

// ---- fast path -------------------------------------------------------------------------------------------

type Plain = Record<string, unknown>;

const EVENT_KEYS = new Set(Object.keys(auditEventInputSchema.shape));
const ACTOR_KEYS = new Set(Object.keys(actorSchema.shape));
const TARGET_KEYS = new Set(Object.keys(targetSchema.shape));
const CONTEXT_KEYS = new Set(Object.keys(contextSchema.shape));
const CHANGES_KEYS = new Set(Object.keys(changesSchema.shape));
const IPV4 = z.core.regexes.ipv4;
const CRUDS = new Set<unknown>(CRUD_VALUES);
const OUTCOMES = new Set<unknown>(OUTCOME_VALUES);

function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Own keys all in `allowed` (strict objects). */
function onlyKeys(value: Plain, allowed: Set<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

/** A string `nonEmpty` returns unchanged: not empty, not too long, nothing for trim() to remove. */
function isCleanNonEmpty(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_REFERENCE_LENGTH &&
    value.trim() === value &&
    isWellFormed(value)
  );
}

const optionalString = (value: unknown) =>
  value === undefined || (typeof value === 'string' && isWellFormed(value));

function isActorLike(value: unknown, keys: Set<string>): boolean {
  return (
    isPlainObject(value) &&
    onlyKeys(value, keys) &&
    isCleanNonEmpty(value.id) &&
    isCleanNonEmpty(value.type) &&
    optionalString(value.name) &&
    (value.fields === undefined || isPlainObject(value.fields))
  );
}

function isTime(value: unknown): boolean {
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= MIN_EPOCH_MILLISECONDS;
  return typeof value === 'string' && timeSchema.safeParse(value).success;
}

/**
 * The input itself when it is valid as it stands (zod would output the same values), else undefined: zod
 * then decides. Never accepts what the schema rejects.
 */
export function fastParseInput(input: unknown): RawAuditEventInput | undefined {
  if (!isPlainObject(input) || !onlyKeys(input, EVENT_KEYS)) return undefined;
  const e = input;
  if (
    typeof e.action !== 'string' ||
    e.action.length > MAX_REFERENCE_LENGTH ||
    !ACTION_PATTERN.test(e.action)
  )
    return undefined;
  if (e.id !== undefined && !(typeof e.id === 'string' && idSchema.safeParse(e.id).success)) return undefined;
  if (e.actor !== undefined && !isActorLike(e.actor, ACTOR_KEYS)) return undefined;
  if (e.targets !== undefined) {
    if (!Array.isArray(e.targets)) return undefined;
    for (const target of e.targets) if (!isActorLike(target, TARGET_KEYS)) return undefined;
  }
  if (e.tenant !== undefined && !isCleanNonEmpty(e.tenant)) return undefined;
  if (e.crud !== undefined && !CRUDS.has(e.crud)) return undefined;
  if (e.outcome !== undefined && !OUTCOMES.has(e.outcome)) return undefined;
  if (!optionalString(e.outcomeReason)) return undefined;
  if (e.occurredAt !== undefined && !isTime(e.occurredAt)) return undefined;
  if (
    e.version !== undefined &&
    !(
      Number.isSafeInteger(e.version) &&
      (e.version as number) > 0 &&
      (e.version as number) <= MAX_AUDIT_VERSION
    )
  )
    return undefined;
  if (e.context !== undefined) {
    const c = e.context;
    if (!isPlainObject(c) || !onlyKeys(c, CONTEXT_KEYS)) return undefined;
    // zod checks IPv4 with exactly this pattern; anything else (IPv6) goes through the schema.
    const ip = c.ip;
    if (ip !== undefined && !(typeof ip === 'string' && (IPV4.test(ip) || ipSchema.safeParse(ip).success)))
      return undefined;
    if (!optionalString(c.userAgent) || !optionalString(c.requestId)) return undefined;
  }
  if (e.changes !== undefined && !(isPlainObject(e.changes) && onlyKeys(e.changes, CHANGES_KEYS)))
    return undefined;
  return e as RawAuditEventInput;
}
