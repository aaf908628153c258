// `serve` as a library call: opens (and migrates) the store, resolves the token, starts the HTTP server and
// writes the discovery file; close() drains, closes the store and removes the file.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import {
  AuditStore,
  assertChdbInstalled,
  displayServerUrl,
  isEmbeddedTarget,
  isStoreUnreachable,
  type MigrationOptions,
  type StoreTarget,
} from '@otel-audit/clickhouse';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { INGEST_TOKEN_NAMES, resolveToken } from './auth.js';
import { DEFAULT_HOST, DEFAULT_PORT, type ReceiverLimitOverrides, receiverLimits } from './config.js';
import { processStart, removeDiscovery, writeDiscovery } from './discovery.js';
import { ReceiverConfigError, StoreNotMigratedError } from './errors.js';
import { keyRepairFile, TargetKeyRepair } from './key-repair.js';
import { jsonLogger, type Logger } from './log.js';
import { RETENTION_REFRESH_MS, type Retention, serverNow, watchRetention } from './retention.js';
import { type ReceiverServer, type ShutdownReport, startReceiverServer } from './server.js';
import { prepareStateDir, refuseSharedStateDir, type ServedStore, serverIdentity } from './state-dir.js';
import { within } from './within.js';

export interface ServeOptions {
  /** Embedded chDB directory (`{ path }`) or ClickHouse server (`{ url, ... }`). */
  store: StoreTarget;
  /**
   * Where the token and the discovery file live: the data directory for an embedded store; for a server,
   * default `$XDG_STATE_HOME/otel-audit` (or `~/.local/state/otel-audit`).
   */
  stateDir?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  /** The bearer token; else `tokenFile`; else `<stateDir>/serve.token`, generated on first start. */
  token?: string | undefined;
  tokenFile?: string | undefined;
  /**
   * The ingest token: /v1/logs takes it (as well as the token), the query API does not, so a service that sends
   * events cannot read them. Else `ingestTokenFile`; else `<stateDir>/serve.ingest-token`, generated on first
   * start. Not used with `ingestAuth: 'none'`.
   */
  ingestToken?: string | undefined;
  ingestTokenFile?: string | undefined;
  /** Whether /v1/logs needs a token (the ingest token or the token; default `token`). */
  ingestAuth?: 'token' | 'none' | undefined;
  /** Store audit records only (default: ordinary logs are accepted and dropped, as by gateway.yaml) or all. */
  records?: 'audit' | 'all' | undefined;
  limits?: ReceiverLimitOverrides | undefined;
  /** Applied at start (default true); options as `otel-audit migrate`. */
  migrate?: boolean | Omit<MigrationOptions, 'database'> | undefined;
  log?: Logger | undefined;
}

export interface RunningServe {
  url: string;
  port: number;
  token: string;
  /** File holding the token, when one does. */
  tokenFile?: string;
  /** The ingest token (absent with `ingestAuth: 'none'`) and the file holding it, when one does. */
  ingestToken?: string;
  ingestTokenFile?: string;
  stateDir: string;
  discoveryFile: string;
  server: ReceiverServer;
  /** The store's read connection (for an application embedding serve; writes go through /v1/logs). */
  store: AuditStore;
  /** Drains and stops (see ReceiverServer.close); `clean: false` when an insert was still running at the deadline. */
  close(): Promise<ShutdownReport>;
}

export function defaultStateDir(
  target: StoreTarget,
  env: Record<string, string | undefined> = process.env,
): string {
  if (isEmbeddedTarget(target)) return resolve(target.path);
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'otel-audit');
}

/** A server URL for the log: a password written into it (`http://user:secret@host`) is not echoed. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * A server URL without user, password or the client's credential parameters (`?access_token=`, `?http_header_…=`):
 * serve.json's storeUrl (the file may be read by the CLI's user, and a second serve's refusal prints it). The other
 * parameters stay: they tell servers apart (`?pathname=` behind one proxy).
 */
function withoutUserInfo(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()])
      if (key === 'access_token' || key.startsWith('http_header_')) parsed.searchParams.delete(key);
    return parsed.toString();
  } catch {
    return withoutCredentials(url);
  }
}

/**
 * What names the store for its key-repair file: in the data directory or under it (the default state directory is
 * the data directory), the database alone, so the file moves with the directory; else the directory's real path,
 * or the server (serverIdentity), and the database.
 */
function repairIdentity(store: StoreTarget, stateDir: string, database: string): string {
  if (isEmbeddedTarget(store)) {
    const dataDir = realpathSync(store.path);
    const state = realpathSync(stateDir);
    const inside = state === dataDir || state.startsWith(`${dataDir}${sep}`);
    return JSON.stringify(inside ? { database } : { dataDir, database });
  }
  return JSON.stringify({ server: serverIdentity(store.url), database });
}

