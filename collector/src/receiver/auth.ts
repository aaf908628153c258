// The bearer token of `serve`: taken from the caller, or generated once and kept (0600) in the state directory
// so that clients configured with it keep working across restarts.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReceiverConfigError } from './errors.js';

export const TOKEN_FILE_NAME = 'serve.token';
/** The ingest-only token's default file: it lets a service send events, not read them. */
export const INGEST_TOKEN_FILE_NAME = 'serve.ingest-token';
const MIN_TOKEN_LENGTH = 16;

export interface ResolvedToken {
  token: string;
  /** Where it came from; `file` is set when a file holds it (given, or generated). */
  source: 'given' | 'file' | 'generated';
  file?: string;
}

function check(token: string, option: string): string {
  const trimmed = token.trim();
  if (trimmed.length < MIN_TOKEN_LENGTH || /\s/.test(trimmed))
    throw new ReceiverConfigError(
      option,
      `the token must be at least ${MIN_TOKEN_LENGTH} characters without spaces`,
    );
  return trimmed;
}

/**
 * A token file other users may read (they would have the token) or write (they would choose it) is refused: the
 * token guards the query API and, by default, ingestion.
 */
function readTokenFile(file: string, option: string): string {
  const stat = statSync(file);
  const mode = stat.mode & 0o777;
  // Windows has no POSIX modes (every file reads as 0666) nor uids: nothing to check there.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0)
    throw new ReceiverConfigError(
      option,
      `${file} has mode ${mode.toString(8).padStart(4, '0')}: other users may read or write the token; ` +
        `\`chmod 600 ${file}\``,
    );
  // A file another user owns is a token that user chose (planted in a shared directory, say).
  const uid = process.geteuid?.();
  if (uid !== undefined && stat.uid !== uid)
    throw new ReceiverConfigError(
      option,
      `${file} is owned by uid ${stat.uid}, not this user (uid ${uid}): that user chose the token; ` +
        'use a token file of your own',
    );
  return check(readFileSync(file, 'utf8'), option);
}

/** How a token is named in errors, and its default file in the state directory. */
export interface TokenNames {
  /** The option that gives the token itself. */
  token: string;
  /** The option that names a file holding it. */
  tokenFile: string;
  fileName: string;
}

/** serve's token: the query API's, and the ingest endpoint's too. */
export const READ_TOKEN_NAMES: TokenNames = {
  token: 'token',
  tokenFile: '--token-file',
  fileName: TOKEN_FILE_NAME,
};
/** serve's ingest token: POST /v1/logs only. */
export const INGEST_TOKEN_NAMES: TokenNames = {
  token: 'ingestToken',
  tokenFile: '--ingest-token-file',
  fileName: INGEST_TOKEN_FILE_NAME,
};

/**
 * The token given, else the one in `tokenFile`, else `<stateDir>/<names.fileName>` (created 0600 if missing;
 * `serve.token` by default).
 */
export function resolveToken(
  options: {
    token?: string;
    tokenFile?: string;
    stateDir: string;
  },
  names: TokenNames = READ_TOKEN_NAMES,
): ResolvedToken {
  if (options.token !== undefined) return { token: check(options.token, names.token), source: 'given' };
  if (options.tokenFile !== undefined) {
    if (!existsSync(options.tokenFile))
      throw new ReceiverConfigError(names.tokenFile, `${options.tokenFile} does not exist`);
    return {
      token: readTokenFile(options.tokenFile, names.tokenFile),
      source: 'file',
      file: options.tokenFile,
    };
  }
  const file = join(options.stateDir, names.fileName);
  if (existsSync(file)) return { token: readTokenFile(file, file), source: 'file', file };
  const token = randomBytes(32).toString('base64url');
  // No trailing newline: a collector config can then use `${file:...}` for the header (it keeps a newline, and
  // the header would not match). Readers here trim, so older files that end in one still work.
  writeFileSync(file, token, { mode: 0o600, flag: 'wx' });
  return { token, source: 'generated', file };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Constant-time check of an `Authorization: Bearer <token>` header against any of `tokens`. */
export function bearerMatches(header: string | undefined, ...tokens: string[]): boolean {
  if (header === undefined) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return false;
  const given = digest(match[1] as string);
  // Every token is compared (no early exit): which one matched does not show in the time taken.
  let matched = false;
  for (const token of tokens) matched = timingSafeEqual(given, digest(token)) || matched;
  return matched;
}

/** The query parameter of /health that asks serve to prove it knows the token. */
export const HEALTH_CHALLENGE_PARAM = 'challenge';

/**
 * serve's answer to `GET /health?challenge=<nonce>`: HMAC-SHA256 keyed with the token over the nonce, serve's pid
 * and the port the request came in on, hex. The CLI checks it with the pid and port of serve.json before it sends
 * the token anywhere: a listener on a port serve left (a stale serve.json) cannot forge it, nor relay the
 * challenge to another serve that has the same token (that one answers with its own pid and port).
 */
export function healthChallengeAnswer(token: string, nonce: string, pid: number, port: number): string {
  return createHmac('sha256', token).update(`${nonce}\n${pid}\n${port}`).digest('hex');
}
