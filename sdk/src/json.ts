import { types } from 'node:util';
import type { AuditIssue } from './errors.js';
import { isWellFormed, NOT_WELL_FORMED, toWellFormed } from './text.js';

/** A value JSON can carry. Metadata, fields and changes are JSON values. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A value made JSON-safe, with its JSON text (computed once: the log record carries the text). */
export interface SerializedJson {
  value: JsonValue;
  json: string;
  /** The value holds a wide integer (see `isWideInteger`): `json` writes it in exponent form. */
  wide?: true;
}

/**
 * An integer JavaScript prints as a plain decimal beyond the 64-bit range (1e20 → `100000000000000000000`):
 * valid JSON, but ClickHouse's JSON functions (simdjson) refuse such a literal, so the store would take the
 * whole value as malformed (targets dropped, metadata kept as a string). Written in exponent form instead.
 */
const isWideInteger = (n: number): boolean => Number.isInteger(n) && Math.abs(n) >= 2 ** 63;

// Node >= 21 (the SDK needs 22.15); not yet in TypeScript's lib.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** `toExponential()` without digits: the shortest text that reads back as the same double (`1e+20`). */
const exponentForm = (_key: string, v: unknown): unknown =>
  typeof v === 'number' && isWideInteger(v) ? rawJSON(v.toExponential()) : v;

/** `value` is JSON-safe (normalised): only plain data. */
function hasWideInteger(value: unknown): boolean {
  if (typeof value === 'number') return isWideInteger(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasWideInteger);
  for (const key in value)
    if (Object.hasOwn(value, key) && hasWideInteger((value as Record<string, unknown>)[key])) return true;
  return false;
}

/**
 * JSON text of a JSON-safe (normalised) value, wide integers in exponent form (the same double, a JSON number ClickHouse
 * reads). `wide` skips the search when the caller knows.
 */
export function stringifyJson(value: unknown, wide = hasWideInteger(value)): string {
  return wide ? JSON.stringify(value, exponentForm) : JSON.stringify(value);
}

/** Deepest nesting of metadata, fields and changes; deeper values are an issue (and cannot overflow the stack). */
export const MAX_JSON_DEPTH = 100;

type Path = (string | number)[];

/**
 * One walk over a value. `lenient` holds inside an Error: what would be an issue there becomes a placeholder
 * string instead, because an error is recorded from a catch block, where a refused event is lost with it.
 */
interface Walk {
  issues: AuditIssue[];
  seen: Set<object>;
  lenient: boolean;
}

/** What was thrown, as text; never throws itself (a thrown null-prototype object has no String form). */
function message(error: unknown): string {
  try {
    return types.isNativeError(error) || error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'an unprintable value was thrown';
  }
}

/** An issue at `path` (strict), or `placeholder` in its place (lenient, inside an Error). */
function fail(walk: Walk, path: Path, issue: string, placeholder: string): JsonValue {
  if (walk.lenient) return placeholder;
  walk.issues.push({ path, message: issue });
  return null;
}

const unreadable = (walk: Walk, path: Path, error: unknown) =>
  fail(walk, path, `could not be read: ${message(error)}`, `[Unreadable: ${message(error)}]`);

