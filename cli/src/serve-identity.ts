// Whether the address in serve.json is the serve that wrote it, asked before the token goes there: after serve
// was killed, anyone may listen on its port (and a recycled pid looks alive), so an answer to /health proves
// nothing. serve answers `GET /health?challenge=<nonce>` with HMAC-SHA256(token, nonce) (collector's auth.ts).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HEALTH_CHALLENGE_PARAM, HEALTH_PATH, healthChallengeAnswer } from '@otel-audit/collector';

/** How long the CLI waits for a running serve's /health before asking again, for longer. */
export const HEALTH_TIMEOUT_MS = 2000;
/**
 * The second wait: a serve under heavy reads (hundreds of answers in memory) was seen to take 3.5 s, and the CLI
 * then called its directory "locked by another process".
 */
export const BUSY_HEALTH_TIMEOUT_MS = 15_000;

export type ServeAnswer =
  /** It knows the token (or answers at all, when no token was given to check). */
  | { kind: 'answers' }
  /** Nothing (usable) answers there: why, for messages; `timedOut`: it did not answer in time. */
  | { kind: 'unreachable'; reason: string; timedOut?: boolean }
  /**
   * Something answers, but not with proof of the token. `noProof`: its /health has no challenge answer at all
   * (also what a serve of an earlier release answers).
   */
  | { kind: 'impostor'; reason: string; noProof?: boolean };

/** The port serve.json's url names (the scheme's default when it names none). */
function portOf(url: string): number {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
}

function reasonOf(error: unknown, timeoutMs: number): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (isTimeout(error)) return `no answer within ${timeoutMs} ms`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

/**
 * Asks the serve at `url` for its health, with a challenge when `token` is given. Only the challenge is sent,
 * never the token.
 */
export async function askServe(
  url: string,
  token: string | undefined,
  pid: number,
  timeoutMs = HEALTH_TIMEOUT_MS,
): Promise<ServeAnswer> {
  const nonce = randomBytes(32).toString('hex');
  const target =
    token === undefined ? `${url}${HEALTH_PATH}` : `${url}${HEALTH_PATH}?${HEALTH_CHALLENGE_PARAM}=${nonce}`;
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    body = await res.json().catch(() => undefined);
  } catch (error) {
    return { kind: 'unreachable', reason: reasonOf(error, timeoutMs), timedOut: isTimeout(error) };
  }
  if (!res.ok) return { kind: 'unreachable', reason: `/health answered ${res.status}` };
  if (token === undefined) return { kind: 'answers' };
  const answer = (body as { challenge?: unknown } | undefined)?.challenge;
  if (typeof answer !== 'string')
    return { kind: 'impostor', reason: 'its /health answer holds no proof of the token', noProof: true };
  const expected = Buffer.from(healthChallengeAnswer(token, nonce, pid, portOf(url)));
  const given = Buffer.from(answer);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { kind: 'impostor', reason: 'its /health answer does not prove it knows the token' };
  return { kind: 'answers' };
}
