// Whether the address in serve.json is the serve that wrote it, asked before the token goes there: after serve
// was killed, anyone may listen on its port (and a recycled pid looks alive), so an answer to /health proves
// nothing. serve answers `GET /health?challenge=<nonce>` with HMAC-SHA256(token, nonce) (collector's auth.ts).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HEALTH_CHALLENGE_PARAM, HEALTH_PATH, healthChallengeAnswer } from '@otel-audit/collector';

/** How long the CLI waits for a running serve's /health before treating its discovery file as stale. */
const HEALTH_TIMEOUT_MS = 2000;

export type ServeAnswer =
  /** It knows the token (or answers at all, when no token was given to check). */
  | { kind: 'answers' }
  /** Nothing (usable) answers there: why, for messages. */
  | { kind: 'unreachable'; reason: string }
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

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (error instanceof Error && error.name === 'TimeoutError')
    return `no answer within ${HEALTH_TIMEOUT_MS} ms`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * Asks the serve at `url` for its health, with a challenge when `token` is given. Only the challenge is sent,
 * never the token.
 */
export async function askServe(url: string, token: string | undefined, pid: number): Promise<ServeAnswer> {
  const nonce = randomBytes(32).toString('hex');
  const target =
    token === undefined ? `${url}${HEALTH_PATH}` : `${url}${HEALTH_PATH}?${HEALTH_CHALLENGE_PARAM}=${nonce}`;
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS), redirect: 'manual' });
    body = await res.json().catch(() => undefined);
  } catch (error) {
    return { kind: 'unreachable', reason: reasonOf(error) };
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
