// The HTTP server of `serve`: OTLP/HTTP logs on /v1/logs, the query API on /v1/audit/*, /health. Acknowledges
// a logs request only once its rows are committed; drains in-flight requests on close.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OtelLogRow } from '@otel-audit/clickhouse';
import { bearerMatches, HEALTH_CHALLENGE_PARAM, healthChallengeAnswer } from './auth.js';
import type { ReceiverLimits } from './config.js';
import { decodeJsonRequest, maxJsonObjects } from './decode-json.js';
import {
  decodeProtobufRequest,
  encodeProtobufResponse,
  encodeProtobufStatus,
  maxProtobufMessages,
} from './decode-protobuf.js';
import {
  BodyStalledError,
  BodyTooLargeError,
  OtlpDecodeError,
  QueueFullError,
  ReceiverUnavailableError,
  RowsTooLargeError,
  TooManyJsonObjectsError,
  TooManyProtobufMessagesError,
  TooManyRecordsError,
  UnsupportedMediaTypeError,
} from './errors.js';
import { IngestQueue, type IngestStats } from './ingest-queue.js';
import type { Logger } from './log.js';
import { recordCount } from './otlp-model.js';
import {
  handleQuery,
  MAX_QUERY_HEADER_BYTES,
  QUERY_PREFIX,
  type QueryReader,
  SendStalledError,
  sendError,
} from './query-api.js';
import { rejectionMessage, requestToRows } from './records-to-rows.js';
import { type RefusalReason, type RefusalStatus, Refusals } from './refusals.js';
import { decodeContent, type OtlpEncoding, readBody, requestEncoding } from './request-body.js';
import type { Retention } from './retention.js';
import { within } from './within.js';

export const LOGS_PATH = '/v1/logs';
export const HEALTH_PATH = '/health';
const MAX_CHALLENGE_LENGTH = 256;

export interface ReceiverServerOptions {
  host: string;
  port: number;
  /** Bearer token of the query API (always) and of /v1/logs (when `ingestAuth` is `token`). */
  token: string;
  /** A second token /v1/logs takes (when `ingestAuth` is `token`), which the query API refuses. */
  ingestToken?: string;
  ingestAuth: 'token' | 'none';
  /** Store audit records only (default, like gateway.yaml's filter) or every log record. */
  records: 'audit' | 'all';
  limits: ReceiverLimits;
  /** Where rows go (each resolves after commit); one per concurrent insert. */
  insert: ((rows: OtelLogRow[]) => Promise<void>)[];
  /** Answers the query API. */
  reader: QueryReader;
  /** The store's retention: audit records already past it are rejected (left out: none is). */
  retention?: Retention;
  log: Logger;
}

export interface ReceiverServer {
  /** e.g. `http://127.0.0.1:4318` (the real port when 0 was asked). */
  url: string;
  port: number;
  stats(): IngestStats & {
    requests: number;
    /** Requests being answered, query API responses included. */
    inFlight: number;
    /** Of those, query API responses: `--max-concurrent-requests` admits ingest against the others. */
    queriesInFlight: number;
    /** Logs requests refused since start, per status. */
    refused: Record<RefusalStatus, number>;
    /** Records rejected from accepted logs requests (OTLP partial success) since start. */
    rejectedRecords: number;
    /** Query API requests refused 401 (missing or wrong token) since start. */
    queryUnauthorized: number;
    /** Query API requests refused 429 over `--max-concurrent-queries`, or exports over their half, since start. */
    queryBusy: number;
  };
  /**
   * Stops accepting, lets in-flight requests finish and writes what is queued, all within the shutdown timeout;
   * past it, connections are closed and inserts still running are left (reported, not awaited).
   */
  close(): Promise<ShutdownReport>;
}

export interface ShutdownReport {
  /** Everything queued was written (or failed) within the shutdown timeout. */
  clean: boolean;
  /** Rows of inserts still running at the deadline: their requests were not acknowledged. */
  unacknowledgedRows: number;
}

