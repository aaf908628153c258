import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  ACTION_PATTERN,
  CRUD_VALUES,
  type Crud,
  DEFAULT_ACTOR,
  DEFAULT_MAX_EVENT_BYTES,
  inferCrud,
  OUTCOME_VALUES,
  type Outcome,
  STRICT_ACTION_PATTERN,
} from './conventions.js';
import { AuditEventTooLargeError, type AuditIssue, AuditValidationError } from './errors.js';
import { type JsonObject, type JsonValue, toJsonValue } from './json.js';

/** Who did it. */
export interface AuditActor {
  id: string;
  /** e.g. `user`, `api_key`, `service`, `system`. */
  type: string;
  name?: string;
  fields?: JsonObject;
}

/** What it was done to. */
export interface AuditTarget {
  type: string;
  id: string;
  name?: string;
  fields?: JsonObject;
}

/** Where the request came from. */
export interface AuditContext {
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

export interface AuditChanges {
  before?: JsonValue;
  after?: JsonValue;
}

/** What a caller passes to `record()`. Only `action` is required (and `tenant`, unless the logger has one). */
export interface AuditEventInput<A extends string = string, M = unknown> {
  /** UUID; generated (UUIDv7) when absent. A caller-supplied id is the idempotency key. */
  id?: string;
  action: A;
  actor?: AuditActor;
  targets?: readonly AuditTarget[];
  tenant?: string;
  crud?: Crud;
  outcome?: Outcome;
  /** Why it failed (or any note on the outcome). */
  outcomeReason?: string;
  /** When it happened: Date, ISO 8601 string or epoch milliseconds. Default: now. */
  occurredAt?: Date | string | number;
  /** Metadata schema version for this action. Default 1. */
  version?: number;
  context?: AuditContext;
  metadata?: M;
  changes?: AuditChanges;
}

/** A validated, normalised event: every default applied, every value JSON-safe. */
export interface AuditEvent<A extends string = string, M extends JsonValue = JsonValue> {
  id: string;
  action: A;
  actor: AuditActor;
  targets: AuditTarget[];
  tenant: string;
  crud: Crud;
  outcome: Outcome;
  outcomeReason?: string;
  occurredAt: Date;
  version: number;
  context: AuditContext;
  metadata: M;
  changes?: AuditChanges;
  /** Occurrences merged into this event by session coalescing (1 when not coalesced). */
  count: number;
  /** Last merged occurrence (equals occurredAt when not coalesced). */
  lastOccurredAt: Date;
}

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const jsonObject = z.record(z.string(), z.unknown());

const actorSchema = z.object({
  id: nonEmpty,
  type: nonEmpty,
  name: z.string().optional(),
  fields: jsonObject.optional(),
});

const targetSchema = z.object({
  type: nonEmpty,
  id: nonEmpty,
  name: z.string().optional(),
  fields: jsonObject.optional(),
});

const timeSchema = z.union([z.date(), z.iso.datetime({ offset: true }), z.number().int().nonnegative()]);

/** Shape check of the input; JSON normalisation and the per-action metadata schema follow. */
export const auditEventInputSchema = z.object({
  id: z.uuid().optional(),
  action: z
    .string()
    .regex(ACTION_PATTERN, 'must be lowercase dot-separated segments, e.g. billing.invoice.paid'),
  actor: actorSchema.optional(),
  targets: z.array(targetSchema).optional(),
  tenant: nonEmpty.optional(),
  crud: z.enum(CRUD_VALUES).optional(),
  outcome: z.enum(OUTCOME_VALUES).optional(),
  outcomeReason: z.string().optional(),
  occurredAt: timeSchema.optional(),
  version: z.number().int().positive().optional(),
  context: z
    .object({
      ip: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }).optional(),
      userAgent: z.string().optional(),
      requestId: z.string().optional(),
    })
    .optional(),
  metadata: z.unknown().optional(),
  changes: z.object({ before: z.unknown().optional(), after: z.unknown().optional() }).optional(),
});

export interface ParseOptions {
  /** Require exactly `<service>.<resource>.<verb>`. Default false. */
  strictActions?: boolean;
  /** Tenant for events that name none. */
  defaultTenant?: string;
  /** Maximum serialized size of metadata + changes + actor/target fields. Default 1 MiB. */
  maxEventBytes?: number;
  /** Schema the (normalised) metadata must satisfy. */
  metadataSchema?: z.ZodType;
  /** Clock, for tests. */
  now?: () => Date;
}

