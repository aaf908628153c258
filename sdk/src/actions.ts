// Typed per-action metadata: a map from action name to the zod schema of its metadata.
import type { z } from 'zod';
import { ACTION_PATTERN, MAX_REFERENCE_LENGTH } from './conventions.js';
import { AuditValidationError } from './errors.js';
import type { AuditEventInput } from './event.js';

/** Action name → schema of that action's metadata: any zod 4 schema, `zod/mini` ones included (zod's core type). */
export type ActionSchemas = Record<string, z.core.$ZodType>;

/** Actions a logger accepts: any name when it has no schemas, else exactly the defined ones. */
export type ActionName<S extends ActionSchemas> = [keyof S] extends [never] ? string : keyof S & string;

/**
 * What `record()` takes for action `A`: split per action, so an action typed as a union of names takes the
 * metadata of whichever it is (as one object type, any one action's metadata would have passed for all).
 */
export type RecordInput<S extends ActionSchemas, A extends ActionName<S>> = {
  [K in A]: AuditEventInput<K, MetadataOf<S, K>>;
}[A];

/** The metadata type `record()` takes for action `A` (the schema's input type). */
export type MetadataOf<S extends ActionSchemas, A extends string> = A extends keyof S
  ? z.input<S[A]>
  : unknown;

/** A zod 4 schema, classic or mini (both carry `_zod`); a zod 3 schema has `safeParse` but not this. */
const isSchema = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { _zod?: { run?: unknown } })._zod?.run === 'function';

/**
 * Declares the actions of a service and the schema of each one's metadata. Pass the result to
 * `createAuditLogger({ actions })`: `record()` is then type-checked per action, and validated at run time.
 * Throws `AuditValidationError` ("invalid audit actions") naming each action whose name breaks the naming
 * convention or whose value is not a zod schema (JavaScript callers: the types catch it in TypeScript).
 */
export function defineAuditActions<const S extends ActionSchemas>(schemas: S): S {
  if (typeof schemas !== 'object' || schemas === null || Array.isArray(schemas))
    throw new AuditValidationError(
      [{ path: [], message: 'must be an object of action name -> zod schema of its metadata' }],
      undefined,
      'audit actions',
    );
  const issues = Object.entries(schemas).flatMap(([name, schema]) => [
    ...(name.length <= MAX_REFERENCE_LENGTH
      ? []
      : [{ path: [name], message: `action names are at most ${MAX_REFERENCE_LENGTH} characters` }]),
    ...(ACTION_PATTERN.test(name)
      ? []
      : [
          {
            path: [name],
            message: 'action names are lowercase dot-separated segments, e.g. billing.invoice.paid',
          },
        ]),
    ...(isSchema(schema)
      ? []
      : [
          {
            path: [name],
            message: `must be a zod 4 schema of the metadata (z.object({...}), or z.unknown() for any), got ${schema === null ? 'null' : typeof schema}`,
          },
        ]),
  ]);
  if (issues.length > 0) throw new AuditValidationError(issues, undefined, 'audit actions');
  return schemas;
}