// gRPC status codes carried in google.rpc.Status bodies, per HTTP status (OTLP/HTTP spec).
const GRPC_CODE: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  405: 12,
  413: 3,
  415: 3,
  429: 8,
  500: 13,
  503: 14,
};

/** An OTLP error response in the request's encoding (google.rpc.Status). */
function otlpError(
  res: ServerResponse,
  encoding: OtlpEncoding,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const code = GRPC_CODE[status] ?? 2;
  const body =
    encoding === 'protobuf'
      ? encodeProtobufStatus(code, message)
      : Buffer.from(JSON.stringify({ code, message }));
  res.writeHead(status, {
    'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
    'content-length': body.byteLength,
    ...headers,
  });
  res.end(body);
}

function otlpSuccess(
  res: ServerResponse,
  encoding: OtlpEncoding,
  rejected: number,
  errorMessage: string,
): void {
  const body =
    encoding === 'protobuf'
      ? encodeProtobufResponse(rejected, errorMessage)
      : Buffer.from(
          JSON.stringify(
            rejected > 0 ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage } } : {},
          ),
        );
  res.writeHead(200, {
    'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
    'content-length': body.byteLength,
  });
  res.end(body);
}

/** The encoding of an OTLP answer to this Content-Type: JSON unless protobuf was sent. */
function otlpEncodingOf(contentType: string | undefined): OtlpEncoding {
  try {
    return requestEncoding(contentType);
  } catch {
    return 'json';
  }
}

/** 127.0.0.0/8, ::1 or localhost: the only names a loopback listener is reached by, unless DNS was turned on it. */
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/**
 * The host of the URL serve publishes (log, serve.json): one a client can connect to. Every interface ('',
 * 0.0.0.0, ::) includes loopback; "http://:4903" or "http://0.0.0.0:4903" would not be reachable as written.
 */
function publishedHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return LOOPBACK.test(name);
}