/** Sets `key` as an own property even when it is `__proto__` (plain assignment would set the prototype). */
function setOwn(out: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

const MAP_KEY_TYPES = new Set(['string', 'number', 'bigint', 'boolean']);

/** Errors of this realm and of others (vm contexts, Jest's sandbox), where `instanceof Error` is false. */
const isError = (value: object): value is Error => types.isNativeError(value) || value instanceof Error;

/**
 * Turns a value into one JSON carries without loss, or reports where it cannot:
 * Date → ISO string, BigInt → decimal string, Map → object, Set → array, boxed primitives → their value,
 * Error → { name, message, stack, cause, errors, own enumerable members }, RegExp → its source text (`/ab/g`),
 * bytes (Buffer, typed arrays, DataView, ArrayBuffer) → base64 text, `undefined` object members are absent
 * (as in JSON). NaN/Infinity, functions, symbols, cycles, lone
 * surrogates, colliding Map keys, nesting deeper than MAX_JSON_DEPTH and anything that throws while being
 * read (getters, toJSON, revoked proxies) are issues, never silent drops or raw exceptions; inside an Error
 * they become placeholder strings ("[Function f]", "[Circular]", "[Unreadable: …]").
 */
function toJsonValue(value: unknown, path: Path, walk: Walk, depth: number): JsonValue {
  switch (typeof value) {
    case 'string':
      if (isWellFormed(value)) return value;
      return walk.lenient ? toWellFormed(value) : fail(walk, path, NOT_WELL_FORMED, '');
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      return fail(walk, path, `${value} is not representable in JSON`, String(value));
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'function':
      return fail(
        walk,
        path,
        'a function is not representable in JSON',
        `[Function ${value.name || 'anonymous'}]`,
      );
    case 'symbol':
      return fail(walk, path, 'a symbol is not representable in JSON', `[${String(value)}]`);
  }
  if (value === null) return null;
  if (depth >= MAX_JSON_DEPTH)
    return fail(walk, path, `nested deeper than ${MAX_JSON_DEPTH} levels`, '[Too deep]');
  try {
    return objectToJson(value as object, path, walk, depth);
  } catch (error) {
    // A revoked proxy, a throwing getter or toJSON: say where, never let it escape record().
    return unreadable(walk, path, error);
  }
}

function objectToJson(object: object, path: Path, walk: Walk, depth: number): JsonValue {
  // Before any toJSON (an axios error's returns its config, functions and all) and before the cycle check:
  // an Error is walked leniently, its own cycles become "[Circular]".
  if (isError(object)) {
    if (walk.seen.has(object)) return '[Circular]';
    const inner: Walk = walk.lenient ? walk : { ...walk, lenient: true };
    inner.seen.add(object);
    try {
      return errorToJson(object, path, inner, depth);
    } finally {
      inner.seen.delete(object);
    }
  }
  if (types.isDate(object)) {
    const time = Date.prototype.getTime.call(object);
    if (Number.isNaN(time)) return fail(walk, path, 'invalid Date', 'Invalid Date');
    return Date.prototype.toISOString.call(object);
  }
  // Boxed primitives (new Boolean(false), new String('ab')): their value, as JSON.stringify does.
  if (types.isBoxedPrimitive(object)) return toJsonValue(object.valueOf(), path, walk, depth);
  // Bytes as base64 text: their own keys would give {"0":1,...} (a Buffer's toJSON a list of numbers).
  if (ArrayBuffer.isView(object))
    return Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64');
  if (types.isAnyArrayBuffer(object)) return Buffer.from(object).toString('base64');
  // Its own keys are none (flags, source and lastIndex are not enumerable): {} would say nothing.
  if (types.isRegExp(object)) return RegExp.prototype.toString.call(object);
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    let replaced: unknown;
    try {
      replaced = toJSON.call(object);
    } catch (error) {
      return fail(
        walk,
        path,
        `toJSON() threw: ${message(error)}`,
        `[Unreadable: toJSON() threw: ${message(error)}]`,
      );
    }
    return toJsonValue(replaced, path, walk, depth + 1);
  }
  if (walk.seen.has(object)) return fail(walk, path, 'circular reference', '[Circular]');
  walk.seen.add(object);
  try {
    if (Array.isArray(object)) {
      const out: JsonValue[] = [];
      for (let i = 0; i < object.length; i++) out.push(toJsonValue(object[i], [...path, i], walk, depth + 1));
      return out;
    }
    if (types.isSet(object))
      return [...(object as Set<unknown>)].map((v, i) => toJsonValue(v, [...path, i], walk, depth + 1));
    if (types.isMap(object)) return mapToJson(object as Map<unknown, unknown>, path, walk, depth);
    const out: JsonObject = {};
    ownMembers(out, object, path, walk, depth);
    return out;
  } finally {
    walk.seen.delete(object);
  }
}

function mapToJson(map: Map<unknown, unknown>, path: Path, walk: Walk, depth: number): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of map) {
    let key = safeString(k);
    if (!MAP_KEY_TYPES.has(typeof k) && !walk.lenient) {
      walk.issues.push({
        path: [...path, key],
        message: `a ${typeof k} Map key has no JSON form (use string, number, bigint or boolean keys)`,
      });
      continue;
    }
    if (Object.hasOwn(out, key)) {
      if (!walk.lenient) {
        walk.issues.push({ path: [...path, key], message: `two Map keys both become the JSON key "${key}"` });
        continue;
      }
      // Inside an Error nothing is refused or lost: the later member gets a numbered key.
      let n = 2;
      while (Object.hasOwn(out, `${key} [${n}]`)) n++;
      key = `${key} [${n}]`;
    }
    if (v !== undefined) member(out, key, v, path, walk, depth);
  }
  return out;
}

