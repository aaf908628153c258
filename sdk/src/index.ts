export * from './conventions.js';
export * from './errors.js';
export * from './event.js';
export type { JsonObject, JsonValue } from './json.js';
