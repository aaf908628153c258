import {
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  jsonLogger,
  LOG_LEVELS,
  type LogLevel,
  ReceiverConfigError,
  type ReceiverLimits,
  startServe,
} from '@otel-audit/collector';
import type { Command, OptionValues } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import { SERVE_TOKEN_ENV } from '../remote-store.js';
import { STORE_HELP, STORE_OPTIONS, storeTarget, str } from '../store-options.js';

/** Environment variables of serve (the store's are shared with the other commands). */
export const SERVE_ENV = {
  host: 'OTEL_AUDIT_SERVE_HOST',
  port: 'OTEL_AUDIT_SERVE_PORT',
  token: SERVE_TOKEN_ENV,
  ingestAuth: 'OTEL_AUDIT_SERVE_INGEST_AUTH',
  records: 'OTEL_AUDIT_SERVE_RECORDS',
  logLevel: 'OTEL_AUDIT_LOG_LEVEL',
} as const;

function whole(values: OptionValues, flag: string, min = 0): number | undefined {
  const value = str(values, flag);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new UsageError(`--${flag}: expected a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return Number(value);
}

const LIMIT_FLAGS: [flag: string, key: keyof ReceiverLimits][] = [
  ['max-body-bytes', 'maxBodyBytes'],
  ['max-record-size', 'maxRecordSize'],
  ['max-pending-rows', 'maxPendingRows'],
  ['max-batch-rows', 'maxBatchRows'],
  ['max-concurrent-requests', 'maxConcurrentRequests'],
  ['insert-concurrency', 'insertConcurrency'],
];

export const serve: Command = {
  name: 'serve',
  summary: 'run the local OTLP/HTTP receiver (/v1/logs) and the query API on the store',
  usage: `serve [--data-dir PATH | --url URL] [options]

Receives OTLP/HTTP logs on POST /v1/logs (application/x-protobuf or application/json, gzip), writes them as
the collector's ClickHouse exporter would, and acknowledges only committed rows. Serves the query API
(GET /v1/audit/...) and GET /health. Owns an embedded data directory: while it runs, the other commands read
through it: it writes serve.json with its URL into its state directory (--state-dir, default the data
directory), so a read command started with --state-dir elsewhere needs the same --state-dir. Stops gracefully
on SIGTERM/SIGINT.

  --host HOST                   listen address (default ${DEFAULT_HOST})          ${SERVE_ENV.host}
  --port N                      listen port, 0 = any free one (default ${DEFAULT_PORT}) ${SERVE_ENV.port}
  --token-file PATH             file with the bearer token (default: <state dir>/serve.token, generated 0600)
                                or the token itself in ${SERVE_ENV.token} (--token-file beats it)
  --ingest-auth token|none      whether POST /v1/logs needs the token too (default token) ${SERVE_ENV.ingestAuth}
  --records audit|all           store audit records only (default; other log records are accepted and dropped,
                                as gateway.yaml's filter does) or every log record   ${SERVE_ENV.records}
  --state-dir PATH              token and serve.json (default: the data directory; with --url,
                                $XDG_STATE_HOME/otel-audit)
  --max-body-bytes N            largest body, also after gunzip; 413 above (default ${DEFAULT_LIMITS.maxBodyBytes})
  --max-record-size N           largest record in characters (body + attributes); rejected by OTLP partial
                                success above (default ${DEFAULT_LIMITS.maxRecordSize})
  --max-pending-rows N          rows waiting to be written before 429 (default ${DEFAULT_LIMITS.maxPendingRows})
  --max-batch-rows N            rows per insert, concurrent requests grouped (default ${DEFAULT_LIMITS.maxBatchRows})
  --max-concurrent-requests N   requests in progress before 429 (default ${DEFAULT_LIMITS.maxConcurrentRequests})
  --insert-concurrency N        inserts at once, one store connection each (default ${DEFAULT_LIMITS.insertConcurrency})
  --shutdown-timeout SECONDS    wait for in-flight requests on SIGTERM (default ${DEFAULT_LIMITS.shutdownTimeoutMs / 1000})
  --logs-engine Null|MergeTree  keep raw otel_logs rows (as migrate; default Null)
  --skip-migrations             do not run migrations at start
  --log-level L                 ${LOG_LEVELS.join('|')} (default info); JSON lines on stderr ${SERVE_ENV.logLevel}

${STORE_HELP}

Exit codes: 0 stopped by a signal after draining, 1 failure (directory locked, port in use), 2 usage error.`,
  options: {
    ...STORE_OPTIONS,
    host: { type: 'string' },
    port: { type: 'string' },
    'token-file': { type: 'string' },
    'ingest-auth': { type: 'string' },
    records: { type: 'string' },
    'state-dir': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'max-record-size': { type: 'string' },
    'max-pending-rows': { type: 'string' },
    'max-batch-rows': { type: 'string' },
    'max-concurrent-requests': { type: 'string' },
    'insert-concurrency': { type: 'string' },
    'shutdown-timeout': { type: 'string' },
    'logs-engine': { type: 'string' },
    'skip-migrations': { type: 'boolean' },
    'log-level': { type: 'string' },
  },
  async run(values, _positionals, ctx) {
    const target = storeTarget(values, ctx.env);
    const ingestAuth = str(values, 'ingest-auth') ?? ctx.env[SERVE_ENV.ingestAuth] ?? 'token';
    if (ingestAuth !== 'token' && ingestAuth !== 'none')
      throw new UsageError('--ingest-auth: expected token or none');
    const records = str(values, 'records') ?? ctx.env[SERVE_ENV.records] ?? 'audit';
    if (records !== 'audit' && records !== 'all') throw new UsageError('--records: expected audit or all');
    const level = str(values, 'log-level') ?? ctx.env[SERVE_ENV.logLevel] ?? 'info';
    if (!LOG_LEVELS.includes(level as LogLevel))
      throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}`);
    const logsEngine = str(values, 'logs-engine');
    if (logsEngine !== undefined && logsEngine !== 'Null' && logsEngine !== 'MergeTree')
      throw new UsageError('--logs-engine: expected Null or MergeTree');
    const portText = str(values, 'port') ?? ctx.env[SERVE_ENV.port];
    const port = portText === undefined ? DEFAULT_PORT : Number(portText);
    if (portText !== undefined && (!/^\d+$/.test(portText) || port > 65535))
      throw new UsageError(`--port: expected 0..65535, got ${JSON.stringify(portText)}`);
    const limits: Partial<ReceiverLimits> = {};
    for (const [flag, key] of LIMIT_FLAGS) {
      const n = whole(values, flag, 1);
      if (n !== undefined) limits[key] = n;
    }
    const shutdown = whole(values, 'shutdown-timeout', 1);
    if (shutdown !== undefined) limits.shutdownTimeoutMs = shutdown * 1000;
    const tokenFile = str(values, 'token-file');
    // A flag beats the environment: with --token-file the variable is not passed at all (startServe would
    // prefer a given token over the file).
    const token = tokenFile === undefined ? ctx.env[SERVE_ENV.token] : undefined;
    const stateDir = str(values, 'state-dir');

    let running: Awaited<ReturnType<typeof startServe>>;
    try {
      running = await startServe({
        store: target,
        host: str(values, 'host') ?? ctx.env[SERVE_ENV.host] ?? DEFAULT_HOST,
        port,
        ingestAuth,
        records,
        limits,
        ...(token !== undefined && { token }),
        ...(tokenFile !== undefined && { tokenFile }),
        ...(stateDir !== undefined && { stateDir }),
        migrate: values['skip-migrations'] ? false : { ...(logsEngine !== undefined && { logsEngine }) },
        log: jsonLogger((line) => ctx.stderr(line), level as LogLevel),
      });
    } catch (error) {
      if (error instanceof ReceiverConfigError) throw new UsageError(error.message);
      if ((error as { code?: string }).code === 'EADDRINUSE')
        throw new Error(`port ${port} is already in use: stop what listens there or pass --port`, {
          cause: error,
        });
      throw error;
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    // A second signal while draining means "now".
    const force = () => {
      ctx.stderr(
        `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'second signal: exiting without draining' })}\n`,
      );
      process.exit(EXIT.failure);
    };
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    ctx.stderr(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'signal received', signal })}\n`,
    );
    await running.close();
    process.off('SIGTERM', force);
    process.off('SIGINT', force);
    return EXIT.ok;
  },
};
