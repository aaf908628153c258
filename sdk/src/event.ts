import { z } from 'zod';
import {
  CRUD_VALUES,
  type Crud,
  DEFAULT_ACTOR,
  DEFAULT_MAX_EVENT_BYTES,
  inferCrud,
  MAX_OCCURRED_AT_MS,
  MAX_REFERENCE_LENGTH,
  MIN_OCCURRED_AT_MS,
  OUTCOME_VALUES,
  type Outcome,
  STRICT_ACTION_PATTERN,
} from './conventions.js';
import { AuditEventTooLargeError, type AuditIssue, AuditValidationError } from './errors.js';
import {
  auditEventInputSchema,
  fastParseInput,
  type RawAuditEventInput,
  REFERENCE_TOO_LONG,
} from './input.js';
import {
  type JsonObject,
  type JsonValue,
  type SerializedJson,
  serializeJson,
  stringifyJson,
} from './json.js';
import { requireLimit } from './options.js';
import { recordSizeOver } from './record-size.js';
import { isWellFormed, NOT_WELL_FORMED } from './text.js';
import { uuidv7, uuidv7Time } from './uuid7.js';

/** Who did it. */
export interface AuditActor {
  id: string;
  /** e.g. `user`, `api_key`, `service`, `system`. */
  type: string;
  name?: string | undefined;
  fields?: JsonObject | undefined;
}

/** What it was done to. */
export interface AuditTarget {
  type: string;
  id: string;
  name?: string | undefined;
  fields?: JsonObject | undefined;
}

