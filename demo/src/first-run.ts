// `npm start`: the whole of otel-audit on one machine. Starts `otel-audit serve` on an embedded store
// (.data/otel-audit), records a realistic demo dataset through the SDK over OTLP/HTTP with a progress bar,
// checks that every event of this run was stored (by this run's event ids), prints what to try next, and keeps
// serving until Ctrl-C.
//
// Environment: OTEL_AUDIT_DATA_DIR (default .data/otel-audit), OTEL_AUDIT_SERVE_PORT (default 4318, another free
// port if taken), OTEL_AUDIT_DEMO_EVENTS (default 5000), OTEL_AUDIT_DEMO_SEED (default 42),
// OTEL_AUDIT_FIRST_RUN_EXIT=1 to stop once the data is loaded (scripts, tests).
import { resolve } from 'node:path';
import { AuditStore, DataDirectoryLockedError } from '@otel-audit/clickhouse';
import {
  jsonLogger,
  listenForStop,
  type RunningServe,
  readDiscovery,
  startServe,
} from '@otel-audit/collector';
import { createAuditLogger } from '@otel-audit/sdk';
import { AUDIT_TABLES, AUDIT_COLUMNS as C } from '@otel-audit/sdk/conventions';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
import { intEnv } from './env.js';
import { generateDemoEvents } from './generate.js';
import { progressBar } from './progress.js';
import { recordDemoEvents } from './record.js';

const say = (text = '') => process.stdout.write(`${text}\n`);

/** Applies the migrations (as serve would at start); returns the names of those applied now. */
async function migrate(dataDir: string): Promise<string[]> {
  const store = await AuditStore.open({ path: dataDir });
  try {
    return (await store.migrate()).applied;
  } finally {
    await store.close();
  }
}

async function start(dataDir: string, port: number): Promise<RunningServe> {
  // serve's own JSON logs: warnings and errors only, so the first run reads as a story. Migrated already.
  const options = { store: { path: dataDir }, log: jsonLogger(undefined, 'warn'), migrate: false };
  try {
    return await startServe({ ...options, port });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    say(`port ${port} is taken (a collector?); serving on another free port instead`);
    return startServe({ ...options, port: 0 });
  }
}