/** The object's own enumerable string-keyed members not already in `out`; undefined ones are left out. */
function ownMembers(out: JsonObject, object: object, path: Path, walk: Walk, depth: number): void {
  for (const key of Object.keys(object)) {
    if (Object.hasOwn(out, key)) continue;
    let v: unknown;
    try {
      v = (object as Record<string, unknown>)[key];
    } catch (error) {
      const placeholder = unreadable(walk, [...path, key], error);
      if (walk.lenient) setOwn(out, key, placeholder);
      continue;
    }
    if (v !== undefined) member(out, key, v, path, walk, depth);
  }
}

/** Reads `object[key]`; a getter that throws gives its placeholder (only used inside an Error: lenient). */
function read(object: object, key: string): { value: unknown } | { error: unknown } {
  try {
    return { value: (object as Record<string, unknown>)[key] };
  } catch (error) {
    return { error };
  }
}

/**
 * An Error's own enumerable members that are plain values (code, status, errno, syscall…), dates or errors. The objects
 * an error carries (an HTTP client's config, request and response) hold request headers and bodies: credentials
 * and personal data an audit log would keep for years, so they are left out (the caller puts what it needs in
 * metadata itself); functions too.
 */
/**
 * A cause or an AggregateError's item as an error keeps it: a plain value, date or error as it is, another
 * object as "[Object]" (the same reason as errorMembers: `cause: { request }` carries headers too).
 */
function errorPart(value: unknown): unknown {
  return typeof value === 'object' && value !== null && !isError(value) && !types.isDate(value)
    ? '[Object]'
    : value;
}

function errorMembers(out: JsonObject, error: Error, path: Path, walk: Walk, depth: number): void {
  for (const key of Object.keys(error)) {
    if (Object.hasOwn(out, key)) continue;
    const got = read(error, key);
    if ('error' in got) {
      setOwn(out, key, unreadable(walk, [...path, key], got.error));
      continue;
    }
    const v = got.value;
    if (v === undefined || typeof v === 'function') continue;
    if (typeof v === 'object' && v !== null && !isError(v) && !types.isDate(v)) continue;
    member(out, key, v, path, walk, depth);
  }
}

/**
 * An Error's message, name and stack are not enumerable own keys (an Error would become {}): they are taken
 * explicitly, with its cause and an AggregateError's errors (normalised), then its own enumerable members that
 * are plain values or errors (errorMembers). Its toJSON is not called. Walked leniently: nothing inside refuses
 * the event.
 */
function errorToJson(error: Error, path: Path, walk: Walk, depth: number): JsonObject {
  const out: JsonObject = {};
  for (const key of ['name', 'message', 'stack', 'cause', 'errors'] as const) {
    const got = read(error, key);
    if ('error' in got) {
      setOwn(out, key, unreadable(walk, [...path, key], got.error));
      continue;
    }
    const v = got.value;
    if (v === undefined) continue;
    if (key === 'stack' && typeof v !== 'string') continue;
    if (key === 'errors' && !Array.isArray(v)) continue;
    // name and message as text, as Error.prototype.toString shows them (a symbol name would throw there).
    const text = key === 'name' || key === 'message';
    let kept: unknown = v;
    try {
      if (key === 'cause') kept = errorPart(v);
      else if (key === 'errors') kept = Array.from(v as unknown[], errorPart);
    } catch (thrown) {
      setOwn(out, key, unreadable(walk, [...path, key], thrown));
      continue;
    }
    member(out, key, text && typeof v !== 'symbol' ? safeString(v) : kept, path, walk, depth);
  }
  errorMembers(out, error, path, walk, depth);
  return out;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch (error) {
    return `[Unreadable: ${message(error)}]`;
  }
}

function member(out: JsonObject, key: string, value: unknown, path: Path, walk: Walk, depth: number): void {
  const at = [...path, key];
  let name = key;
  if (!isWellFormed(key)) {
    if (walk.lenient) name = toWellFormed(key);
    else walk.issues.push({ path: at, message: `key ${NOT_WELL_FORMED}` });
  }
  setOwn(out, name, toJsonValue(value, at, walk, depth + 1));
}

/** Deeper than this, the precise path takes over (it also finds cycles, which would recurse forever here). */
const MAX_FAST_DEPTH = 64;

/**
 * Whether `JSON.stringify` keeps `value` exactly: only strings, finite numbers (not wide integers), booleans, null, arrays and
 * plain objects with no undefined members. Cheaper than a replacer, which takes JSON.stringify off its fast path.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return isWellFormed(value);
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !isWideInteger(value);
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
  const normalised = toJsonValue(value, path, { issues, seen: new Set(), lenient: false }, 0);
  if (issues.length > before) return { value: normalised, json: 'null' };
  const wide = hasWideInteger(normalised);
  return { value: normalised, json: stringifyJson(normalised, wide), ...(wide && { wide }) };
}