/** Where the request came from. */
export interface AuditContext {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

/**
 * Request context as `record()` takes it: a value may be `undefined` (left out), so `{ ip: req.ip }` compiles
 * under `exactOptionalPropertyTypes` too.
 */
export type AuditContextInput = { [K in keyof AuditContext]?: AuditContext[K] | undefined };

/** An actor as `record()` takes it: fields may hold any value JSON can be made to carry (Date, BigInt, Map...). */
export interface AuditActorInput {
  id: string;
  type: string;
  name?: string | undefined;
  /**
   * An object (`object`, not a record type: a value of an interface type, which has no index signature, is taken
   * too), normalised like the metadata (a class instance → its own members, a Map → an object, `toJSON` used); it
   * must be a JSON object after that (an array, a Date or a function is refused at run time).
   */
  fields?: object | undefined;
}

/** A target as `record()` takes it. */
export interface AuditTargetInput {
  type: string;
  id: string;
  name?: string | undefined;
  /** An object (see `AuditActorInput.fields`). */
  fields?: object | undefined;
}

export interface AuditChanges {
  before?: JsonValue | undefined;
  after?: JsonValue | undefined;
}

/** What a caller passes to `record()`, but the metadata (see `AuditEventInput`). */
export interface AuditEventFields<A extends string = string> {
  /**
   * UUID; generated (UUIDv7) when absent. Recording the same event again (a retry) is stored once when the
   * tenant, actor id, occurredAt and id repeat: give occurredAt, or a UUIDv7 id (its time is the default).
   */
  id?: string | undefined;
  action: A;
  /** Default: the system actor `{ id: 'system', type: 'system' }`. */
  actor?: AuditActorInput | undefined;
  targets?: readonly AuditTargetInput[] | undefined;
  /** Required unless the logger has a default tenant. */
  tenant?: string | undefined;
  /** Default: inferred from the action's verb (`…created` → create), else `unknown`. */
  crud?: Crud | undefined;
  /** Default: success. */
  outcome?: Outcome | undefined;
  /** Why it failed (or any note on the outcome). */
  outcomeReason?: string | undefined;
  /** When it happened: Date, ISO 8601 string or epoch milliseconds. Default: the time of a UUIDv7 `id`, else now. */
  occurredAt?: Date | string | number | undefined;
  /** Metadata schema version for this action. Default 1. */
  version?: number | undefined;
  context?: AuditContextInput | undefined;
  /** State before and after (any values; normalised to JSON like the metadata). */
  changes?: { before?: unknown; after?: unknown } | undefined;
}

/** `metadata` is required exactly when the action's schema requires a value. */
export type MetadataField<M> = undefined extends M ? { metadata?: M } : { metadata: M };

/** What a caller passes to `record()`. Only `action` is required (and `tenant`, unless the logger has one). */
export type AuditEventInput<A extends string = string, M = unknown> = AuditEventFields<A> & MetadataField<M>;

/** A validated, normalised event: every default applied, every value JSON-safe. */
export interface AuditEvent<A extends string = string, M extends JsonValue = JsonValue> {
  id: string;
  action: A;
  actor: AuditActor;
  targets: AuditTarget[];
  tenant: string;
  crud: Crud;
  outcome: Outcome;
  outcomeReason?: string | undefined;
  occurredAt: Date;
  version: number;
  context: AuditContext;
  metadata: M;
  changes?: AuditChanges | undefined;
  /** Occurrences merged into this event by session coalescing (1 when not coalesced). */
  count: number;
  /** Time of the latest merged occurrence (occurredAt is the earliest's); equals occurredAt when not coalesced. */
  lastOccurredAt: Date;
}

export interface ParseOptions {
  /** Require exactly `<service>.<resource>.<verb>`. Default false. */
  strictActions?: boolean;
  /** Tenant for events that name none. */
  defaultTenant?: string;
  /** Maximum size of the event's log record: body and every attribute key and value, in UTF-8 bytes. Default 1 MiB. */
  maxEventBytes?: number;
  /** Schema the metadata must satisfy (checked before JSON normalisation; its output is what is stored). */
  metadataSchema?: z.core.$ZodType;
  /** Clock, for tests. */
  now?: () => Date;
}

/** The JSON texts an event's log record carries, serialized once during validation. */
export interface EventJson {
  metadata: string;
  targets: string;
  actorFields?: string;
  changes?: string;
}

/** A validated event and its JSON texts. */
export interface PreparedAuditEvent {
  event: AuditEvent;
  json: EventJson;
}

function zodIssues(error: z.ZodError, prefix: (string | number)[] = []): AuditIssue[] {
  return error.issues.flatMap((i) => {
    const path = [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    // One issue per misspelt key, at the key itself (`actorr: unrecognized key`), not at its parent.
    if (i.code === 'unrecognized_keys')
      return i.keys.map((key) => ({ path: [...path, key], message: 'unrecognized key' }));
    return [{ path, message: i.message }];
  });
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

function toDate(value: Date | string | number): Date {
  return value instanceof Date ? new Date(value.getTime()) : new Date(value);
}

/**
 * An optional text that is given and not empty. The store keeps an absent one as '' and reads '' back as absent:
 * an empty one is absent here too, so the event record() returns is the one a read returns.
 */
const isPresent = (value: string | undefined): value is string => value !== undefined && value !== '';

function actionOf(input: unknown): string | undefined {
  const action =
    typeof input === 'object' && input !== null ? (input as { action?: unknown }).action : undefined;
  return typeof action === 'string' ? action : undefined;
}

/**
 * Validates and normalises one event and serializes its JSON parts once. Throws `AuditValidationError` listing
 * every issue with its path, or `AuditEventTooLargeError` when its whole log record is over maxEventBytes.
 */
export function prepareAuditEvent(input: unknown, options: ParseOptions = {}): PreparedAuditEvent {
  // A programming error in the options, not in the event: AuditOptionError, before the event is read.
  requireLimit('prepareAuditEvent', 'maxEventBytes', options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
  try {
    return prepare(input, options);
  } catch (error) {
    if (error instanceof AuditValidationError) throw error;
    // A getter, proxy or schema that threw while the input was read: a typed error, never a raw one.
    const message = errorMessage(error);
    let action: string | undefined;
    try {
      action = actionOf(input);
    } catch {}
    throw new AuditValidationError(
      [{ path: throwingPath(input), message: `could not be read: ${message}` }],
      action,
    );
  }
}

/**
 * Where reading the input throws (a getter, a revoked proxy), found by reading it again property by property;
 * [] when it is the event object itself or nothing throws twice. Runs only after something threw.
 */
function throwingPath(input: unknown): (string | number)[] {
  const probe = (value: unknown, path: (string | number)[]): (string | number)[] | undefined => {
    // Deep enough for targets.0.fields.key; JSON parts below report their own paths.
    if (path.length > 3 || typeof value !== 'object' || value === null) return undefined;
    let keys: string[];
    let isArray: boolean;
    try {
      isArray = Array.isArray(value);
      keys = Object.keys(value);
    } catch {
      return path;
    }
    for (const key of keys) {
      const at = [...path, isArray ? Number(key) : key];
      let member: unknown;
      try {
        member = (value as Record<string, unknown>)[key];
      } catch {
        return at;
      }
      const found = probe(member, at);
      if (found) return found;
    }
    return undefined;
  };
  return probe(input, []) ?? [];
}

/** The fields objects as the caller passed them: zod's record parsing drops `__proto__` keys. */
function callerFields(input: unknown, raw: RawAuditEventInput): void {
  const given = input as { actor?: { fields?: unknown }; targets?: { fields?: unknown }[] };
  if (raw.actor?.fields !== undefined) raw.actor.fields = given.actor?.fields as Record<string, unknown>;
  raw.targets?.forEach((t, i) => {
    if (t.fields !== undefined) t.fields = given.targets?.[i]?.fields as Record<string, unknown>;
  });
}

/** JSON fields (actor, target) must stay JSON objects: the store reads anything else as malformed. */
function checkObject(value: JsonValue, path: (string | number)[], issues: AuditIssue[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    issues.push({ path, message: 'must be a JSON object (after toJSON and normalisation)' });
}

/**
 * The action's metadata issues for an event whose shape is wrong elsewhere, so one error lists every problem
 * (not the metadata ones only once the rest is fixed). None when the metadata cannot be read.
 */
function metadataIssues(input: unknown, schema: ParseOptions['metadataSchema']): AuditIssue[] {
  if (!schema || typeof input !== 'object' || input === null) return [];
  try {
    const checked = z.safeParse(schema, (input as { metadata?: unknown }).metadata);
    return checked.success ? [] : zodIssues(checked.error, ['metadata']);
  } catch {
    return []; // a getter or a schema that throws: reported once the shape is right, as before
  }
}

function prepare(input: unknown, options: ParseOptions): PreparedAuditEvent {
  let raw = fastParseInput(input);
  if (raw === undefined) {
    const shape = auditEventInputSchema.safeParse(input);
    if (!shape.success)
      throw new AuditValidationError(
        [...zodIssues(shape.error), ...metadataIssues(input, options.metadataSchema)],
        actionOf(input),
      );
    raw = shape.data;
    callerFields(input, raw);
  }
  const issues: AuditIssue[] = [];

  if (options.strictActions && !STRICT_ACTION_PATTERN.test(raw.action)) {
    issues.push({
      path: ['action'],
      message: 'must be <service>.<resource>.<verb_past_tense> (strict mode)',
    });
  }
  // A default is trimmed like the event's own tenant (the schema trims that one).
  const tenant = raw.tenant ?? options.defaultTenant?.trim();
  if (tenant === undefined || tenant.trim() === '') {
    issues.push({ path: ['tenant'], message: 'required (or set a default tenant on the logger)' });
  } else if (!isWellFormed(tenant))
    issues.push({ path: ['tenant'], message: NOT_WELL_FORMED }); // the logger's default
  else if (tenant.length > MAX_REFERENCE_LENGTH)
    issues.push({ path: ['tenant'], message: REFERENCE_TOO_LONG });
  // A caller's UUIDv7 id carries its creation time: taking it as the default occurredAt makes a repeated
  // record() with the same id the same row (the store collapses on tenant, actor, occurred_at, id).
  // An id whose time is outside the occurredAt range (0 in fixtures, another epoch) gives no time: now.
  let idTime = raw.occurredAt === undefined && raw.id !== undefined ? uuidv7Time(raw.id) : undefined;
  if (idTime !== undefined && (idTime < MIN_OCCURRED_AT_MS || idTime > MAX_OCCURRED_AT_MS))
    idTime = undefined;
  const occurredAt =
    raw.occurredAt !== undefined
      ? toDate(raw.occurredAt)
      : idTime !== undefined
        ? new Date(idTime)
        : (options.now?.() ?? new Date());
  const ms = occurredAt.getTime();
  if (Number.isNaN(ms)) issues.push({ path: ['occurredAt'], message: 'invalid date' });
  else if (ms < MIN_OCCURRED_AT_MS || ms > MAX_OCCURRED_AT_MS)
    issues.push({
      path: ['occurredAt'],
      message: `must be after ${new Date(0).toISOString()} and at most ${new Date(MAX_OCCURRED_AT_MS).toISOString()} (OTLP and DateTime64(9) range)`,
    });

  // The action's schema sees the metadata as the caller typed it (its TS type is the schema's input); its
  // output (defaults and transforms applied) is what gets serialized.
  let metadataInput: unknown = raw.metadata;
  if (options.metadataSchema) {
    let checked: ReturnType<typeof z.safeParse> | undefined;
    try {
      checked = z.safeParse(options.metadataSchema, raw.metadata);
    } catch (error) {
      // A schema that throws on this value (a transform, a refinement, too deep for zod's recursion).
      issues.push({ path: ['metadata'], message: `the action's schema threw: ${errorMessage(error)}` });
    }
    if (checked?.success) metadataInput = checked.data;
    else if (checked) issues.push(...zodIssues(checked.error, ['metadata']));
  }
  const metadata = serializeJson(metadataInput, ['metadata'], issues);

  let actorFields: SerializedJson | undefined;
  let actor: AuditActor;
  if (raw.actor) {
    actor = { id: raw.actor.id, type: raw.actor.type };
    if (isPresent(raw.actor.name)) actor.name = raw.actor.name;
    if (raw.actor.fields !== undefined) {
      const before = issues.length;
      actorFields = serializeJson(raw.actor.fields, ['actor', 'fields'], issues);
      // Once per path: a value normalisation refused is not also "no object".
      if (issues.length === before) checkObject(actorFields.value, ['actor', 'fields'], issues);
      actor.fields = actorFields.value as JsonObject;
    }
  } else actor = { ...DEFAULT_ACTOR };

  // Whether the targets' or changes' JSON text needs wide integers in exponent form (see stringifyJson).
  let targetsWide = false;
  const targets: AuditTarget[] = (raw.targets ?? []).map((t, i) => {
    const target: AuditTarget = { type: t.type, id: t.id };
    if (isPresent(t.name)) target.name = t.name;
    if (t.fields !== undefined) {
      const before = issues.length;
      const fields = serializeJson(t.fields, ['targets', i, 'fields'], issues);
      if (issues.length === before) checkObject(fields.value, ['targets', i, 'fields'], issues);
      target.fields = fields.value as JsonObject;
      if (fields.wide) targetsWide = true;
    }
    return target;
  });

  let changes: AuditChanges | undefined;
  let changesWide = false;
  if (raw.changes) {
    changes = {};
    for (const side of ['before', 'after'] as const) {
      if (raw.changes[side] === undefined) continue;
      const serialized = serializeJson(raw.changes[side], ['changes', side], issues);
      changes[side] = serialized.value;
      if (serialized.wide) changesWide = true;
    }
  }

  if (issues.length > 0) throw new AuditValidationError(issues, raw.action);

  const json: EventJson = { metadata: metadata.json, targets: stringifyJson(targets, targetsWide) };
  if (actorFields) json.actorFields = actorFields.json;
  if (changes) json.changes = stringifyJson(changes, changesWide);
  const context: AuditContext = {};
  if (raw.context?.ip !== undefined) context.ip = raw.context.ip;
  if (isPresent(raw.context?.userAgent)) context.userAgent = raw.context.userAgent;
  if (isPresent(raw.context?.requestId)) context.requestId = raw.context.requestId;

  const event: AuditEvent = {
    // ClickHouse stores ids as UUID (lowercase): a caller's uppercase id must read back the same.
    // A generated id carries occurredAt's instant: re-recording it without occurredAt derives the same time.
    id: raw.id?.toLowerCase() ?? uuidv7(raw.occurredAt === undefined ? occurredAt.getTime() : undefined),
    action: raw.action,
    actor,
    targets,
    tenant: tenant as string,
    crud: raw.crud ?? inferCrud(raw.action),
    outcome: raw.outcome ?? 'success',
    occurredAt,
    version: raw.version ?? 1,
    context,
    metadata: metadata.value,
    count: 1,
    lastOccurredAt: occurredAt,
  };
  if (isPresent(raw.outcomeReason)) event.outcomeReason = raw.outcomeReason;
  if (changes !== undefined) event.changes = changes;
  // The whole record counts (body and every attribute), as the receiver measures it: an event valid here
  // always fits a receiver whose maximum record size is at least maxEventBytes.
  const limit = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const size = recordSizeOver({ event, json }, limit);
  if (size !== undefined) throw new AuditEventTooLargeError(size, limit, raw.action);
  return { event, json };
}

/**
 * Validates and normalises one event. Throws `AuditValidationError` listing every issue with its path,
 * or `AuditEventTooLargeError` when its whole log record is over maxEventBytes.
 */
export function parseAuditEvent(input: unknown, options: ParseOptions = {}): AuditEvent {
  return prepareAuditEvent(input, options).event;
}

const jsonValueSchema = z.json();
const jsonObjectSchema = z.record(z.string(), jsonValueSchema);

/** Schema of a normalised `AuditEvent`: what readers (the ClickHouse store) parse stored events back with. */
export const auditEventSchema = z.object({
  // Any UUID ClickHouse stores, not only RFC 9562 ones: events from other OTel senders may carry ids without
  // the version/variant bits, and one such stored row must not make every read of its tenant fail.
  id: z.guid(),
  action: z.string(),
  actor: z.object({
    id: z.string(),
    type: z.string(),
    name: z.string().optional(),
    fields: jsonObjectSchema.optional(),
  }),
  targets: z.array(
    z.object({
      type: z.string(),
      id: z.string(),
      name: z.string().optional(),
      fields: jsonObjectSchema.optional(),
    }),
  ),
  tenant: z.string(),
  crud: z.enum(CRUD_VALUES),
  outcome: z.enum(OUTCOME_VALUES),
  outcomeReason: z.string().optional(),
  occurredAt: z.date(),
  version: z.number().int(),
  context: z.object({
    ip: z.string().optional(),
    userAgent: z.string().optional(),
    requestId: z.string().optional(),
  }),
  metadata: jsonValueSchema,
  changes: z.object({ before: jsonValueSchema.optional(), after: jsonValueSchema.optional() }).optional(),
  count: z.number().int().positive(),
  lastOccurredAt: z.date(),
}) satisfies z.ZodType<AuditEvent>;
