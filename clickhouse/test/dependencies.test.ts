// The store's package carries only its job's dependencies: reading events needs the SDK's event schema, not its
// logger, so loading @otel-audit/clickhouse must not load any OpenTelemetry package (a reader installed without
// the SDK's peers failed with "Cannot find package '@opentelemetry/api'").
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('@otel-audit/clickhouse dependencies', () => {
  it('loads no @opentelemetry package', () => {
    const child = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({
        resolve(specifier, context, next) {
          if (specifier.startsWith('@opentelemetry/')) loaded.push(specifier);
          return next(specifier, context);
        },
      });
      const store = await import('@otel-audit/clickhouse');
      process.stdout.write(JSON.stringify({ loaded, AuditStore: typeof store.AuditStore }));
    `;
    const r = spawnSync(
      process.execPath,
      ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', child],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ loaded: [], AuditStore: 'function' });
  });

  // chdb installed without its native library (npm --omit=optional, musl, npm's lockfile bug with platform
  // packages) said "needs the optional dependency chdb (npm install chdb)", which does not help.
  const openWith = (hook: string) => {
    const child = `
      import { registerHooks } from 'node:module';
      registerHooks({
        resolve(specifier, context, next) {
          ${hook}
          return next(specifier, context);
        },
      });
      const { AuditStore } = await import('@otel-audit/clickhouse');
      try {
        await AuditStore.open({ path: '/nonexistent/otel-audit-never-created' });
      } catch (error) {
        process.stdout.write(JSON.stringify({ name: error.name, message: error.message }));
      }
    `;
    const r = spawnSync(
      process.execPath,
      ['--conditions=@otel-audit/source', '--import', 'tsx', '--input-type=module', '-e', child],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 60_000 },
    );
    return JSON.parse(r.stdout) as { name: string; message: string };
  };

  it('says chdb is missing when it is not installed', () => {
    // Resolved from a folder with no node_modules: the engine's own "Cannot find package 'chdb'".
    const e = openWith(
      `if (specifier === 'chdb/connection') return next(specifier, { ...context, parentURL: 'file:///nonexistent/app.mjs' });`,
    );
    expect(e.name).toBe('ChdbNotInstalledError');
    expect(e.message).toMatch(/needs the optional dependency "chdb" \(npm install chdb\)/);
  });

  it('says chdb is installed but cannot load, with why, when its native library is missing', () => {
    const e = openWith(
      `if (specifier === 'chdb/connection') return { shortCircuit: true, url: 'data:text/javascript,' + encodeURIComponent("const e = new Error('CHDB_PLATFORM chdb: no native binding for linux-x64. Expected optional dependency @chdb/lib-linux-x64-gnu'); e.code = 'CHDB_PLATFORM'; throw e;") };`,
    );
    expect(e.name).toBe('ChdbNotInstalledError');
    expect(e.message).toMatch(
      /installed but cannot load here: CHDB_PLATFORM chdb: no native binding for linux-x64\. Expected optional dependency @chdb\/lib-linux-x64-gnu/,
    );
    expect(e.message).not.toMatch(/\(npm install chdb\)/);
  });
});
