// What a failed call on the store's server means for the caller: down (retry later), refused credentials, or
// not ClickHouse at all. The client's own errors say none of that (a bare "connect ECONNREFUSED", "Timeout
// error.", an HTML page as a message).
import { ClickHouseError } from '@clickhouse/client';
import { AuditStoreError, StoreAuthError, StoreUnreachableError } from './errors.js';

// Node's codes for a server that cannot be reached or dropped the connection.
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

// @clickhouse/client reports its own request timeout (a hung or blackholed server) without a code.
const CLIENT_TIMEOUT_MESSAGE = 'Timeout error.';

// A proxy in front of a server that is down answers with a page of its own (nginx, HAProxy, envoy): the server is
// down, not another service.
const GATEWAY_PAGE =
  /\b50[234] (?:Bad Gateway|Service (?:Temporarily )?Unavailable|Gateway Time-?out)\b|upstream connect error|no healthy upstream/i;

// ClickHouse's AUTHENTICATION_FAILED and UNKNOWN_USER.
const AUTH_CODES = new Set(['516', '192']);

/**
 * A proxy's own error page as the answer to a server request (the client makes the body the message). Only on the
 * server path, and never for a message in ClickHouse's words: an engine error may quote event text such as an
 * outcome reason "upstream answered 502 Bad Gateway".
 */
function gatewayPage(error: unknown): string | undefined {
  if (
    !(error instanceof Error) ||
    error instanceof ClickHouseError ||
    error.message.includes('DB::Exception')
  )
    return undefined;
  const page = GATEWAY_PAGE.exec(error.message);
  return page ? `a proxy in front of it answered "${page[0]}"` : undefined;
}

/** Whether `error` (or an error in its `cause` chain) says the store's server could not be reached. */
export function isStoreUnreachable(error: unknown): boolean {
  return unreachableReason(error) !== undefined;
}

function unreachableReason(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof StoreUnreachableError) return current.reason;
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return current.message;
    if (current.message === CLIENT_TIMEOUT_MESSAGE) return 'no answer within the request timeout';
    current = current.cause;
  }
  return undefined;
}

/**
 * The server's URL as errors name it: its origin only. Credentials may be in the user info and in the query
 * (`?access_token=`, `?http_header_…=`), and serve passes these messages on to its clients.
 */
export function displayServerUrl(url: string): string {
  return new URL(url).origin;
}

/** A failure of a call on a server store, typed when it says the server is down or refused the credentials. */
export function serverFailure(error: unknown, url: string): unknown {
  if (error instanceof AuditStoreError) return error;
  const reason = unreachableReason(error) ?? gatewayPage(error);
  if (reason !== undefined) return new StoreUnreachableError(url, reason, { cause: error });
  if (error instanceof ClickHouseError && AUTH_CODES.has(error.code))
    return new StoreAuthError(url, { cause: error });
  return error;
}