function zodIssues(error: z.ZodError, prefix: (string | number)[] = []): AuditIssue[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: i.message,
  }));
}

function toDate(value: Date | string | number): Date {
  return value instanceof Date ? new Date(value.getTime()) : new Date(value);
}

/**
 * Validates and normalises one event. Throws `AuditValidationError` listing every issue with its path,
 * or `AuditEventTooLargeError` when the serialized event is over the limit.
 */
export function parseAuditEvent(input: unknown, options: ParseOptions = {}): AuditEvent {
  const action =
    typeof input === 'object' && input !== null && typeof (input as { action?: unknown }).action === 'string'
      ? (input as { action: string }).action
      : undefined;
  const shape = auditEventInputSchema.safeParse(input);
  if (!shape.success) throw new AuditValidationError(zodIssues(shape.error), action);
  const raw = shape.data;
  const issues: AuditIssue[] = [];

  if (options.strictActions && !STRICT_ACTION_PATTERN.test(raw.action)) {
    issues.push({
      path: ['action'],
      message: 'must be <service>.<resource>.<verb_past_tense> (strict mode)',
    });
  }
  const tenant = raw.tenant ?? options.defaultTenant;
  if (tenant === undefined || tenant.trim() === '') {
    issues.push({ path: ['tenant'], message: 'required (or set defaultTenant on the logger)' });
  }
  const occurredAt = raw.occurredAt === undefined ? (options.now?.() ?? new Date()) : toDate(raw.occurredAt);
  if (Number.isNaN(occurredAt.getTime())) issues.push({ path: ['occurredAt'], message: 'invalid date' });

  let metadata = toJsonValue(raw.metadata ?? null, ['metadata'], issues);
  if (options.metadataSchema) {
    const checked = options.metadataSchema.safeParse(metadata);
    if (checked.success) metadata = toJsonValue(checked.data, ['metadata'], issues);
    else issues.push(...zodIssues(checked.error, ['metadata']));
  }
  const fields = (value: Record<string, unknown> | undefined, path: (string | number)[]) =>
    value === undefined ? undefined : (toJsonValue(value, path, issues) as JsonObject);

  const actor: AuditActor = raw.actor
    ? {
        id: raw.actor.id,
        type: raw.actor.type,
        ...(raw.actor.name !== undefined && { name: raw.actor.name }),
        ...(raw.actor.fields !== undefined && { fields: fields(raw.actor.fields, ['actor', 'fields']) }),
      }
    : { ...DEFAULT_ACTOR };
  const targets: AuditTarget[] = (raw.targets ?? []).map((t, i) => ({
    type: t.type,
    id: t.id,
    ...(t.name !== undefined && { name: t.name }),
    ...(t.fields !== undefined && { fields: fields(t.fields, ['targets', i, 'fields']) }),
  }));
  const changes: AuditChanges | undefined = raw.changes && {
    ...(raw.changes.before !== undefined && {
      before: toJsonValue(raw.changes.before, ['changes', 'before'], issues),
    }),
    ...(raw.changes.after !== undefined && {
      after: toJsonValue(raw.changes.after, ['changes', 'after'], issues),
    }),
  };

  if (issues.length > 0) throw new AuditValidationError(issues, raw.action);

  const limit = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const size = Buffer.byteLength(JSON.stringify([metadata, changes ?? null, actor, targets]));
  if (size > limit) throw new AuditEventTooLargeError(size, limit, raw.action);

  const context: AuditContext = {};
  if (raw.context?.ip !== undefined) context.ip = raw.context.ip;
  if (raw.context?.userAgent !== undefined) context.userAgent = raw.context.userAgent;
  if (raw.context?.requestId !== undefined) context.requestId = raw.context.requestId;

  return {
    id: raw.id ?? uuidv7(),
    action: raw.action,
    actor,
    targets,
    tenant: tenant as string,
    crud: raw.crud ?? inferCrud(raw.action),
    outcome: raw.outcome ?? 'success',
    ...(raw.outcomeReason !== undefined && { outcomeReason: raw.outcomeReason }),
    occurredAt,
    version: raw.version ?? 1,
    context,
    metadata,
    ...(changes !== undefined && { changes }),
    count: 1,
    lastOccurredAt: occurredAt,
  };
}

const jsonValueSchema = z.json();
const jsonObjectSchema = z.record(z.string(), jsonValueSchema);

/** Schema of a normalised `AuditEvent`: what readers (the ClickHouse store) parse stored events back with. */
export const auditEventSchema = z.object({
  id: z.uuid(),
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
