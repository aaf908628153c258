import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { AuditStore, isEmbeddedTarget, quoteDatabase, type StoreTarget } from '@otel-audit/clickhouse';
import { type OptionValues, UsageError } from './command.js';

/** Environment variables read when the matching flag is absent. */
export const ENV = {
  url: 'OTEL_AUDIT_CLICKHOUSE_URL',
  user: 'OTEL_AUDIT_CLICKHOUSE_USER',
  password: 'OTEL_AUDIT_CLICKHOUSE_PASSWORD',
  database: 'OTEL_AUDIT_CLICKHOUSE_DATABASE',
  dataDir: 'OTEL_AUDIT_DATA_DIR',
  tenant: 'OTEL_AUDIT_TENANT',
} as const;

export const STORE_OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  database: { type: 'string' },
  'data-dir': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const STORE_HELP = `Store (flags, or the environment variable named):
  --url URL            ClickHouse server, e.g. http://localhost:8123   ${ENV.url}
  --user NAME          server user (default "default")                  ${ENV.user}
  --password SECRET    server password                                  ${ENV.password}
  --database NAME      database of the audit tables (default "default") ${ENV.database}
  --data-dir PATH      embedded chDB data directory (instead of --url)  ${ENV.dataDir}`;

export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A value and where it came from, as messages name it: `--port`, or `OTEL_AUDIT_SERVE_PORT (--port)`. */
export interface Setting {
  value: string;
  label: string;
}

/**
 * The flag's value, else the environment variable's (a flag always beats the environment). The label names
 * the variable when the value came from it: the user never typed the flag.
 */
export function flagOrEnv(
  values: OptionValues,
  flag: string,
  env: Record<string, string | undefined>,
  variable: string,
): Setting | undefined {
  const fromFlag = str(values, flag);
  if (fromFlag !== undefined) return { value: fromFlag, label: `--${flag}` };
  const fromEnv = env[variable];
  return fromEnv === undefined ? undefined : { value: fromEnv, label: `${variable} (--${flag})` };
}

/**
 * A URL as messages show it: everything between the scheme and the last `@` replaced by `…` (a password may hold
 * `/`, `?`, `#` or `@` unencoded; masking a little too much in an error message is harmless).
 */
function masked(url: string): string {
  return url.replace(/^([a-z][\w+.-]*:\/\/)?.*@/is, '$1…@');
}

/** A server URL the client can use: http(s), with a host. */
function checkUrl(url: string, label: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    parsed === undefined ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    !parsed.hostname
  )
    throw new UsageError(
      `${label}: expected an http(s) URL such as http://localhost:8123, got ${JSON.stringify(masked(url))}`,
    );
  // The client would take a path as the database of every request (see the store's checkServerUrl).
  if (parsed.pathname.length > 1)
    throw new UsageError(
      `${label}: ${JSON.stringify(masked(url))} has a path (${parsed.pathname}), which the client would take as the ` +
        'database: give the database with --database, and a proxy path prefix as ?pathname=/prefix',
    );
  if (parsed.searchParams.has('database'))
    throw new UsageError(`${label}: has ?database=: give the database with --database instead`);
}

/** The store the flags (or environment) point at, without opening it; exactly one of a URL or a data directory. */
export function storeTarget(values: OptionValues, env: Record<string, string | undefined>): StoreTarget {
  const urlFlag = str(values, 'url');
  const dirFlag = str(values, 'data-dir');
  if (urlFlag !== undefined && dirFlag !== undefined)
    throw new UsageError('give either --url or --data-dir, not both');
  const database = str(values, 'database') ?? env[ENV.database];
  // Checked before any store is looked for (a reserved or malformed name is a usage error, not a missing store).
  if (database) quoteDatabase(database);
  const db = database ? { database } : {};
  // A flag beats the environment (either variable); both variables set, and no flag, is ambiguous: refused, as the
  // store refuses a target holding both (a server silently ignored, or a directory).
  if (urlFlag === undefined && dirFlag === undefined && env[ENV.url] && env[ENV.dataDir])
    throw new UsageError(
      `both ${ENV.url} and ${ENV.dataDir} are set: unset one, or pass --url or --data-dir to choose`,
    );
  const url = dirFlag === undefined ? (urlFlag ?? env[ENV.url]) : undefined;
  if (url) {
    checkUrl(url, urlFlag !== undefined ? '--url' : `${ENV.url} (--url)`);
    const username = str(values, 'user') ?? env[ENV.user];
    const password = str(values, 'password') ?? env[ENV.password];
    return { url, ...(username && { username }), ...(password && { password }), ...db };
  }
  const path = dirFlag ?? env[ENV.dataDir];
  if (path) return { path, ...db };
  throw new UsageError(`no store given: pass --url or --data-dir (or set ${ENV.url} or ${ENV.dataDir})`);
}

/**
 * The store the flags (or environment) point at, for commands that create one (migrate, serve): a data directory
 * path that exists must be a directory (chDB's own answer for a file was "Failed to create connection").
 */
export function creatableStoreTarget(
  values: OptionValues,
  env: Record<string, string | undefined>,
): StoreTarget {
  const target = storeTarget(values, env);
  if (!isEmbeddedTarget(target)) return target;
  // The nearest part of the path that exists: a file there (the path itself, or a part above it) is the value's fault.
  let existing = resolve(target.path);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) {
    const flag = str(values, 'data-dir') !== undefined ? '--data-dir' : `${ENV.dataDir} (--data-dir)`;
    throw new UsageError(
      existing === resolve(target.path)
        ? `${flag}: ${target.path} is not a directory`
        : `${flag}: ${target.path} cannot be created: ${existing} is a file, not a directory`,
    );
  }
  return target;
}

/** Opens the store the flags (or environment) point at; `requestTimeoutMs` applies to a server only. */
export async function openStore(
  values: OptionValues,
  env: Record<string, string | undefined>,
  requestTimeoutMs?: number,
): Promise<AuditStore> {
  const target = creatableStoreTarget(values, env);
  return AuditStore.open(
    !isEmbeddedTarget(target) && requestTimeoutMs !== undefined ? { ...target, requestTimeoutMs } : target,
  );
}

export function tenantOf(values: OptionValues, env: Record<string, string | undefined>): string {
  // An empty --tenant is refused when the command line is read (parse-argv.ts).
  const tenant = str(values, 'tenant') ?? env[ENV.tenant];
  if (!tenant) throw new UsageError(`--tenant is required (or set ${ENV.tenant})`);
  return tenant;
}
