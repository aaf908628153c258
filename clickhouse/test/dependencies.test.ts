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
});
