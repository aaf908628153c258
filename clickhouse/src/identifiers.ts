import { AuditStoreInputError } from './errors.js';

// Database, table and cluster names are spliced into SQL (ClickHouse cannot bind identifiers in DDL), so
// only a conservative shape is accepted.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The engine's own databases: tables created there are not kept (system) or cannot be (information_schema). */
// The engine's own databases (`_temporary_and_external_tables` holds temporary tables; access to it is refused).
const RESERVED_DATABASES = new Set(['system', 'information_schema', '_temporary_and_external_tables']);

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

/** A database name back-quoted: a plain identifier and none of the engine's own databases. */
export function quoteDatabase(value: string, field = 'database'): string {
  const quoted = quoteIdentifier(value, field);
  if (RESERVED_DATABASES.has(value.toLowerCase()))
    throw new AuditStoreInputError(
      field,
      `${JSON.stringify(value)} is a database of the engine itself (${[...RESERVED_DATABASES].join(', ')}): choose another name`,
    );
  return quoted;
}

/**
 * A cluster name for `ON CLUSTER`, as the server's config names it: real ones have hyphens (`all-replicated`), so
 * not the database's shape. Back-quoted, with only what cannot be written there refused (a backtick, a backslash,
 * control characters); a macro (`{cluster}`) is written as ClickHouse takes it, a string.
 */
export function quoteClusterName(value: string, field = 'cluster'): string {
  if (/^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) return `'${value}'`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (value === '' || value.length > 255 || /[`\\\x00-\x1f\x7f]/.test(value))
    throw new AuditStoreInputError(
      field,
      `${JSON.stringify(value.slice(0, 80))} is not a cluster name (1 to 255 characters, no backtick, backslash or ` +
        'control character; or a macro such as {cluster})',
    );
  return `\`${value}\``;
}
