// Telling "the store's server is down" (retry later) from "the store refused this" in an error from the store.

// Node's codes for a server that cannot be reached or dropped the connection: the store is down, not broken, so
// the client gets 503 + Retry-After and may retry. Any other store failure is a 500.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const CLIENT_TIMEOUT_MESSAGE = 'Timeout error.';

/** Whether `error` (or an error in its `cause` chain) says the store's server could not be reached. */
export function isStoreUnreachable(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    // @clickhouse/client reports its own request timeout (a hung or blackholed server) without a code.
    if (current.message === CLIENT_TIMEOUT_MESSAGE) return true;
    current = current.cause;
  }
  return false;
}
