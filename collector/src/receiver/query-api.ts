// The query module over HTTP (serve owns the chDB directory, so reads go through it): JSON, tenant required,
// cursor pagination, every value validated by the store and sent to SQL as a query parameter.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AuditReads,
  AuditStoreInputError,
  checkQuery,
  type EventFilter,
  INTERVALS,
  type Interval,
  isStoreUnreachable,
  MAX_LIMIT,
  parseIsoTime,
  StoreUnreachableError,
} from '@otel-audit/clickhouse';
import { CRUD_VALUES, type Crud, OUTCOME_VALUES, type Outcome } from '@otel-audit/sdk/conventions';
import { BodyTooLargeError, UnsupportedMediaTypeError } from './errors.js';
import { mediaType, readBody } from './request-body.js';

/** Route prefix of the query API. */
export const QUERY_PREFIX = '/v1/audit';

/**
 * How many bytes of request line and headers serve reads: Node's default. More would let anyone, before any token
 * is checked, hold that much memory per open connection; longer filters go in the body of a POST (read only after
 * the token is checked), as the CLI sends them.
 */
export const MAX_QUERY_HEADER_BYTES = 16 * 1024;

/** Largest POST body of the query API: the filters' limits (100 actions of 4,096 characters) percent-encoded. */
export const MAX_QUERY_BODY_BYTES = 4 * 1024 * 1024;

const FORM = 'application/x-www-form-urlencoded';

/**
 * The parameters of a query: the URL's, or for a POST (filters too long for a URL) its form-encoded body's, never
 * both (which one would win is a guess).
 */
async function queryParameters(
  req: IncomingMessage,
  url: URL,
  bodyIdleTimeoutMs: number | undefined,
): Promise<URLSearchParams> {
  if (req.method === 'GET') return url.searchParams;
  if (mediaType(req.headers['content-type']) !== FORM)
    throw new UnsupportedMediaTypeError(`a POST to the query API sends its parameters as ${FORM}`);
  const coding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity')
    throw new UnsupportedMediaTypeError(
      `a POST to the query API sends its parameters uncompressed, not ${coding}`,
    );
  if ([...url.searchParams.keys()].length > 0)
    throw new QueryParameterError(
      'query',
      'give the parameters in the URL (GET) or in the body (POST), not both',
    );
  return new URLSearchParams((await readBody(req, MAX_QUERY_BODY_BYTES, bodyIdleTimeoutMs)).toString('utf8'));
}

/** A bad query parameter: answered 400 naming the parameter. */
export class QueryParameterError extends Error {
  override name = 'QueryParameterError';
  constructor(
    readonly parameter: string,
    reason: string,
  ) {
    super(`${parameter}: ${reason}`);
  }
}

export type QueryReader = AuditReads;

const FILTER_PARAMETERS = [
  'tenant',
  'action',
  'crud',
  'outcome',
  'actor',
  'actorType',
  'target',
  'targetType',
  'targetId',
  'from',
  'to',
];
const PAGE_PARAMETERS = ['limit', 'cursor'];

/**
 * Refuses a parameter the route does not read: a misspelt filter (`actor_type`) silently ignored would answer
 * with more events than asked for, which an audit query must not do.
 */
function acceptOnly(
  params: URLSearchParams,
  route: string,
  allowed: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): void {
  for (const name of new Set(params.keys())) {
    if (allowed.includes(name)) continue;
    throw new QueryParameterError(
      name,
      hints[name] ??
        `is not a parameter of ${route} (${allowed.length ? `it takes ${allowed.join(', ')}` : 'it takes none'})`,
    );
  }
}

const without = (list: readonly string[], ...names: string[]) => list.filter((n) => !names.includes(n));

function one(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new QueryParameterError(name, 'given more than once');
  return all[0];
}

function time(params: URLSearchParams, name: string): Date | undefined {
  const value = one(params, name);
  if (value === undefined) return undefined;
  // Widened to whole milliseconds (how events are stored): inclusive from down, exclusive to up.
  const date = parseIsoTime(value, name === 'to' ? 'ceil' : 'floor');
  if (date === undefined)
    throw new QueryParameterError(
      name,
      `${JSON.stringify(value)} is not an ISO 8601 time: give a date (2026-11-23, midnight UTC) or a date-time ` +
        'with a zone (2026-11-23T10:15:00Z, 2026-11-23T10:15:00.5+01:00)',
    );
  return date;
}

