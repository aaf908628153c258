import type { AuditIssue } from './errors.js';
import { isWellFormed, NOT_WELL_FORMED } from './text.js';

/** A value JSON can carry. Metadata, fields and changes are JSON values. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A value made JSON-safe, with its JSON text (computed once: the log record carries the text). */
export interface SerializedJson {
  value: JsonValue;
  json: string;
}

/** Deepest nesting of metadata, fields and changes; deeper values are an issue (and cannot overflow the stack). */
export const MAX_JSON_DEPTH = 100;

type Path = (string | number)[];

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Sets `key` as an own property even when it is `__proto__` (plain assignment would set the prototype). */
function setOwn(out: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

const MAP_KEY_TYPES = new Set(['string', 'number', 'bigint', 'boolean']);

/**
 * Turns a value into one JSON carries without loss, or reports where it cannot:
 * Date → ISO string, BigInt → decimal string, Map → object, Set → array, boxed primitives → their value,
 * Error → { name, message, stack, cause, errors, own enumerable members }, RegExp → its source text (`/ab/g`),
 * bytes (Buffer, typed arrays, DataView, ArrayBuffer) → base64 text, `undefined` object members are absent
 * (as in JSON). NaN/Infinity, functions, symbols, cycles, lone
 * surrogates, colliding Map keys, nesting deeper than MAX_JSON_DEPTH and anything that throws while being
 * read (getters, toJSON, revoked proxies) are issues, never silent drops or raw exceptions.
 */
export function toJsonValue(
  value: unknown,
  path: Path,
  issues: AuditIssue[],
  seen: Set<object> = new Set(),
  depth = 0,
): JsonValue {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) issues.push({ path, message: NOT_WELL_FORMED });
      return value;
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
  if (depth >= MAX_JSON_DEPTH) {
    issues.push({ path, message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
    return null;
  }
  try {
    return objectToJson(value as object, path, issues, seen, depth);
  } catch (error) {
    // A revoked proxy, a throwing getter or toJSON: say where, never let it escape record().
    issues.push({ path, message: `could not be read: ${message(error)}` });
    return null;
  }
}

function objectToJson(
  object: object,
  path: Path,
  issues: AuditIssue[],
  seen: Set<object>,
  depth: number,
): JsonValue {
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) {
      issues.push({ path, message: 'invalid Date' });
      return null;
    }
    return object.toISOString();
  }
  // Boxed primitives (new Boolean(false), new String('ab')): their value, as JSON.stringify does.
  if (
    object instanceof Boolean ||
    object instanceof Number ||
    object instanceof String ||
    object instanceof BigInt
  )
    return toJsonValue(object.valueOf(), path, issues, seen, depth);
  // Bytes as base64 text: their own keys would give {"0":1,...} (a Buffer's toJSON a list of numbers).
  if (ArrayBuffer.isView(object))
    return Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64');
  if (object instanceof ArrayBuffer || object instanceof SharedArrayBuffer)
    return Buffer.from(object).toString('base64');
  // Its own keys are none (flags, source and lastIndex are not enumerable): {} would say nothing.
  if (object instanceof RegExp) return String(object);
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    let replaced: unknown;
    try {
      replaced = toJSON.call(object);
    } catch (error) {
      issues.push({ path, message: `toJSON() threw: ${message(error)}` });
      return null;
    }
    return toJsonValue(replaced, path, issues, seen, depth + 1);
  }
  if (seen.has(object)) {
    issues.push({ path, message: 'circular reference' });
    return null;
  }
  seen.add(object);
  try {
    if (object instanceof Error) return errorToJson(object, path, issues, seen, depth);
    if (Array.isArray(object)) {
      const out: JsonValue[] = [];
      for (let i = 0; i < object.length; i++)
        out.push(toJsonValue(object[i], [...path, i], issues, seen, depth + 1));
      return out;
    }
    if (object instanceof Set)
      return [...object].map((v, i) => toJsonValue(v, [...path, i], issues, seen, depth + 1));
    const out: JsonObject = {};
    if (object instanceof Map) {
      for (const [k, v] of object) {
        const key = String(k);
        if (!MAP_KEY_TYPES.has(typeof k)) {
          issues.push({
            path: [...path, key],
            message: `a ${typeof k} Map key has no JSON form (use string, number, bigint or boolean keys)`,
          });
          continue;
        }
        if (Object.hasOwn(out, key)) {
          issues.push({ path: [...path, key], message: `two Map keys both become the JSON key "${key}"` });
          continue;
        }
        if (v !== undefined) member(out, key, v, path, issues, seen, depth);
      }
      return out;
    }
    for (const key of Object.keys(object)) {
      let v: unknown;
      try {
        v = (object as Record<string, unknown>)[key];
      } catch (error) {
        issues.push({ path: [...path, key], message: `could not be read: ${message(error)}` });
        continue;
      }
      if (v !== undefined) member(out, key, v, path, issues, seen, depth);
    }
    return out;
  } finally {
    seen.delete(object);
  }
}

/**
 * An Error's message, name and stack are not enumerable own keys (an Error would become {}): they are taken
 * explicitly, with its cause and an AggregateError's errors (normalised), then its own enumerable members
 * (code, status...).
 */
function errorToJson(
  error: Error,
  path: Path,
  issues: AuditIssue[],
  seen: Set<object>,
  depth: number,
): JsonObject {
  const out: JsonObject = {};
  member(out, 'name', String(error.name), path, issues, seen, depth);
  member(out, 'message', String(error.message), path, issues, seen, depth);
  if (typeof error.stack === 'string') member(out, 'stack', error.stack, path, issues, seen, depth);
  if (error.cause !== undefined) member(out, 'cause', error.cause, path, issues, seen, depth);
  const errors: unknown = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) member(out, 'errors', errors, path, issues, seen, depth);
  for (const key of Object.keys(error)) {
    if (Object.hasOwn(out, key)) continue;
    let v: unknown;
    try {
      v = (error as unknown as Record<string, unknown>)[key];
    } catch (thrown) {
      issues.push({ path: [...path, key], message: `could not be read: ${message(thrown)}` });
      continue;
    }
    if (v !== undefined) member(out, key, v, path, issues, seen, depth);
  }
  return out;
}

function member(
  out: JsonObject,
  key: string,
  value: unknown,
  path: Path,
  issues: AuditIssue[],
  seen: Set<object>,
  depth: number,
): void {
  const at = [...path, key];
  if (!isWellFormed(key)) issues.push({ path: at, message: `key ${NOT_WELL_FORMED}` });
  setOwn(out, key, toJsonValue(value, at, issues, seen, depth + 1));
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
      return isWellFormed(value);
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
        if (!isWellFormed(key)) return false;
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
  if (typeof value === 'string' && isWellFormed(value)) return { value, json: JSON.stringify(value) };
  let plain = false;
  try {
    plain = isPlainJson(value, 0);
  } catch {
    // A getter or proxy threw: the precise path below reports where.
  }
  if (plain) return { value: value as JsonValue, json: JSON.stringify(value) };
  const before = issues.length;
  const normalised = toJsonValue(value, path, issues);
  return { value: normalised, json: issues.length > before ? 'null' : JSON.stringify(normalised) };
}