async function main(): Promise<number> {
  const dataDir = resolve(process.env.OTEL_AUDIT_DATA_DIR || '.data/otel-audit');
  const count = intEnv('OTEL_AUDIT_DEMO_EVENTS', 5000);
  const seed = intEnv('OTEL_AUDIT_DEMO_SEED', 42);
  const began = Date.now();

  say(`otel-audit: starting serve on the embedded store in ${dataDir}`);
  let serve: RunningServe;
  try {
    const applied = await migrate(dataDir);
    if (applied.length > 0) say(`first start: created the tables (${applied.join(', ')})`);
    serve = await start(dataDir, intEnv('OTEL_AUDIT_SERVE_PORT', 4318));
  } catch (error) {
    if (error instanceof DataDirectoryLockedError) {
      const running = readDiscovery(dataDir);
      process.stderr.write(
        `otel-audit: ${dataDir} is in use${running ? ` by otel-audit serve at ${running.url} (pid ${running.pid})` : ''}.\n` +
          'Stop that process (Ctrl-C in its terminal), or set OTEL_AUDIT_DATA_DIR to another directory.\n',
      );
      return 1;
    }
    throw error;
  }
  say(
    `serve is up: ${serve.url} (OTLP/HTTP /v1/logs and the query API; token in ${serve.tokenFile ?? 'env'}, ` +
      `ingest token in ${serve.ingestTokenFile ?? 'env'})`,
  );
  // From here on serve drains on Ctrl-C, while loading too (Node's default action killed it mid-load and left
  // serve.json behind). Under npm one press arrives twice (the terminal's and npm's forwarded copy): one stop.
  const stop = listenForStop();
  let stopped = false;
  void stop.first.then(() => {
    stopped = true;
  });
  stop.onSecond(() => {
    say('second signal: exiting without finishing in-flight requests');
    process.exit(1);
  });

  // The demo records through the SDK exactly as a service would: OTLP/HTTP to serve, with the ingest token.
  const provider = createAuditLoggerProvider({
    serviceName: 'otel-audit-demo',
    endpoint: serve.url,
    headers: { authorization: `Bearer ${serve.ingestToken ?? serve.token}` },
    processor: {
      maxQueueSize: Math.max(2048, count + 1),
      // Nor by bytes: a large OTEL_AUDIT_DEMO_EVENTS outpaces the export (the dataset is bounded by its count).
      maxQueueBytes: Number.POSITIVE_INFINITY,
      maxExportBatchSize: 1000,
      scheduledDelayMillis: 200,
    },
  });
  const audit = createAuditLogger({ loggerProvider: provider, strictActions: true, flushOnExit: false });
  const bar = progressBar('recording demo events');
  // An explicit end: this run's events (and so their ids) can be generated again below to find them stored.
  const end = new Date();
  const loading = new AbortController();
  void stop.first.then(() => loading.abort());
  const summary = await recordDemoEvents(audit, count, ({ done, total }) => bar.update(done, total), {
    seed,
    end,
    signal: loading.signal,
  });
  bar.done();
  if (loading.signal.aborted) {
    // Stopped while loading: the loop ends, what was recorded is sent, then serve drains and closes as on any
    // stop.
    say(`stopping: sending the ${summary.recorded} events recorded, then finishing in-flight requests`);
    await audit.shutdown();
    await provider.shutdown();
    await serve.close();
    return 130;
  }
  await audit.shutdown();
  await provider.shutdown();
  // Read after the provider's shutdown: records it gave up on there are counted only then.
  const stats = audit.stats();
  if (stats.exported !== summary.recorded) {
    process.stderr.write(
      `otel-audit: only ${stats.exported} of ${summary.recorded} events were delivered ` +
        `(dropped ${stats.dropped}, failed ${stats.failed}, pending ${stats.pending})\n`,
    );
    await serve.close();
    return 1;
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  // serve acknowledged only committed rows: every id of this run must be found.
  const ids = generateDemoEvents(count, { seed, end }).map((e) => e.id as string);
  const thisRun = await serve.store.query<{ tenant: string; events: string }>(
    `SELECT ${C.tenant} AS tenant, count() AS events FROM {db}.${AUDIT_TABLES.events} FINAL
     WHERE has({ids:Array(UUID)}, ${C.eventId}) GROUP BY tenant`,
    { ids },
  );
  const totals = await serve.store.query<{ tenant: string; events: string }>(
    `SELECT ${C.tenant} AS tenant, count() AS events FROM {db}.${AUDIT_TABLES.events} FINAL
     GROUP BY tenant ORDER BY tenant`,
  );
  const found = new Map(thisRun.map((r) => [r.tenant, Number(r.events)]));
  const foundAll = [...found.values()].reduce((a, b) => a + b, 0);
  say(
    `recorded ${summary.recorded} events (${summary.failures} with outcome failure) in ${seconds} s; ` +
      `found stored: ${foundAll} of this run's ${summary.recorded}`,
  );
  say(`  ${'tenant'.padEnd(10)} ${'this run'.padStart(8)}  ${'in the store (all runs)'}`);
  for (const row of totals)
    say(`  ${row.tenant.padEnd(10)} ${String(found.get(row.tenant) ?? 0).padStart(8)}  ${row.events}`);
  if (foundAll !== summary.recorded) {
    process.stderr.write(
      `otel-audit: serve acknowledged ${summary.recorded} events of this run but ${foundAll} are stored\n`,
    );
    await serve.close();
    return 1;
  }
  const tenant = summary.tenants[0] ?? 'acme';
  const [busiest] = await serve.store.query<{ actor_id: string; target_type: string; target_id: string }>(
    `SELECT ${C.actorId} AS actor_id, ${C.targets}[1].type AS target_type, ${C.targets}[1].id AS target_id
     FROM {db}.${AUDIT_TABLES.events} FINAL
     WHERE ${C.tenant} = {tenant:String} AND notEmpty(${C.targets}) GROUP BY actor_id, target_type, target_id
     ORDER BY count() DESC LIMIT 1`,
    { tenant },
  );
  const [newest] = await serve.store.query<{ id: string }>(
    `SELECT toString(${C.eventId}) AS id FROM {db}.${AUDIT_TABLES.events} FINAL
     WHERE ${C.tenant} = {tenant:String} AND has({ids:Array(UUID)}, ${C.eventId})
     ORDER BY ${C.occurredAt} DESC LIMIT 1`,
    { tenant, ids },
  );
  const curl = `curl -H "authorization: Bearer $(cat ${serve.tokenFile ?? '<token file>'})"`;
  say(`
Try next (another terminal, while this one keeps serving):

  npm run -s cli -- events --data-dir ${dataDir} --tenant ${tenant} --limit 10
  npm run -s cli -- events --data-dir ${dataDir} --tenant ${tenant} --outcome failure --action 'auth.*'
  npm run -s cli -- event ${newest?.id ?? '<event id>'} --data-dir ${dataDir} --tenant ${tenant}
  npm run -s cli -- actor ${busiest?.actor_id ?? '<actor id>'} --data-dir ${dataDir} --tenant ${tenant}
  npm run -s cli -- target ${busiest?.target_type ?? '<type>'} ${busiest?.target_id ?? '<id>'} --data-dir ${dataDir} --tenant ${tenant}
  npm run -s cli -- export --data-dir ${dataDir} --tenant ${tenant} --format csv --output ${tenant}.csv
  ${curl} '${serve.url}/v1/audit/events?tenant=${tenant}&limit=5'

Send your own service's audit events here (any OTel SDK, JSON or protobuf):

  OTEL_EXPORTER_OTLP_ENDPOINT=${serve.url}
  OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20${serve.ingestTokenFile ? `$(cat ${serve.ingestTokenFile})` : '<the ingest token>'}"
`);

  if (process.env.OTEL_AUDIT_FIRST_RUN_EXIT === '1') {
    await serve.close();
    return 0;
  }
  if (!stopped) say('serving; Ctrl-C to stop');
  await stop.first;
  say('stopping: finishing in-flight requests');
  await serve.close();
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`otel-audit: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