/**
 * `tenant` (required), `action` and `crud` (repeatable), `outcome`, `actor`/`actorType`, `target` (TYPE:ID, split
 * at the first colon) or `targetType` + `targetId` (for a type holding a colon), `from`, `to`.
 */
export function filterFromParams(params: URLSearchParams): EventFilter {
  const tenant = one(params, 'tenant');
  if (!tenant) throw new QueryParameterError('tenant', 'is required');
  const actions = params.getAll('action');
  const crud = params.getAll('crud');
  for (const c of crud)
    if (!CRUD_VALUES.includes(c as Crud))
      throw new QueryParameterError('crud', `must be one of ${CRUD_VALUES.join(', ')}`);
  const outcome = one(params, 'outcome');
  if (outcome !== undefined && !OUTCOME_VALUES.includes(outcome as Outcome))
    throw new QueryParameterError('outcome', `must be one of ${OUTCOME_VALUES.join(', ')}`);
  const actor = one(params, 'actor');
  const actorType = one(params, 'actorType');
  if (actorType !== undefined && actor === undefined)
    throw new QueryParameterError('actorType', 'needs actor');
  const target = one(params, 'target');
  const targetType = one(params, 'targetType');
  const targetId = one(params, 'targetId');
  let targetRef: EventFilter['target'];
  if (target !== undefined) {
    if (targetType !== undefined || targetId !== undefined)
      throw new QueryParameterError('target', 'give target (TYPE:ID) or targetType and targetId, not both');
    const at = target.indexOf(':');
    if (at <= 0 || at === target.length - 1) throw new QueryParameterError('target', 'expected TYPE:ID');
    targetRef = { type: target.slice(0, at), id: target.slice(at + 1) };
  } else if (targetType !== undefined || targetId !== undefined) {
    if (targetType === undefined) throw new QueryParameterError('targetType', 'is required with targetId');
    if (targetId === undefined) throw new QueryParameterError('targetId', 'is required with targetType');
    targetRef = { type: targetType, id: targetId };
  }
  const from = time(params, 'from');
  const to = time(params, 'to');
  return {
    tenant,
    ...(actions.length > 0 && { actions }),
    ...(crud.length > 0 && { crud: crud as Crud[] }),
    ...(outcome !== undefined && { outcome: outcome as Outcome }),
    ...(actor !== undefined && { actor: { id: actor, ...(actorType !== undefined && { type: actorType }) } }),
    ...(targetRef && { target: targetRef }),
    ...(from && { from }),
    ...(to && { to }),
  };
}

export function pageFromParams(params: URLSearchParams): { limit?: number; cursor?: string } {
  const limit = one(params, 'limit');
  const cursor = one(params, 'cursor');
  if (limit !== undefined && !/^\d+$/.test(limit))
    throw new QueryParameterError('limit', `must be a whole number between 1 and ${MAX_LIMIT}`);
  return { ...(limit !== undefined && { limit: Number(limit) }), ...(cursor !== undefined && { cursor }) };
}

/**
 * A 200 answer of the query API, written like an export (in pieces, the stall timeout applying): a page of up
 * to 10,000 events can be tens of MB, which a client that stopped reading held in memory for good.
 */
async function answerJson(res: ServerResponse, body: unknown, options: QueryApiOptions): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
  try {
    await write(res, bytes, options);
    res.end();
  } catch (error) {
    // The client went away, or was cut for not reading (logged): nothing more to send.
    if (error instanceof SendStalledError) options.onResponseCut?.(error);
    res.destroy();
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  field?: string,
): void {
  sendJson(res, status, { error: { code, message, ...(field !== undefined && { field }) } });
}

/** The client stopped reading a response for longer than the send stall timeout: its connection was cut. */
export class SendStalledError extends Error {
  override name = 'SendStalledError';
  constructor(readonly stallMs: number) {
    super(`the client read nothing of the response for ${stallMs} ms: connection cut`);
  }
}

