// docker-compose.yml is consistent with the rest of the repository: pinned images at the versions the
// collector manifest and the dashboards expect, config files that exist, names and ports that match.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV as CLI_ENV } from '@otel-audit/cli';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CLICKHOUSE_SERVICE,
  DASHBOARDS_MOUNT,
  DATASOURCE_TYPE,
  PASSWORD_ENV,
  PROVISIONING_FILES,
  USER_ENV,
} from '../src/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const manifest = parse(read('collector/builder-config.yaml')) as { dist: { version: string } };
const provisioning = parse(read(`dashboards/grafana/${PROVISIONING_FILES.datasource}`));
const provider = parse(read(`dashboards/grafana/${PROVISIONING_FILES.dashboardProvider}`));

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

function image(name: string): { repo: string; tag: string } {
  const ref = service(name).image ?? '';
  const at = ref.lastIndexOf(':');
  return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/** Bind mounts `./host:/container[:ro]` as [host, container]. */
function binds(name: string): [string, string][] {
  return (service(name).volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => v.split(':').slice(0, 2) as [string, string]);
}

function namedVolumes(name: string): [string, string][] {
  return (service(name).volumes ?? [])
    .filter((v) => !v.startsWith('./') && !v.startsWith('/'))
    .map((v) => v.split(':').slice(0, 2) as [string, string]);
}

describe('images', () => {
  it('runs the contrib collector at the version of our ocb manifest', () => {
    expect(image('collector')).toEqual({
      repo: 'otel/opentelemetry-collector-contrib',
      tag: manifest.dist.version,
    });
  });

  it('pins ClickHouse 26.x, Grafana and every other pulled image to a version', () => {
    expect(image('clickhouse')).toMatchObject({ repo: 'clickhouse/clickhouse-server' });
    expect(image('clickhouse').tag).toMatch(/^26\.\d+(\.\d+)*$/);
    expect(image('grafana')).toMatchObject({ repo: 'grafana/grafana' });
    expect(image('grafana').tag).toMatch(/^\d+\.\d+\.\d+$/);
    const built = service('migrate').image;
    for (const [name, s] of Object.entries(services)) {
      if (s.build || s.image === built) continue;
      expect(s.image, name).toMatch(/:[0-9][\w.-]*$/);
    }
  });

  it('installs the ClickHouse plugin the datasource provisioning names, pinned', () => {
    const preinstall = service('grafana').environment?.GF_PLUGINS_PREINSTALL_SYNC ?? '';
    expect(preinstall).toMatch(new RegExp(`^${DATASOURCE_TYPE}@\\d+\\.\\d+\\.\\d+$`));
    expect(provisioning.datasources[0].type).toBe(DATASOURCE_TYPE);
  });

  it('builds the Node image from a Dockerfile that exists, on a Node the packages accept', () => {
    const build = service('migrate').build;
    expect(build).toBeDefined();
    const dockerfile = read(join(build?.context ?? '.', build?.dockerfile ?? ''));
    const from = [...dockerfile.matchAll(/^FROM node:(\d+)\.(\d+)\.(\d+)/gm)];
    expect(from.length).toBeGreaterThan(0);
    for (const m of from) expect(Number(m[1]) === 22 && Number(m[2]) >= 15).toBe(true);
    // The demo runs the same image, built from the same Dockerfile (so compose never tries to pull it).
    expect(service('demo').image).toBe(service('migrate').image);
    expect(service('demo').build).toEqual(build);
  });
});

describe('files and entry points', () => {
  it('mounts only files and folders that exist', () => {
    for (const name of Object.keys(services)) {
      for (const [host] of binds(name)) expect(existsSync(join(ROOT, host)), `${name}: ${host}`).toBe(true);
    }
  });

  it('runs the collector with our gateway config', () => {
    const [host, container] = binds('collector').find(([h]) => h.endsWith('gateway.yaml')) ?? [];
    expect(host).toBe('./collector/config/gateway.yaml');
    expect(service('collector').command).toContain(`--config=${container}`);
  });

  it('sets only environment variables the gateway config reads, and every credential it needs', () => {
    const gateway = read('collector/config/gateway.yaml');
    const read_ = new Set([...gateway.matchAll(/\$\{env:(\w+)/g)].map((m) => m[1]));
    const set = Object.keys(service('collector').environment ?? {});
    for (const name of set) expect(read_, name).toContain(name);
    for (const name of [
      'OTEL_AUDIT_CLICKHOUSE_ENDPOINT',
      'OTEL_AUDIT_CLICKHOUSE_PASSWORD',
      'OTEL_AUDIT_QUEUE_DIR',
    ]) {
      expect(set).toContain(name);
    }
    expect(service('collector').environment?.OTEL_AUDIT_CLICKHOUSE_ENDPOINT).toMatch(
      /^tcp:\/\/clickhouse:9000$/,
    );
  });

  it('keeps the collector queue on a named volume', () => {
    const dir = service('collector').environment?.OTEL_AUDIT_QUEUE_DIR ?? '';
    const volume = namedVolumes('collector').find(([, mount]) => dir.startsWith(`${mount}/`));
    expect(volume, `no named volume holds ${dir}`).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(volume?.[0]);
  });

  it('runs the CLI migrate command and the demo entry point from the image build', () => {
    const entry = (command: string[] | undefined) => (command ?? [])[1] ?? '';
    expect(service('migrate').command?.slice(2)).toEqual(['migrate']);
    for (const name of ['migrate', 'demo']) {
      const source = entry(service(name).command).replace('/dist/', '/src/').replace(/\.js$/, '.ts');
      expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
      const pkg = source.split('/')[0];
      expect(read('docker/node.Dockerfile')).toContain(`${pkg}/dist`);
    }
    expect(read('docker/node.Dockerfile')).toContain('clickhouse/migrations');
  });

  it('gives the migrations the store settings the CLI reads', () => {
    const env = service('migrate').environment ?? {};
    expect(env[CLI_ENV.url]).toBe(`http://${CLICKHOUSE_SERVICE.host}:${CLICKHOUSE_SERVICE.httpPort}`);
    expect(env[CLI_ENV.password]).toBeDefined();
    expect(env[CLI_ENV.database]).toBe(CLICKHOUSE_SERVICE.database);
  });
});

describe('Grafana', () => {
  it('reaches ClickHouse at the service name and HTTP port of the datasource provisioning', () => {
    const ds = provisioning.datasources[0];
    expect(services[ds.jsonData.host]?.image).toMatch(/^clickhouse\/clickhouse-server:/);
    expect(ds.jsonData).toMatchObject({ protocol: 'http', port: 8123 });
    expect(service('clickhouse').ports?.some((p) => p.endsWith(':8123'))).toBe(true);
    // The user and password placeholders `${VAR}` are filled from Grafana's environment, which compose
    // defaults to the server's user and password (a read-only user overrides both).
    expect(ds.secureJsonData.password).toBe(`\${${PASSWORD_ENV}}`);
    expect(ds.jsonData.username).toBe(`\${${USER_ENV}}`);
    const serverPassword = service('clickhouse').environment?.CLICKHOUSE_PASSWORD as string;
    expect(service('grafana').environment?.[PASSWORD_ENV]).toBe(`\${${PASSWORD_ENV}:-${serverPassword}}`);
    expect(service('grafana').environment?.[USER_ENV]).toBe(
      `\${${USER_ENV}:-${service('clickhouse').environment?.CLICKHOUSE_USER}}`,
    );
  });

  it('publishes Grafana and ClickHouse on this machine only (anonymous viewers see every tenant)', () => {
    expect(service('grafana').environment?.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    for (const name of ['grafana', 'clickhouse']) {
      const ports = service(name).ports ?? [];
      expect(ports.length, name).toBeGreaterThan(0);
      for (const port of ports) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('mounts our provisioning and the dashboards where the provider looks for them', () => {
    const mounts = new Map(binds('grafana').map(([h, c]) => [c, h]));
    expect(mounts.get('/etc/grafana/provisioning/datasources')).toBe(
      './dashboards/grafana/provisioning/datasources',
    );
    expect(mounts.get('/etc/grafana/provisioning/dashboards')).toBe(
      './dashboards/grafana/provisioning/dashboards',
    );
    expect(provider.providers[0].options.path).toBe(DASHBOARDS_MOUNT);
    expect(mounts.get(DASHBOARDS_MOUNT)).toBe('./dashboards/grafana/dashboards');
    const home = service('grafana').environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(home.startsWith(`${DASHBOARDS_MOUNT}/`)).toBe(true);
    expect(
      existsSync(join(ROOT, 'dashboards/grafana/dashboards', home.slice(DASHBOARDS_MOUNT.length + 1))),
    ).toBe(true);
  });
});

describe('start order', () => {
  it('waits for healthy ClickHouse, finished migrations before the collector, and the collector before the demo', () => {
    expect(service('migrate').depends_on?.clickhouse?.condition).toBe('service_healthy');
    expect(service('collector').depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(service('grafana').depends_on?.clickhouse?.condition).toBe('service_healthy');
    expect(service('demo').depends_on?.collector).toBeDefined();
    expect(service('demo').depends_on?.migrate?.condition).toBe('service_completed_successfully');
  });

  it('only waits for health on services that have a health check, and for completion on one-shot services', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        if (condition === 'service_healthy')
          expect(service(dep).healthcheck, `${dep} (for ${name})`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(service(dep).restart, dep).toBe('no');
      }
    }
  });
});
