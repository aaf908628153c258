// What the demo prints when the exporter gave up on events: the first failure, said so a user can act on it.

/** The OTLP exporter's HTTP failure carries the status in `code` and the response body in `data`. */
interface HttpExportError extends Error {
  code?: unknown;
  data?: unknown;
}

const MAX_BODY = 300;

/** The endpoint and how to give serve's token, for a 401. */
export const TOKEN_HINT =
  'otel-audit serve requires a bearer token: set OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$(cat <state dir>/serve.ingest-token)" ' +
  "(the state directory is serve's --state-dir, by default its --data-dir)";

/** One line: `HTTP 401 Unauthorized: {"code":16,...}`, or the network error's message (`connect ECONNREFUSED …`). */
export function describeExportError(error: Error): string {
  let http: HttpExportError | undefined;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++)
    if (typeof (e as HttpExportError).code === 'number') http = e;
  if (http === undefined) return error.message || error.name;
  const { code, data } = http;
  error = http;
  const body = typeof data === 'string' ? data.trim() : '';
  const shown = body.length > MAX_BODY ? `${body.slice(0, MAX_BODY)}…` : body;
  const line = `HTTP ${code}${error.message ? ` ${error.message}` : ''}${shown ? `: ${shown}` : ''}`;
  return code === 401 ? `${line}\n${TOKEN_HINT}` : line;
}
