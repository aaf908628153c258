import type { AuditIssue } from './errors.js';

/** A value JSON can carry. Metadata, fields and changes are JSON values. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A value made JSON-safe, with its JSON text (computed once: the log record carries the text). */
export interface SerializedJson {
  value: JsonValue;
  json: string;
}

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

/** Deeper than this, the precise path takes over (it also finds cycles, which would recurse forever here). */
const MAX_FAST_DEPTH = 64;

/**
 * Whether `JSON.stringify` keeps `value` exactly: only strings, finite numbers, booleans, null, arrays and
 * plain objects with no undefined members. Cheaper than a replacer, which takes JSON.stringify off its fast path.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_FAST_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * JSON text and JSON-safe value of `value`. Plain JSON data (the common case) costs a type walk and one `JSON.stringify`; anything
 * else (Date, BigInt, Map, class instances, undefined members, NaN, cycles) goes through `toJsonValue`, which
 * normalises it or reports each problem with its path in `issues`.
 */
export function serializeJson(
  value: unknown,
  path: (string | number)[],
  issues: AuditIssue[],
): SerializedJson {
  if (value === null || value === undefined) return { value: null, json: 'null' };
  if (typeof value === 'string') return { value, json: JSON.stringify(value) };
  if (isPlainJson(value, 0)) return { value: value as JsonValue, json: JSON.stringify(value) };
  const before = issues.length;
  const normalised = toJsonValue(value, path, issues);
  return { value: normalised, json: issues.length > before ? 'null' : JSON.stringify(normalised) };
}