export async function startReceiverServer(options: ReceiverServerOptions): Promise<ReceiverServer> {
  const { limits, log } = options;
  // A loopback listener without ingest auth checks Host, against pages that rebind a DNS name to 127.0.0.1.
  const loopbackOnly = LOOPBACK.test(options.host);
  // The read token ingests too: senders set up with it before the ingest token existed keep working.
  const ingestTokens =
    options.ingestToken === undefined ? [options.token] : [options.ingestToken, options.token];
  const retryAfter = { 'retry-after': String(limits.retryAfterSeconds) };
  // The client should not send its next request on this connection: it is draining, or a body was left unread.
  const closeConnection = { connection: 'close' };
  const queue = new IngestQueue({
    insert: options.insert,
    maxPendingRows: limits.maxPendingRows,
    maxBatchRows: limits.maxBatchRows,
    onBatch: ({ rows, requests, ms, error }) => {
      if (!error) {
        // A recovery line only for a failure that had a line: a store failing and recovering in turn logs at most
        // one of each per interval.
        if (insertFailure?.logged) {
          log.log('info', 'inserts commit again', { failedSinceLastLine: failedUnlogged });
          failedUnlogged = 0;
        }
        insertFailure = undefined;
        return log.log('debug', 'insert committed', { rows, requests, ms: Math.round(ms) });
      }
      const message = error instanceof Error ? error.message : String(error);
      insertFailure = {
        since: insertFailure?.since ?? Date.now(),
        message,
        logged: insertFailure?.logged ?? false,
      };
      // Once per interval while the store keeps failing, across recoveries (a full disk failed every batch: 454
      // lines with stacks in 25 s). Monotonic: after the wall clock stepped back an hour, every line of an hour's
      // outage was held back.
      const now = performance.now();
      if (now - failureLineAt < limits.refusalLogIntervalMs) {
        failedUnlogged += 1;
        return;
      }
      log.log('error', 'insert failed', {
        rows,
        requests,
        ms: Math.round(ms),
        ...(failedUnlogged > 0 && { failedSinceLastLine: failedUnlogged }),
        error,
      });
      failureLineAt = now;
      failedUnlogged = 0;
      insertFailure.logged = true;
    },
  });
  /** The store failing inserts: since when, its last error, whether this episode had a log line. */
  let insertFailure: { since: number; message: string; logged: boolean } | undefined;
  /** When the last 'insert failed' line went out, and failures since then without one. */
  let failureLineAt = Number.NEGATIVE_INFINITY;
  let failedUnlogged = 0;
  const storeHealth = () =>
    insertFailure
      ? {
          store: 'failing',
          storeError: { since: new Date(insertFailure.since).toISOString(), message: insertFailure.message },
        }
      : { store: 'ok' };
  const refusals = new Refusals(log, limits.refusalLogIntervalMs);
  let draining = false;
  /** Requests being handled (their responses): how many are in flight. */
  const active = new Set<ServerResponse>();
  /** Those of them answering the query API: not counted against ingest's limit (a long export held a slot). */
  const queries = new Set<ServerResponse>();
  // Exports among them: each holds its slot for its whole run, so they get at most half of the slots and
  // page reads (a dashboard, the CLI) keep the rest.
  const exports = new Set<ServerResponse>();
  const maxExports = Math.max(1, Math.floor(limits.maxConcurrentQueries / 2));
  /**
   * Query responses waiting for their client to read (a full socket), since when: shutdown cuts those waiting
   * longer than shutdownStallMs (a reader that stopped held shutdown for the whole timeout).
   */
  const blockedSince = new Map<ServerResponse, number>();
  const ingestInFlight = () => active.size - queries.size;
  let requests = 0;
  const idle: (() => void)[] = [];

  /**
   * Reads, decompresses and decodes a logs request into rows. Its own frame: the body and the decoded tree are
   * garbage once it returns, so a request waiting for its insert holds its rows only (holding the decoded tree
   * too let a few concurrent bodies of empty records take gigabytes).
   */
  async function readRows(req: IncomingMessage, encoding: OtlpEncoding) {
    const raw = await readBody(req, limits.maxBodyBytes, limits.bodyIdleTimeoutMs);
    return toRows(await decodeContent(raw, req.headers['content-encoding'], limits.maxBodyBytes), encoding);
  }

  const maxObjects = maxJsonObjects(limits.maxBodyBytes);
  const maxMessages = maxProtobufMessages(limits.maxBodyBytes);
  function toRows(body: Buffer, encoding: OtlpEncoding) {
    const request =
      encoding === 'json'
        ? decodeJsonRequest(body, limits.maxRecordsPerRequest, maxObjects)
        : decodeProtobufRequest(body, limits.maxRecordsPerRequest, maxMessages);
    const result = requestToRows(request, {
      maxRecordSize: limits.maxRecordSize,
      auditOnly: options.records === 'audit',
      // Rows repeat resource and scope attributes: bound what a body may expand to (4x, generous for OTel
      // SDK batches, which come to ~1.1-1.5x).
      maxRowsSize: 4 * limits.maxBodyBytes,
      retention: options.retention?.cutoff(Date.now()),
    });
    return { ...result, records: recordCount(request) };
  }

  async function ingest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Errors before the encoding is known are answered in JSON.
    let encoding: OtlpEncoding = 'json';
    // Read now: a body cut off over the limit detaches the socket.
    const remoteAddress = req.socket.remoteAddress;
    /** Answers an OTLP error, counted and logged (rate-limited) by reason. */
    const refuse = (
      status: RefusalStatus,
      reason: RefusalReason,
      message: string,
      headers: Record<string, string> = {},
    ) => {
      refusals.refuse(status, reason, message, remoteAddress);
      otlpError(res, encoding, status, message, headers);
    };
    try {
      // Who may send comes before what was sent: an unauthenticated request gets its 401 whatever its type.
      let unsupported: unknown;
      try {
        encoding = requestEncoding(req.headers['content-type']);
      } catch (error) {
        unsupported = error;
      }
      if (options.ingestAuth === 'none' && loopbackOnly && !isLoopbackHost(req.headers.host))
        return refuse(
          403,
          'Host not a loopback name',
          'Host must name this machine (localhost, 127.0.0.1, [::1]): serve listens on loopback only, ' +
            'and without ingest auth another name means a page in a browser reached it (DNS rebinding)',
        );
      if (options.ingestAuth === 'token' && !bearerMatches(req.headers.authorization, ...ingestTokens))
        return refuse(
          401,
          'missing or wrong token',
          'missing or wrong bearer token (Authorization: Bearer <token>)',
          { 'www-authenticate': 'Bearer' },
        );
      if (unsupported !== undefined) throw unsupported;
      if (draining)
        return refuse(503, 'shutting down', 'the receiver is shutting down', {
          ...retryAfter,
          ...closeConnection,
        });
      if (ingestInFlight() > limits.maxConcurrentRequests || queue.stats.pendingRows >= limits.maxPendingRows)
        return refuse(429, 'busy', 'the receiver is busy: retry later', retryAfter);
      const { rows, rejected, skipped, records } = await readRows(req, encoding);
      await queue.submit(rows);
      const message = rejected.count > 0 ? rejectionMessage(rejected) : '';
      // Rate-limited like refusals: a sender whose every request holds an oversized record is not retried (the
      // spec says so) and would otherwise write a line per request.
      if (rejected.count > 0) refusals.rejectRecords(rejected.count, rows.length, message, remoteAddress);
      log.log('debug', 'logs request committed', {
        records,
        rows: rows.length,
        ordinarySkipped: skipped,
      });
      otlpSuccess(res, encoding, rejected.count, message);
    } catch (error) {
      if (error instanceof UnsupportedMediaTypeError)
        return refuse(415, 'unsupported media type', error.message, closeConnection);
      if (error instanceof BodyTooLargeError)
        return refuse(
          413,
          error.what === 'body' ? 'body too large' : 'decompressed body too large',
          error.message,
          closeConnection,
        );
      if (error instanceof RowsTooLargeError) return refuse(413, 'rows too large', error.message);
      if (error instanceof TooManyRecordsError) return refuse(413, 'too many records', error.message);
      if (error instanceof TooManyJsonObjectsError)
        return refuse(413, 'too many JSON objects', error.message);
      if (error instanceof TooManyProtobufMessagesError)
        return refuse(413, 'too many protobuf messages', error.message);
      if (error instanceof OtlpDecodeError) return refuse(400, 'malformed request', error.message);
      if (error instanceof QueueFullError) return refuse(429, 'busy', error.message, retryAfter);
      if (error instanceof ReceiverUnavailableError)
        return draining
          ? refuse(503, 'shutting down', error.message, { ...retryAfter, ...closeConnection })
          : refuse(503, 'store unavailable', error.message, retryAfter);
      throw error;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // e.g. `GET //[ HTTP/1.1`: not a URL this server has.
      return sendError(res, 400, 'invalid_argument', 'malformed request target');
    }
    if (url.pathname === LOGS_PATH) {
      if (req.method !== 'POST')
        return otlpError(res, 'json', 405, 'POST OTLP logs to /v1/logs', { allow: 'POST' });
      return ingest(req, res);
    }
    if (url.pathname === HEALTH_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({ error: { code: 'method_not_allowed', message: 'GET /health' } }),
        );
      }
      // Unauthenticated; a challenge (bounded: it is hashed) is answered with proof of the token, see auth.ts.
      const challenge = url.searchParams.get(HEALTH_CHALLENGE_PARAM);
      const proof =
        challenge !== null && challenge.length > 0 && challenge.length <= MAX_CHALLENGE_LENGTH
          ? {
              challenge: healthChallengeAnswer(
                options.token,
                challenge,
                process.pid,
                req.socket.localPort ?? 0,
              ),
            }
          : {};
      // inFlight without this request itself.
      const body = {
        status: draining ? 'draining' : 'ok',
        ...proof,
        ...queue.stats,
        ...storeHealth(),
        inFlight: active.size - 1,
        queriesInFlight: queries.size,
        refused: refusals.stats,
        rejectedRecords: refusals.rejectedRecords,
        queryUnauthorized: refusals.queryUnauthorized,
        queryBusy: refusals.queryBusy,
      };
      res.writeHead(draining ? 503 : 200, {
        'content-type': 'application/json',
        ...(draining && closeConnection),
      });
      return void res.end(JSON.stringify(body));
    }
    if (url.pathname === QUERY_PREFIX || url.pathname.startsWith(`${QUERY_PREFIX}/`)) {
      if (!bearerMatches(req.headers.authorization, options.token)) {
        refusals.refuseQuery(req.socket.remoteAddress);
        res.setHeader('www-authenticate', 'Bearer');
        // The ingest token is the one services (and npm start's last lines) hand out: a likely first mistake.
        const ingestOnly =
          options.ingestToken !== undefined && bearerMatches(req.headers.authorization, options.ingestToken);
        return sendError(
          res,
          401,
          'unauthenticated',
          ingestOnly
            ? "this is the ingest token, which only sends events (POST /v1/logs); the query API takes serve's token (serve.token, --token-file or OTEL_AUDIT_SERVE_TOKEN)"
            : 'missing or wrong bearer token (Authorization: Bearer <token>)',
        );
      }
      if (draining) {
        res.setHeader('retry-after', String(limits.retryAfterSeconds));
        res.setHeader('connection', 'close');
        return sendError(res, 503, 'unavailable', 'the receiver is shutting down');
      }
      if (queries.size >= limits.maxConcurrentQueries) {
        refusals.refuseBusyQuery(req.socket.remoteAddress, queries.size);
        res.setHeader('retry-after', String(limits.retryAfterSeconds));
        return sendError(
          res,
          429,
          'too_many_requests',
          `${queries.size} query requests are in progress, the most serve answers at once ` +
            '(--max-concurrent-queries): retry later',
        );
      }
      queries.add(res);
      return handleQuery(options.reader, req, res, url, {
        retryAfterSeconds: limits.retryAfterSeconds,
        bodyIdleTimeoutMs: limits.bodyIdleTimeoutMs,
        sendStallTimeoutMs: limits.sendStallTimeoutMs,
        onBlocked: (waiting) => {
          if (waiting) blockedSince.set(res, performance.now());
          else blockedSince.delete(res);
        },
        // Counted where the router starts an export, so a request it refuses (a bad path, method or body) gets
        // its own answer, not this 429.
        admitExport: () => {
          if (exports.size >= maxExports) {
            refusals.refuseBusyExport(req.socket.remoteAddress, exports.size, maxExports);
            return (
              `exports already hold ${exports.size} of the ${maxExports} query slots they may take (half of ` +
              '--max-concurrent-queries, so page reads keep the rest): retry later'
            );
          }
          exports.add(res);
          return undefined;
        },
        onResponseCut: (error) =>
          error instanceof SendStalledError
            ? log.log('warn', 'query reader stalled: connection cut', {
                path: url.pathname,
                stallMs: error.stallMs,
              })
            : log.log('error', 'export failed after it had started: connection cut', {
                error: error instanceof Error ? error.message : String(error),
              }),
      });
    }
    return sendError(res, 404, 'not_found', `no route ${url.pathname}`);
  }

  // Headers within MAX_QUERY_HEADER_BYTES (Node's default; the query API takes long filters in a POST body).
  // Node checks the headers and request timeouts every connectionsCheckingInterval (default 30 s: a silent
  // connection held its socket up to 60 s, not 30).
  const server: Server = createServer(
    { maxHeaderSize: MAX_QUERY_HEADER_BYTES, connectionsCheckingInterval: 2_000 },
    (req, res) => {
      active.add(res);
      requests += 1;
      route(req, res)
        .catch((error: unknown) => {
          // A client that goes away mid-body is not a server error: nothing of its request was acknowledged.
          // (`req.destroyed` alone is true after any body was read whole: a real failure then logged as debug.)
          const aborted =
            (error as { code?: string }).code === 'ECONNRESET' || (req.destroyed && !req.complete);
          if (error instanceof BodyStalledError)
            log.log('warn', 'request body stalled: connection dropped', {
              path: req.url,
              idleMs: error.idleMs,
            });
          else
            log.log(aborted ? 'debug' : 'error', aborted ? 'client went away' : 'request failed', {
              path: req.url,
              error,
            });
          const message = 'internal error (see the serve log)';
          if (res.headersSent) res.destroy();
          // An OTLP sender reads a google.rpc.Status in its request's encoding.
          else if (req.url?.split('?')[0] === LOGS_PATH)
            otlpError(res, otlpEncodingOf(req.headers['content-type']), 500, message);
          else sendError(res, 500, 'internal', message);
        })
        .finally(() => {
          active.delete(res);
          queries.delete(res);
          exports.delete(res);
          blockedSince.delete(res);
          if (active.size === 0) for (const resolve of idle.splice(0)) resolve();
        });
    },
  );
  // Headers must come within 30 s; a slow body is bounded by the size limit, the body idle timeout and the
  // request timeout.
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  server.maxConnections = limits.maxConnections;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<ShutdownReport> | undefined;
  async function shutdown(): Promise<ShutdownReport> {
    draining = true;
    // Requests in progress answer with `Connection: close`: their connections close once they are answered.
    for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // One deadline for all of it: an insert that hangs (a ClickHouse server that stopped answering) must not
    // hold shutdown past --shutdown-timeout.
    const deadline = performance.now() + limits.shutdownTimeoutMs;
    // Every request is answered within the deadline, except a query response whose writes have waited
    // shutdownStallMs for its client (read-only: the client asks again), now or while draining.
    const cutStalled = () => {
      const now = performance.now();
      for (const [res, since] of blockedSince)
        if (now - since >= limits.shutdownStallMs) {
          log.log('info', 'shutdown: cutting a query response its client is not reading', {
            waitedMs: Math.round(now - since),
          });
          blockedSince.delete(res);
          res.destroy();
        }
    };
    cutStalled();
    const stallCheck = setInterval(cutStalled, limits.shutdownStallMs / 4);
    const drained =
      active.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
    const waited = await within(drained, deadline);
    clearInterval(stallCheck);
    if (waited === 'timeout')
      log.log('warn', 'shutdown timeout: closing connections with requests still in flight', {
        inFlight: active.size,
      });
    refusals.close();
    // Before waiting for the queue: a request cut off was not acknowledged, so its sender sends it again.
    server.closeAllConnections();
    let report: ShutdownReport = { clean: true, unacknowledgedRows: 0 };
    if ((await within(queue.close(), deadline)) === 'timeout') {
      const unacknowledgedRows = queue.stats.pendingRows;
      log.log('error', 'shutdown timeout: inserts still running, their rows not acknowledged', {
        unacknowledgedRows,
      });
      report = { clean: false, unacknowledgedRows };
    }
    await closed;
    return report;
  }

  const { port } = server.address() as AddressInfo;
  const host = publishedHost(options.host);

  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => ({
      ...queue.stats,
      requests,
      inFlight: active.size,
      queriesInFlight: queries.size,
      refused: refusals.stats,
      rejectedRecords: refusals.rejectedRecords,
      queryUnauthorized: refusals.queryUnauthorized,
      queryBusy: refusals.queryBusy,
    }),
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
