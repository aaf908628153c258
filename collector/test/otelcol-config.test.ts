// The shipped collector configs and the ocb manifest, read as YAML and checked against the conventions module.
import { readFileSync } from 'node:fs';
import { AUDIT_MARKER_ATTRIBUTE, AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MANIFEST_PATH, SHIPPED_CONFIGS } from '../src/otelcol/index.js';

type Yaml = Record<string, unknown>;

function load(path: string): Yaml {
  return parse(readFileSync(path, 'utf8')) as Yaml;
}

/** Walks a parsed YAML document by keys; fails the test with the path when a key is missing. */
function at(doc: unknown, ...keys: string[]): unknown {
  let node = doc;
  for (const [i, key] of keys.entries()) {
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`missing ${keys.slice(0, i + 1).join('.')}`);
    }
    node = (node as Yaml)[key];
  }
  return node;
}

/** Every scalar of a config with its dotted path. */
function scalars(node: unknown, path = ''): [string, unknown][] {
  if (node !== null && typeof node === 'object') {
    return Object.entries(node).flatMap(([k, v]) => scalars(v, path ? `${path}.${k}` : k));
  }
  return [[path, node]];
}

const gateway = load(SHIPPED_CONFIGS.gateway);
const routing = load(SHIPPED_CONFIGS.auditRouting);
const manifest = load(MANIFEST_PATH);
// A default may itself be one more variable (an earlier name still read): `${env:A:-${env:B:-x}}`.
const ENV_REF = /^\$\{env:OTEL_AUDIT_[A-Z0-9_]+(:-([^}$]*|\$\{env:OTEL_AUDIT_[A-Z0-9_]+(:-[^}]*)?\}))?\}$/;

describe('gateway.yaml', () => {
  it('runs otlp (grpc + http) -> memory_limiter -> audit filter -> clickhouse, and nothing else', () => {
    expect(Object.keys(at(gateway, 'receivers', 'otlp', 'protocols') as Yaml).sort()).toEqual([
      'grpc',
      'http',
    ]);
    expect(at(gateway, 'service', 'pipelines')).toEqual({
      'logs/audit': {
        receivers: ['otlp'],
        processors: ['memory_limiter', 'filter/audit_only'],
        exporters: ['clickhouse/audit'],
      },
    });
  });

  it('keeps audit records only: the filter drops records without the marker attribute from the conventions', () => {
    expect(at(gateway, 'processors', 'filter/audit_only', 'log_conditions')).toEqual([
      `log.attributes["${AUDIT_MARKER_ATTRIBUTE}"] == nil`,
    ]);
    expect(at(gateway, 'processors', 'filter/audit_only', 'error_mode')).toBe('propagate');
  });

  it('writes to the conventions logs table without creating schema, through a persistent never-giving-up queue', () => {
    const exporter = at(gateway, 'exporters', 'clickhouse/audit') as Yaml;
    expect(exporter.logs_table_name).toBe(AUDIT_TABLES.logs);
    expect(exporter.create_schema).toBe(false);
    expect(at(exporter, 'sending_queue', 'storage')).toBe('file_storage/audit_queue');
    expect(at(exporter, 'sending_queue', 'block_on_overflow')).toBe(true);
    expect(at(exporter, 'sending_queue', 'batch', 'flush_timeout')).toBeTruthy();
    expect(at(exporter, 'retry_on_failure', 'enabled')).toBe(true);
    expect(at(exporter, 'retry_on_failure', 'max_elapsed_time')).toBe(0);
    // Retried forever, a batch the server always refuses would block the queue: no partition limit per insert.
    expect(at(exporter, 'connection_params', 'max_partitions_per_insert_block')).toBe('0');
    expect(at(gateway, 'service', 'extensions')).toContain('file_storage/audit_queue');
    expect(gateway.processors).not.toHaveProperty('batch');
  });

  it('takes every endpoint, credential and path from an OTEL_AUDIT_* environment variable', () => {
    const fromEnv = scalars(gateway).filter(([path]) =>
      /(^|\.)(endpoint|username|password|database|directory)$/.test(path),
    );
    expect(fromEnv.map(([path]) => path)).toEqual(
      expect.arrayContaining([
        'exporters.clickhouse/audit.endpoint',
        'exporters.clickhouse/audit.username',
        'exporters.clickhouse/audit.password',
        'exporters.clickhouse/audit.database',
        'receivers.otlp.protocols.grpc.endpoint',
        'receivers.otlp.protocols.http.endpoint',
        'extensions.file_storage/audit_queue.directory',
      ]),
    );
    for (const [path, value] of fromEnv) expect(value, path).toMatch(ENV_REF);
  });
});