/**
 * Largest piece handed to the socket at once: the stall timeout times the wait for each piece, so a whole 4 MB
 * page at once cut a slow reader (a VPN at 14 KB/s) while it was reading.
 */
const WRITE_PIECE = 64 * 1024;

/**
 * Writes UTF-8 bytes, not a string, in pieces: a piece of a string could end between the two halves of a
 * surrogate pair, each then written as U+FFFD (an emoji corrupted in the export).
 */
async function write(res: ServerResponse, bytes: Uint8Array, options: QueryApiOptions): Promise<void> {
  for (let at = 0; at < bytes.length; at += WRITE_PIECE)
    await writePiece(res, bytes.subarray(at, at + WRITE_PIECE), options);
}

async function writePiece(res: ServerResponse, chunk: Uint8Array, options: QueryApiOptions): Promise<void> {
  if (res.destroyed) throw new Error('client went away');
  if (res.write(chunk)) return;
  const stallMs = options.sendStallTimeoutMs;
  options.onBlocked?.(true);
  try {
    await new Promise<void>((resolve, reject) => {
      // Each listener removes the others: one left behind per slow write added up (MaxListenersExceededWarning).
      const done = () => {
        clearTimeout(timer);
        res.off('drain', onDrain);
        res.off('close', onClose);
      };
      const onDrain = () => {
        done();
        resolve();
      };
      const onClose = () => {
        done();
        reject(new Error('client went away'));
      };
      const timer =
        stallMs === undefined
          ? undefined
          : setTimeout(() => {
              done();
              res.destroy();
              reject(new SendStalledError(stallMs));
            }, stallMs);
      res.once('drain', onDrain);
      res.once('close', onClose);
    });
  } finally {
    options.onBlocked?.(false);
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new QueryParameterError('path', `malformed percent-encoding in ${JSON.stringify(segment)}`);
  }
}

/** The path's segments after QUERY_PREFIX, decoded, as the router reads them (empty segments dropped). */
function routeParts(url: URL): string[] {
  return url.pathname.slice(QUERY_PREFIX.length).split('/').filter(Boolean).map(decode);
}

export interface QueryApiOptions {
  /** Retry-After (seconds) sent with a 503 or an export refused 429. */
  retryAfterSeconds: number;
  /** A POST body that sends nothing this long is dropped (as /v1/logs bodies are). */
  bodyIdleTimeoutMs?: number;
  /** A response whose writes wait this long for the client is cut (`SendStalledError`); unset: no limit. */
  sendStallTimeoutMs?: number;
  /** A streamed response starts (true) or stops (false) waiting for its client to read. */
  onBlocked?: (waiting: boolean) => void;
  /**
   * An export that failed after its 200 went out, or any answer cut for a client that stopped reading
   * (`SendStalledError`): the connection is cut (the client sees a broken transfer), and this is the only place
   * its reason can go.
   */
  onResponseCut?: (error: unknown) => void;
  /**
   * Asked when a valid export is about to run (exports hold their slot for their whole run, so the caller may
   * let only so many run at once): a message refuses it with 429 + Retry-After; undefined lets it run.
   */
  admitExport?: () => string | undefined;
}

/**
 * Answers a GET (or a POST with the parameters in a form body) under /v1/audit. Routes: `/events`,
 * `/events/{id}`, `/actors/{id}/events`, `/targets/{type}/{id}/events`, `/counts/actions`,
 * `/counts/time?interval=`, `/export?format=ndjson|csv&order=time|actor`, `/status` (the store's migrations, tables and retention:
 * no tenant, the token is the only gate).
 */
/**
 * A `.` or `..` path segment (also as %2e): URL parsing removes it, so `/actors/../events` would answer as
 * `/events`, every actor's events. Checked on the request target as sent.
 */