/** The store as serve.json names it; a data directory not made yet is its resolved path. */
function servedStore(store: StoreTarget): ServedStore {
  const database = store.database ?? 'default';
  if (isEmbeddedTarget(store))
    return { dataDir: existsSync(store.path) ? realpathSync(store.path) : resolve(store.path), database };
  return { storeUrl: withoutUserInfo(store.url), database };
}

/**
 * Listens on the address and lets it go at once: throws Node's listen error (EADDRINUSE, EADDRNOTAVAIL) if the
 * server could not listen there. Port 0 (any free one) needs no check.
 */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, host, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/**
 * The store opens a directory it creates 0700; an existing one keeps its mode (changing a user's directory is
 * theirs to do): one others may enter gives them every tenant's events without the token, so serve says so.
 */
function warnIfOthersMayRead(dataDir: string, log: Logger): void {
  if (process.platform === 'win32') return;
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) !== 0)
    log.log('warn', 'the data directory is open to other users: they can copy the events without the token', {
      dataDir,
      mode: mode.toString(8).padStart(4, '0'),
      fix: `chmod 700 ${dataDir}`,
    });
}

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const log = options.log ?? jsonLogger();
  const limits = receiverLimits(options.limits);
  const stateDir = resolve(options.stateDir ?? defaultStateDir(options.store));
  if (isEmbeddedTarget(options.store) && options.store.path === ':memory:')
    throw new Error('serve needs a data directory, not :memory:');
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  // Before anything is opened, created or migrated: a port in use found after a migration of minutes, or after
  // a new data directory was made, cost both for nothing.
  await assertPortFree(host, port);
  if (isEmbeddedTarget(options.store)) await assertChdbInstalled();
  // So is the state directory: one serve cannot write (its tokens, serve.json), or one a live serve of another
  // store holds, is refused before a data directory is made or migrated.
  prepareStateDir(stateDir);
  const served = servedStore(options.store);
  refuseSharedStateDir(stateDir, served);
  const token = resolveToken({
    ...(options.token !== undefined && { token: options.token }),
    ...(options.tokenFile !== undefined && { tokenFile: options.tokenFile }),
    stateDir,
  });
  if (token.source === 'generated') log.log('info', 'generated a bearer token', { tokenFile: token.file });
  const ingestAuth = options.ingestAuth ?? 'token';
  const ingestToken =
    ingestAuth === 'token'
      ? resolveToken(
          {
            ...(options.ingestToken !== undefined && { token: options.ingestToken }),
            ...(options.ingestTokenFile !== undefined && { tokenFile: options.ingestTokenFile }),
            stateDir,
          },
          INGEST_TOKEN_NAMES,
        )
      : undefined;
  // The same value would read as an ingest-only credential and be a read token.
  if (ingestToken?.token === token.token)
    throw new ReceiverConfigError(
      ingestToken.file ?? INGEST_TOKEN_NAMES.token,
      'the ingest token is the same as the token: give services an ingest token of its own',
    );
  if (ingestToken?.source === 'generated')
    log.log('info', 'generated an ingest token', { ingestTokenFile: ingestToken.file });

  // Separate connections for inserts and reads: each runs one statement at a time, so reads never queue behind a
  // batch, and several inserts run at once.
  const writer = await AuditStore.open(options.store);
  if (isEmbeddedTarget(options.store)) warnIfOthersMayRead(options.store.path, log);
  const writers: AuditStore[] = [writer];
  let reader: AuditStore | undefined;
  let retention: Retention | undefined;
  let server: ReceiverServer | undefined;
  try {
    if (options.migrate !== false) {
      const result = await writer.migrate(typeof options.migrate === 'object' ? options.migrate : {}, {
        // Before the port opens: a migration that copies data (0006) can take minutes on a large store.
        onMigration: (name) => log.log('info', 'applying migration', { name }),
      });
      log.log('info', 'migrations', {
        applied: result.applied,
        alreadyApplied: result.alreadyApplied.length,
        ...(result.recreated.length > 0 && { recreated: result.recreated }),
      });
    } else {
      // A server that is down now may come up later (reads answer 503 meanwhile): checked only if reachable.
      const status = await writer.migrationStatus().catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!isStoreUnreachable(error))
          throw new Error(
            `cannot check the store for pending migrations (serve's user needs SELECT on ` +
              `${writer.database}.${AUDIT_TABLES.migrations}): ${message}`,
            { cause: error },
          );
        log.log('warn', 'could not check the store for pending migrations: it cannot be reached', {
          error: message,
        });
        return undefined;
      });
      if (status && (status.pending.length > 0 || status.unknown.length > 0))
        throw new StoreNotMigratedError(status);
    }
    while (writers.length < limits.insertConcurrency) writers.push(await AuditStore.open(options.store));
    const repairFile = keyRepairFile(stateDir, repairIdentity(options.store, stateDir, served.database));
    const keyRepair = new TargetKeyRepair(log, limits.refusalLogIntervalMs, repairFile);
    keyRepair.resume();
    const opened = await AuditStore.open(options.store);
    reader = opened;
    const embedded = isEmbeddedTarget(options.store);
    retention = await watchRetention(
      reader,
      (error, what) =>
        log.log(
          'warn',
          what === 'clock'
            ? "could not read the server's clock (its last reading, or this host's clock, checks the retention meanwhile)"
            : "could not read the store's retention (the last one read is used; until one is, records past it are not rejected)",
          { error: error instanceof Error ? error.message : String(error) },
        ),
      embedded ? undefined : RETENTION_REFRESH_MS,
      // The TTL deletes by the server's clock; an embedded store's is this host's.
      embedded ? undefined : () => serverNow(opened),
    );
    server = await startReceiverServer({
      host,
      port,
      token: token.token,
      ...(ingestToken !== undefined && { ingestToken: ingestToken.token }),
      ingestAuth,
      records: options.records ?? 'audit',
      limits,
      insert: writers.map((w) => async (rows) => {
        try {
          await w.insertLogs(rows);
        } catch (error) {
          keyRepair.failed(rows);
          throw error;
        }
        await keyRepair.committed(w);
      }),
      reader,
      retention,
      log,
    });
    const started = processStart(process.pid);
    const discoveryFile = writeDiscovery(stateDir, {
      url: server.url,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      ...(started !== undefined && { processStart: started }),
      ...(token.file !== undefined && { tokenFile: token.file }),
      database: options.store.database ?? 'default',
      // realpath: the CLI compares it with the directory it was given, however spelled.
      ...(isEmbeddedTarget(options.store) && { dataDir: realpathSync(options.store.path) }),
      ...(served.storeUrl !== undefined && { storeUrl: served.storeUrl }),
    });
    const running = server;
    const openedReader = reader;
    // Ids an earlier serve left: rewritten now, in the background, rather than only after inserts commit.
    const resumedRepair = keyRepair.drain(openedReader);
    log.log('info', 'listening', {
      url: server.url,
      logs: `${server.url}/v1/logs`,
      store: isEmbeddedTarget(options.store)
        ? { path: resolve(options.store.path) }
        : { url: displayServerUrl(options.store.url) },
      stateDir,
      ingestAuth,
      records: options.records ?? 'audit',
      tokenFile: token.file,
      ...(ingestToken?.file !== undefined && { ingestTokenFile: ingestToken.file }),
      discoveryFile,
    });
    let closing: Promise<ShutdownReport> | undefined;
    return {
      url: server.url,
      port: server.port,
      token: token.token,
      ...(token.file !== undefined && { tokenFile: token.file }),
      ...(ingestToken !== undefined && { ingestToken: ingestToken.token }),
      ...(ingestToken?.file !== undefined && { ingestTokenFile: ingestToken.file }),
      stateDir,
      discoveryFile,
      server,
      store: openedReader,
      close() {
        closing ??= (async () => {
          log.log('info', 'shutting down: draining in-flight requests');
          // First: the listener closes now, and serve.json must not name its port once anyone else may take it.
          removeDiscovery(stateDir, process.pid);
          const deadline = performance.now() + limits.shutdownTimeoutMs;
          const report = await running.close();
          keyRepair.stop();
          retention?.stop();
          // The start's rewrite ends after its current statement, within what is left of the shutdown timeout (a
          // hung server would hold it for the client's request timeout).
          const repairEnded = (await within(resumedRepair, deadline)) !== 'timeout';
          // Whole, once: ids whose append failed are otherwise in memory only.
          keyRepair.flush();
          if (keyRepair.pendingEvents > 0)
            log.log('warn', 'stopping with target keys of events from failed inserts not rewritten', {
              events: keyRepair.pendingEvents,
              repair: `the next start rewrites them (${repairFile}), as do the senders retrying those requests`,
            });
          if (repairEnded) await openedReader.close();
          else void openedReader.close().catch(() => undefined);
          // A writer whose insert hangs would hang its close() too: past the deadline it is not waited for.
          if (report.clean) for (const w of writers) await w.close();
          else for (const w of writers) void w.close().catch(() => undefined);
          log.log('info', 'stopped', { ...running.stats() });
          return report;
        })();
        return closing;
      },
    };
  } catch (error) {
    await server?.close().catch(() => undefined);
    retention?.stop();
    await reader?.close().catch(() => undefined);
    for (const w of writers) await w.close().catch(() => undefined);
    throw error;
  }
}
