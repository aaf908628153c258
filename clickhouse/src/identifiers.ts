import { AuditStoreInputError } from './errors.js';

// Database, table and cluster names are spliced into SQL (ClickHouse cannot bind identifiers in DDL), so
// only a conservative shape is accepted.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Returns the identifier back-quoted, or throws when it is not a plain name. */
export function quoteIdentifier(value: string, field: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new AuditStoreInputError(
      field,
      `${JSON.stringify(value.slice(0, 80))} is not a valid identifier (letters, digits, _; at most 64; not starting with a digit)`,
    );
  }
  return `\`${value}\``;
}