function refuseDotSegments(rawUrl: string | undefined): void {
  const raw = rawUrl ?? '/';
  const path = raw.split('?')[0] ?? '/';
  // URL parsing reads `\` as `/` (then resolves `..` across it) and cuts at `#` (the rest of a value dropped).
  const misread = path.includes('\\')
    ? 'a backslash in the path would be read as "/"'
    : raw.includes('#')
      ? 'a "#" would be read as the end of the request'
      : undefined;
  if (misread)
    throw new QueryParameterError('path', `${misread} by URL parsing: percent-encode it (%5C, %23)`);
  for (const segment of path.split('/')) {
    if (/^(\.|%2e){1,2}$/i.test(segment))
      throw new QueryParameterError(
        'path',
        `a path segment ${JSON.stringify(segment)} is removed by URL normalisation (it would name another route): ` +
          'give such an id as a parameter (/events?actor=…, /events?target=TYPE:ID)',
      );
  }
}

type Route = 'actor' | 'target' | 'other';

/** The store names its own fields (`actions[0]`, `actor.id`); callers of the API know its parameters. */
function parameterOf(field: string, route: Route, params: URLSearchParams | undefined): string {
  if (/^actions\[\d+\]$/.test(field)) return 'action';
  if (/^crud\[\d+\]$/.test(field)) return 'crud';
  if (field === 'actor.id') return route === 'actor' ? 'path' : 'actor';
  if (field === 'actor.type') return route === 'actor' ? 'type' : 'actorType';
  if (field === 'target.type' || field === 'target.id') {
    if (route === 'target') return 'path';
    if (params?.has('target')) return 'target';
    return field === 'target.type' ? 'targetType' : 'targetId';
  }
  return field;
}

