// `pcommon.Value.AsString()` of the OpenTelemetry Collector (pdata), which the ClickHouse exporter applies to the
// body and to every attribute value, reproduced here from its documented behavior: maps and arrays go through Go's
// encoding/json (no HTML escaping), so the JSON text here follows Go's rules, not JSON.stringify's.
import type { OtlpKeyValue, OtlpValue } from './otlp-model.js';

/** The text the exporter stores for a value. */
export function asString(value: OtlpValue): string {
  switch (value.kind) {
    case 'empty':
      return '';
    case 'string':
      return value.value;
    case 'bool':
      return value.value ? 'true' : 'false';
    case 'int':
      return value.value;
    case 'double':
      return float64AsString(value.value);
    case 'bytes':
      return Buffer.from(value.value.buffer, value.value.byteOffset, value.value.byteLength).toString(
        'base64',
      );
    case 'array':
    case 'kvlist':
      return marshalJson(value);
  }
}

/**
 * pdata `float64AsString`: ES6 number formatting with Go's spelling of -0; the special values become the error
 * text of encoding/json, as pdata v1.55.0 (pcommon/value.go) writes them: `json: unsupported value: NaN`.
 */
function float64AsString(f: number): string {
  if (Number.isNaN(f)) return `${GO_JSON_UNSUPPORTED}NaN`;
  if (f === Number.POSITIVE_INFINITY) return `${GO_JSON_UNSUPPORTED}+Inf`;
  if (f === Number.NEGATIVE_INFINITY) return `${GO_JSON_UNSUPPORTED}-Inf`;
  return goFloat(f);
}

const GO_JSON_UNSUPPORTED = 'json: unsupported value: ';

/**
 * Go's strconv shortest formatting with encoding/json's cutoffs (exponent below 1e-6 and from 1e21) equals
 * JavaScript's Number#toString (both are "ES6 number to string"), except that Go keeps the sign of -0.
 */
function goFloat(f: number): string {
  if (f === 0 && Object.is(f, -0)) return '-0';
  return String(f);
}

/** Thrown inside marshalJson when Go's encoder would fail (NaN or ±Inf nested in a map or array). */
class UnsupportedJsonValue extends Error {}

/**
 * `marshalJSONNoHTMLEscape(v.AsRaw())`: Go's encoder fails on NaN/±Inf and AsString then returns the empty
 * buffer, i.e. ''. Maps: keys sorted by bytes, the last of duplicate keys wins (Go map semantics).
 */
function marshalJson(value: OtlpValue): string {
  try {
    return encode(value);
  } catch (error) {
    if (error instanceof UnsupportedJsonValue) return '';
    throw error;
  }
}

function encode(value: OtlpValue): string {
  switch (value.kind) {
    case 'empty':
      return 'null';
    case 'string':
      return goJsonString(value.value);
    case 'bool':
      return value.value ? 'true' : 'false';
    case 'int':
      return value.value;
    case 'double':
      if (!Number.isFinite(value.value)) throw new UnsupportedJsonValue();
      return goFloat(value.value);
    case 'bytes':
      // encoding/json writes []byte as a base64 string.
      return `"${asString(value)}"`;
    case 'array':
      return `[${value.values.map(encode).join(',')}]`;
    case 'kvlist':
      return encodeMap(value.values);
  }
}

function encodeMap(values: readonly OtlpKeyValue[]): string {
  const byKey = new Map<string, OtlpValue>();
  for (const kv of values) byKey.set(kv.key, kv.value);
  const keys = [...byKey.keys()].sort(compareUtf8);
  const parts: string[] = [];
  for (const key of keys) parts.push(`${goJsonString(key)}:${encode(byKey.get(key) as OtlpValue)}`);
  return `{${parts.join(',')}}`;
}

const HAS_LINE_SEPARATOR = /[\u2028\u2029]/;
const LINE_SEPARATORS = /[\u2028\u2029]/g;

/**
 * A Go encoding/json string with SetEscapeHTML(false): like JSON.stringify (same short escapes \b \f \n \r \t,
 * other control characters as \u00xx) except that Go also escapes U+2028 and U+2029. Input strings are well
 * formed (the decoders reject invalid UTF-8 and replace lone surrogates), so no other difference applies.
 */
export function goJsonString(s: string): string {
  const json = JSON.stringify(s);
  return HAS_LINE_SEPARATOR.test(json)
    ? json.replace(LINE_SEPARATORS, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'))
    : json;
}

/**
 * Orders strings by their UTF-8 bytes (= code points), as Go's sort of map keys does. JavaScript's default
 * order compares UTF-16 units, which differs when a character above U+FFFF meets one in U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate && (x >= 0xe000 || y >= 0xe000)) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
