// Builds the real collector distribution (cached) and runs `validate` on every shipped config and merge.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ensureCollector,
  goToolchain,
  printConfig,
  runCollectorCommand,
  SHIPPED_CONFIGS,
  validateConfig,
} from '../src/otelcol/index.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED collector validate tests: ${go.reason}`);

// The two lists the fragment replaces (lists replace lists): the example base config's extensions plus the
// queue storage, and the receivers its logs pipeline had.
const mergeEnv = {
  OTEL_AUDIT_SERVICE_EXTENSIONS: '[health_check, file_storage/audit_queue]',
  OTEL_AUDIT_INTAKE_RECEIVERS: '[otlp]',
};

describe.skipIf(!go.available)('the otel-audit collector distribution', () => {
  let binary = '';
  let scratch = '';

  beforeAll(async () => {
    const built = await ensureCollector({ onProgress: (line) => console.log(line) });
    if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
    binary = built.path;
    scratch = mkdtempSync(join(tmpdir(), 'otelcol-validate-'));
  }, 30 * 60_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('has every component type the configs use', async () => {
    const { code, stdout } = await runCollectorCommand(binary, ['components']);
    expect(code).toBe(0);
    const components = parse(stdout) as Record<string, { name: string }[]>;
    const names = (kind: string) => (components[kind] ?? []).map((c) => c.name);
    expect(names('receivers')).toContain('otlp');
    expect(names('processors')).toEqual(expect.arrayContaining(['memory_limiter', 'filter']));
    expect(names('connectors')).toContain('routing');
    expect(names('exporters')).toEqual(expect.arrayContaining(['clickhouse', 'debug']));
    expect(names('extensions')).toEqual(expect.arrayContaining(['file_storage', 'health_check']));
  });

  it('validates gateway.yaml with its defaults', async () => {
    const result = await validateConfig(binary, [SHIPPED_CONFIGS.gateway]);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('validates gateway.yaml with every variable set', async () => {
    const result = await validateConfig(binary, [SHIPPED_CONFIGS.gateway], {
      OTEL_AUDIT_CLICKHOUSE_ENDPOINT: 'https://clickhouse.example:8443',
      OTEL_AUDIT_CLICKHOUSE_USER: 'audit_writer',
      OTEL_AUDIT_CLICKHOUSE_PASSWORD: 's3cret',
      OTEL_AUDIT_CLICKHOUSE_DATABASE: 'audit',
      OTEL_AUDIT_OTLP_GRPC_ENDPOINT: '127.0.0.1:14317',
      OTEL_AUDIT_OTLP_HTTP_ENDPOINT: '127.0.0.1:14318',
      OTEL_AUDIT_QUEUE_DIR: join(scratch, 'queue'),
      OTEL_AUDIT_HEALTH_ENDPOINT: '127.0.0.1:13134',
      OTEL_AUDIT_MEMORY_LIMIT_MIB: '512',
      OTEL_AUDIT_MEMORY_SPIKE_LIMIT_MIB: '128',
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('validates the example existing collector alone and merged with audit-routing.yaml', async () => {
    const alone = await validateConfig(binary, [SHIPPED_CONFIGS.exampleExistingCollector]);
    expect(alone.output).toBe('');
    expect(alone.code).toBe(0);
    const merged = await validateConfig(
      binary,
      [SHIPPED_CONFIGS.exampleExistingCollector, SHIPPED_CONFIGS.auditRouting],
      mergeEnv,
    );
    expect(merged.output).toBe('');
    expect(merged.code).toBe(0);
  });

  it('merges the fragment so `logs` keeps its processors and exporters and only receives from the router', async () => {
    const result = await printConfig(
      binary,
      [SHIPPED_CONFIGS.exampleExistingCollector, SHIPPED_CONFIGS.auditRouting],
      mergeEnv,
    );
    expect(result.code).toBe(0);
    const effective = parse(result.stdout) as {
      service: { extensions: string[]; pipelines: Record<string, Record<string, string[]>> };
    };
    expect(effective.service.extensions).toEqual(['health_check', 'file_storage/audit_queue']);
    expect(effective.service.pipelines.logs).toEqual({
      receivers: ['routing/audit'],
      processors: ['memory_limiter', 'batch'],
      exporters: ['debug/app'],
    });
    expect(effective.service.pipelines['logs/intake']?.receivers).toEqual(['otlp']);
  });

  it('rejects a broken config (validate is not a no-op): unknown queue key and bad OTTL', async () => {
    const text = readFileSync(SHIPPED_CONFIGS.gateway, 'utf8');
    const badKey = join(scratch, 'bad-key.yaml');
    writeFileSync(badKey, text.replace('block_on_overflow:', 'block_on_overfow:'));
    const key = await validateConfig(binary, [badKey]);
    expect(key.code).not.toBe(0);
    expect(key.output).toContain('block_on_overfow');

    const badOttl = join(scratch, 'bad-ottl.yaml');
    writeFileSync(badOttl, text.replace('== nil', '=== nil'));
    const ottl = await validateConfig(binary, [badOttl]);
    expect(ottl.code).not.toBe(0);
    expect(ottl.output).toContain('filter/audit_only');
  });

  it('takes the ClickHouse user from OTEL_AUDIT_CLICKHOUSE_USER, else from its earlier name _USERNAME', async () => {
    const userOf = async (env: Record<string, string>) => {
      const result = await printConfig(binary, [SHIPPED_CONFIGS.gateway], env);
      expect(result.code, result.output).toBe(0);
      return (parse(result.stdout) as { exporters: Record<string, { username: string }> }).exporters[
        'clickhouse/audit'
      ]?.username;
    };
    expect(await userOf({})).toBe('default');
    expect(await userOf({ OTEL_AUDIT_CLICKHOUSE_USERNAME: 'legacy_writer' })).toBe('legacy_writer');
    expect(
      await userOf({
        OTEL_AUDIT_CLICKHOUSE_USERNAME: 'legacy_writer',
        OTEL_AUDIT_CLICKHOUSE_USER: 'audit_writer',
      }),
    ).toBe('audit_writer');
  });

  it('fails validate naming each list variable left unset (never a silent loss of receivers or extensions)', async () => {
    // Unset, each variable names a component that does not exist; set, the merge validates (test above).
    const merge = [SHIPPED_CONFIGS.exampleExistingCollector, SHIPPED_CONFIGS.auditRouting];
    const { OTEL_AUDIT_SERVICE_EXTENSIONS: extensions, OTEL_AUDIT_INTAKE_RECEIVERS: receivers } = mergeEnv;
    const noExtensions = await validateConfig(binary, merge, { OTEL_AUDIT_INTAKE_RECEIVERS: receivers });
    expect(noExtensions.code).not.toBe(0);
    expect(noExtensions.output).toContain('set_OTEL_AUDIT_SERVICE_EXTENSIONS');
    const noReceivers = await validateConfig(binary, merge, { OTEL_AUDIT_SERVICE_EXTENSIONS: extensions });
    expect(noReceivers.code).not.toBe(0);
    expect(noReceivers.output).toContain('set_OTEL_AUDIT_INTAKE_RECEIVERS');
  });
});