export async function handleQuery(
  reader: QueryReader,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  options: QueryApiOptions,
): Promise<void> {
  let route: Route = 'other';
  let params: URLSearchParams | undefined;
  try {
    refuseDotSegments(req.url);
    const parts = routeParts(url);
    route = parts[0] === 'actors' ? 'actor' : parts[0] === 'targets' ? 'target' : 'other';
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return sendError(
        res,
        405,
        'method_not_allowed',
        'the query API answers GET (and POST: parameters in the body)',
      );
    }
    params = await queryParameters(req, url, options.bodyIdleTimeoutMs);
    const [head, a, b, c] = parts;
    if (head === 'events' && parts.length === 1) {
      acceptOnly(params, '/events', [...FILTER_PARAMETERS, ...PAGE_PARAMETERS]);
      return answerJson(res, await reader.search(filterFromParams(params), pageFromParams(params)), options);
    }
    if (head === 'events' && parts.length === 2 && a) {
      acceptOnly(params, '/events/{id}', ['tenant']);
      const { tenant } = filterFromParams(params);
      const event = await reader.getEvent(tenant, a);
      return event
        ? answerJson(res, event, options)
        : sendError(res, 404, 'not_found', `no event ${a} in tenant ${tenant}`);
    }
    if (head === 'actors' && parts.length === 3 && a && b === 'events') {
      acceptOnly(
        params,
        '/actors/{id}/events',
        [...without(FILTER_PARAMETERS, 'actor', 'actorType'), 'type', ...PAGE_PARAMETERS],
        {
          actor: 'the actor is the one in the path on this route',
          actorType: "the actor's type is `type` on this route",
        },
      );
      const { tenant, ...filter } = filterFromParams(params);
      const type = one(params, 'type');
      const actor = { id: a, ...(type !== undefined && { type }) };
      return answerJson(
        res,
        await reader.actorTimeline(tenant, actor, { ...filter, ...pageFromParams(params) }),
        options,
      );
    }
    if (head === 'targets' && parts.length === 4 && a && b && c === 'events') {
      acceptOnly(
        params,
        '/targets/{type}/{id}/events',
        [...without(FILTER_PARAMETERS, 'target', 'targetType', 'targetId'), ...PAGE_PARAMETERS],
        {
          target: 'the target is the one in the path on this route',
          targetType: 'the target is the one in the path on this route',
          targetId: 'the target is the one in the path on this route',
        },
      );
      const { tenant, ...filter } = filterFromParams(params);
      return answerJson(
        res,
        await reader.targetHistory(tenant, { type: a, id: b }, { ...filter, ...pageFromParams(params) }),
        options,
      );
    }
    if (head === 'counts' && a === 'actions' && parts.length === 2) {
      acceptOnly(params, '/counts/actions', FILTER_PARAMETERS);
      return answerJson(res, await reader.countByAction(filterFromParams(params)), options);
    }
    if (head === 'counts' && a === 'time' && parts.length === 2) {
      acceptOnly(params, '/counts/time', [...FILTER_PARAMETERS, 'interval']);
      const interval = one(params, 'interval') ?? 'hour';
      if (!Object.hasOwn(INTERVALS, interval))
        throw new QueryParameterError('interval', `must be one of ${Object.keys(INTERVALS).join(', ')}`);
      return answerJson(
        res,
        await reader.countOverTime(filterFromParams(params), interval as Interval),
        options,
      );
    }
    if (head === 'status' && parts.length === 1) {
      acceptOnly(params, '/status', []);
      return answerJson(res, await reader.status(), options);
    }
    if (head === 'export' && parts.length === 1) {
      const whole = 'an export is the whole filtered range (narrow it with from and to)';
      acceptOnly(params, '/export', [...FILTER_PARAMETERS, 'format', 'order'], {
        limit: whole,
        cursor: whole,
      });
      const format = one(params, 'format') ?? 'ndjson';
      if (format !== 'ndjson' && format !== 'csv')
        throw new QueryParameterError('format', `must be ndjson or csv, got ${JSON.stringify(format)}`);
      const order = one(params, 'order') ?? 'time';
      if (order !== 'time' && order !== 'actor')
        throw new QueryParameterError('order', `must be time or actor, got ${JSON.stringify(order)}`);
      const filter = filterFromParams(params);
      // The store's own checks first: a filter it refuses gets its 400, not the cap's 429.
      checkQuery(filter);
      const refused = options.admitExport?.();
      if (refused !== undefined) {
        res.setHeader('retry-after', String(options.retryAfterSeconds));
        return sendError(res, 429, 'too_many_requests', refused);
      }
      // The status goes out with the first write, which comes with the first page (the CSV header too), so a
      // store that cannot be reached still gets its 503.
      const start = async (chunk: string) => {
        if (!res.headersSent)
          res.writeHead(200, {
            'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
          });
        await write(res, Buffer.from(chunk, 'utf8'), options);
      };
      try {
        await reader.exportEvents(filter, { format, order, write: start });
        await start('');
        res.end();
      } catch (error) {
        if (!res.headersSent) throw error;
        // Headers are gone: cut the connection so the client sees a failed transfer, never a short "success".
        // A client that went away is not worth a line; one cut for not reading is (write destroyed it).
        if (!res.destroyed || error instanceof SendStalledError) options.onResponseCut?.(error);
        res.destroy(error as Error);
      }
      return;
    }
    return sendError(res, 404, 'not_found', `no route ${url.pathname}`);
  } catch (error) {
    if (error instanceof QueryParameterError)
      return sendError(res, 400, 'invalid_argument', error.message, error.parameter);
    if (error instanceof UnsupportedMediaTypeError)
      return sendError(res, 415, 'unsupported_media_type', error.message);
    if (error instanceof BodyTooLargeError)
      return sendError(res, 413, 'too_large', `the parameters are over ${MAX_QUERY_BODY_BYTES} bytes`);
    if (error instanceof AuditStoreInputError) {
      const parameter = parameterOf(error.field, route, params);
      // The store's message starts with its own field name: the same parameter name as `field`.
      const message = error.message.startsWith(`${error.field}:`)
        ? `${parameter}:${error.message.slice(error.field.length + 1)}`
        : error.message;
      return sendError(res, 400, 'invalid_argument', message, parameter);
    }
    if (isStoreUnreachable(error) && !res.headersSent) {
      res.setHeader('retry-after', String(options.retryAfterSeconds));
      const reason =
        error instanceof StoreUnreachableError
          ? error.reason
          : error instanceof Error
            ? error.message
            : String(error);
      return sendError(res, 503, 'unavailable', `the store cannot be reached: ${reason}`);
    }
    // Anything else (a failing query, a stored row that does not parse) is the server's fault: 500 from the caller.
    throw error;
  }
}
