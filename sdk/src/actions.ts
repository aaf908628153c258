// Typed per-action metadata: a map from action name to the zod schema of its metadata.
import type { z } from 'zod';
import { ACTION_PATTERN } from './conventions.js';
import { AuditValidationError } from './errors.js';

/** Action name → schema of that action's metadata. */
export type ActionSchemas = Record<string, z.ZodType>;

/** Actions a logger accepts: any name when it has no schemas, else exactly the defined ones. */
export type ActionName<S extends ActionSchemas> = [keyof S] extends [never] ? string : keyof S & string;

/** The metadata type `record()` takes for action `A` (the schema's input type). */
export type MetadataOf<S extends ActionSchemas, A extends string> = A extends keyof S
  ? z.input<S[A]>
  : unknown;

/**
 * Declares the actions of a service and the schema of each one's metadata. Pass the result to
 * `createAuditLogger({ actions })`: `record()` is then type-checked per action, and validated at run time.
 * Throws `AuditValidationError` when an action name breaks the naming convention.
 */
export function defineAuditActions<const S extends ActionSchemas>(schemas: S): S {
  const issues = Object.keys(schemas)
    .filter((name) => !ACTION_PATTERN.test(name))
    .map((name) => ({
      path: [name],
      message: 'action names are lowercase dot-separated segments, e.g. billing.invoice.paid',
    }));
  if (issues.length > 0) throw new AuditValidationError(issues);
  return schemas;
}