describe('audit-routing.yaml (fragment for an existing collector)', () => {
  it('moves records carrying the marker attribute into logs/audit and leaves the rest on the `logs` pipeline', () => {
    const connector = at(routing, 'connectors', 'routing/audit') as Yaml;
    expect(connector.default_pipelines).toEqual(['logs']);
    expect(connector.error_mode).toBe('propagate');
    expect(connector.table).toEqual([
      {
        context: 'log',
        condition: `attributes["${AUDIT_MARKER_ATTRIBUTE}"] != nil`,
        action: 'move',
        pipelines: ['logs/audit'],
      },
    ]);
  });

  it('rewires only where `logs` receives from, so its processors and exporters stay the base config ones', () => {
    const pipelines = at(routing, 'service', 'pipelines') as Yaml;
    expect(pipelines.logs).toEqual({ receivers: ['routing/audit'] });
    expect(at(pipelines, 'logs/intake', 'exporters')).toEqual(['routing/audit']);
    expect(at(pipelines, 'logs/audit')).toEqual({
      receivers: ['routing/audit'],
      exporters: ['clickhouse/audit'],
    });
    // The lists that replace the base's lists come from the environment (required: validate-tested).
    expect(at(pipelines, 'logs/intake', 'receivers')).toMatch(ENV_REF);
    expect(at(routing, 'service', 'extensions')).toMatch(ENV_REF);
  });

  it('delivers with exactly the gateway exporter and queue storage, so the two paths cannot drift apart', () => {
    expect(at(routing, 'exporters', 'clickhouse/audit')).toEqual(
      at(gateway, 'exporters', 'clickhouse/audit'),
    );
    expect(at(routing, 'extensions', 'file_storage/audit_queue')).toEqual(
      at(gateway, 'extensions', 'file_storage/audit_queue'),
    );
  });
});

describe('builder-config.yaml (ocb manifest)', () => {
  const modules = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'].flatMap((kind) =>
    (manifest[kind] as { gomod: string }[]).map((m) => m.gomod),
  );
  const providers = (manifest.providers as { gomod: string }[]).map((m) => m.gomod);

  it('pins every component to one release, equal to the distribution version', () => {
    const version = `v${at(manifest, 'dist', 'version')}`;
    expect(new Set(modules.map((m) => m.split(' ')[1]))).toEqual(new Set([version]));
    expect(new Set(providers.map((m) => m.split(' ')[1])).size).toBe(1);
    // Core 0.x and the 1.x confmap providers are released together: 0.N.0 goes with 1.(N-94).0.
    const minor = Number(version.split('.')[1]);
    expect(providers[0]?.split(' ')[1]).toBe(`v1.${minor - 94}.0`);
  });

  it('contains the components the configs use', () => {
    const expected = [
      'receiver/otlpreceiver',
      'processor/memorylimiterprocessor',
      'processor/filterprocessor',
      'connector/routingconnector',
      'exporter/clickhouseexporter',
      'exporter/otlphttpexporter',
      'exporter/otlpexporter',
      'exporter/debugexporter',
      'extension/storage/filestorage',
      'extension/healthcheckextension',
    ];
    for (const path of expected)
      expect(
        modules.some((m) => m.split(' ')[0]?.endsWith(path)),
        path,
      ).toBe(true);
  });
});
