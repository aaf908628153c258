// `npm start`: the whole of otel-audit on one machine. Starts `otel-audit serve` on an embedded store
// (.data/otel-audit), records a realistic demo dataset through the SDK over OTLP/HTTP with a progress bar,
// checks that every event was stored, prints what to try next, and keeps serving until Ctrl-C.
//
// Environment: OTEL_AUDIT_DATA_DIR (default .data/otel-audit), OTEL_AUDIT_SERVE_PORT (default 4318, another free
// port if taken), OTEL_AUDIT_DEMO_EVENTS (default 5000), OTEL_AUDIT_DEMO_SEED (default 42),
// OTEL_AUDIT_FIRST_RUN_EXIT=1 to stop once the data is loaded (scripts, tests).
import { resolve } from 'node:path';
import { DataDirectoryLockedError } from '@otel-audit/clickhouse';
import { jsonLogger, type RunningServe, readDiscovery, startServe } from '@otel-audit/collector';
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
import { intEnv } from './env.js';
import { progressBar } from './progress.js';
import { recordDemoEvents } from './record.js';

const say = (text = '') => process.stdout.write(`${text}\n`);

async function start(dataDir: string, port: number): Promise<RunningServe> {
  // serve's own JSON logs: warnings and errors only, so the first run reads as a story.
  const options = { store: { path: dataDir }, log: jsonLogger(undefined, 'warn') };
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

  say(`otel-audit: starting serve on the embedded store in ${dataDir} (first start: creating tables)`);
  let serve: RunningServe;
  try {
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
    `serve is up: ${serve.url} (OTLP/HTTP /v1/logs and the query API; token in ${serve.tokenFile ?? 'env'})`,
  );

  // The demo records through the SDK exactly as a service would: OTLP/HTTP to serve, with the token.
  const provider = createAuditLoggerProvider({
    serviceName: 'otel-audit-demo',
    endpoint: serve.url,
    headers: { authorization: `Bearer ${serve.token}` },
    processor: {
      maxQueueSize: Math.max(2048, count + 1),
      maxExportBatchSize: 1000,
      scheduledDelayMillis: 200,
    },
  });
  const audit = createAuditLogger({ loggerProvider: provider, strictActions: true, flushOnExit: false });
  const bar = progressBar('recording demo events');
  const summary = await recordDemoEvents(audit, count, ({ done, total }) => bar.update(done, total), {
    seed,
  });
  bar.done();
  const stats = await audit.shutdown();
  await provider.shutdown();
  if (stats.exported !== summary.recorded) {
    process.stderr.write(
      `otel-audit: only ${stats.exported} of ${summary.recorded} events were delivered ` +
        `(dropped ${stats.dropped}, failed ${stats.failed}, pending ${stats.pending})\n`,
    );
    await serve.close();
    return 1;
  }

  const perTenant = await serve.store.query<{ tenant: string; events: string }>(
    'SELECT tenant, count() AS events FROM {db}.audit_events FINAL GROUP BY tenant ORDER BY tenant',
  );
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  say(
    `recorded ${summary.recorded} events (${summary.failures} failures) in ${seconds} s; stored per tenant:`,
  );
  for (const row of perTenant) say(`  ${row.tenant.padEnd(10)} ${row.events}`);
  const tenant = summary.tenants[0] ?? 'acme';
  const [busiest] = await serve.store.query<{ actor_id: string; target_type: string; target_id: string }>(
    `SELECT actor_id, targets[1].type AS target_type, targets[1].id AS target_id FROM {db}.audit_events FINAL
     WHERE tenant = {tenant:String} AND notEmpty(targets) GROUP BY actor_id, target_type, target_id
     ORDER BY count() DESC LIMIT 1`,
    { tenant },
  );
  const curl = `curl -H "authorization: Bearer $(cat ${serve.tokenFile ?? '<token file>'})"`;
  say(`
Try next (another terminal, while this one keeps serving):

  npm run -s cli -- events --data-dir ${dataDir} --tenant ${tenant} --limit 10
  npm run -s cli -- events --data-dir ${dataDir} --tenant ${tenant} --outcome failure --action 'auth.*'
  npm run -s cli -- actor ${busiest?.actor_id ?? '<actor id>'} --data-dir ${dataDir} --tenant ${tenant}
  npm run -s cli -- target ${busiest?.target_type ?? '<type>'} ${busiest?.target_id ?? '<id>'} --data-dir ${dataDir} --tenant ${tenant}
  npm run -s cli -- export --data-dir ${dataDir} --tenant ${tenant} --format csv --output ${tenant}.csv
  ${curl} '${serve.url}/v1/audit/events?tenant=${tenant}&limit=5'

Send your own service's audit events here (any OTel SDK, JSON or protobuf):

  OTEL_EXPORTER_OTLP_ENDPOINT=${serve.url}
  OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer <the token in ${serve.tokenFile ?? 'OTEL_AUDIT_SERVE_TOKEN'}>"
`);

  if (process.env.OTEL_AUDIT_FIRST_RUN_EXIT === '1') {
    await serve.close();
    return 0;
  }
  say('serving; Ctrl-C to stop');
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  say('stopping: finishing in-flight requests');
  await serve.close();
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`otel-audit: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
