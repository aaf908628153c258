import type { AuditIssue } from './errors.js';

/** A value JSON can carry. Metadata, fields and changes are JSON values. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Turns a value into one JSON carries without loss, or reports where it cannot:
 * Date → ISO string, BigInt → decimal string, Map → object, Set → array, `undefined` object members are
 * absent (as in JSON). NaN/Infinity, functions, symbols and cycles are issues, never silent drops.
 */
export function toJsonValue(
  value: unknown,
  path: (string | number)[],
  issues: AuditIssue[],
  seen: Set<object> = new Set(),
): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      issues.push({ path, message: `${value} is not representable in JSON` });
      return null;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'function':
    case 'symbol':
      issues.push({ path, message: `a ${typeof value} is not representable in JSON` });
      return null;
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) {
      issues.push({ path, message: 'invalid Date' });
      return null;
    }
    return object.toISOString();
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return toJsonValue(toJSON.call(object), path, issues, seen);
  if (seen.has(object)) {
    issues.push({ path, message: 'circular reference' });
    return null;
  }
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((v, i) => toJsonValue(v, [...path, i], issues, seen));
    if (object instanceof Set) return [...object].map((v, i) => toJsonValue(v, [...path, i], issues, seen));
    const entries: [string, unknown][] =
      object instanceof Map
        ? [...object].map(([k, v]) => [String(k), v])
        : Object.entries(object as Record<string, unknown>);
    const out: JsonObject = {};
    for (const [k, v] of entries) {
      if (v === undefined) continue;
      out[k] = toJsonValue(v, [...path, k], issues, seen);
    }
    return out;
  } finally {
    seen.delete(object);
  }
}
