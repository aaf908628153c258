// `npm run test:docker`: the stack end to end in containers, with the images of docker-compose.yml:
// SDK (demo producer) → collector-contrib with our gateway.yaml → ClickHouse server with our migrations →
// the query module; then Grafana with our provisioning: datasource health and a dashboard query.
// Without a Docker engine it runs nothing and says so (one skipped test carrying the reason).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { AuditStore } from '@otel-audit/clickhouse';
import { demoAuditLogger, generateDemoEvents, recordDemoEvents } from '@otel-audit/demo';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildDashboards, DATASOURCE_UID, PASSWORD_ENV, USER_ENV } from '../src/index.js';
import { interpolateVariables } from './support/grafana.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image: string; environment?: Record<string, string> }>;
};
const imageOf = (service: string) => compose.services[service]?.image ?? '';

let noDocker: string | undefined;
try {
  await getContainerRuntimeClient();
} catch (error) {
  noDocker = error instanceof Error ? error.message : String(error);
}

if (noDocker !== undefined) {
  console.warn(
    `\n[test:docker] NOT RUN: no Docker engine is reachable (${noDocker}).\n` +
      '[test:docker] The end-to-end stack suite was skipped; nothing was tested.\n',
  );
  it.skip(`stack end to end: NOT RUN, no Docker engine (${noDocker})`, () => {});
} else {
  describe('stack end to end', () => {
    const PASSWORD = 'otel-audit-test';
    const N = 300;
    const END = new Date();
    let network: StartedNetwork;
    const containers: StartedTestContainer[] = [];
    let store: AuditStore;
    const url = (c: StartedTestContainer, port: number) => `http://${c.getHost()}:${c.getMappedPort(port)}`;

    beforeAll(async () => {
      network = await new Network().start();
      const clickhouse = await new GenericContainer(imageOf('clickhouse'))
        .withNetwork(network)
        .withNetworkAliases('clickhouse')
        .withEnvironment({
          CLICKHOUSE_USER: 'default',
          CLICKHOUSE_PASSWORD: PASSWORD,
          CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT: '1',
        })
        .withExposedPorts(8123, 9000)
        .withWaitStrategy(Wait.forHttp('/ping', 8123))
        .start();
      containers.push(clickhouse);
      store = await AuditStore.open({ url: url(clickhouse, 8123), username: 'default', password: PASSWORD });
      await store.migrate();
    });

    afterAll(async () => {
      await store?.close();
      for (const c of containers.reverse()) await c.stop().catch(() => undefined);
      await network?.stop().catch(() => undefined);
    });

    it('delivers SDK events through the collector into ClickHouse, readable by the query module', async () => {
      const collector = await new GenericContainer(imageOf('collector'))
        .withNetwork(network)
        .withCopyFilesToContainer([
          {
            source: join(ROOT, 'collector/config/gateway.yaml'),
            target: '/etc/otelcol-contrib/gateway.yaml',
          },
        ])
        .withCommand(['--config=/etc/otelcol-contrib/gateway.yaml'])
        .withTmpFs({ '/var/lib/otelcol': 'rw,mode=1777' })
        .withEnvironment({
          OTEL_AUDIT_CLICKHOUSE_ENDPOINT: 'tcp://clickhouse:9000',
          OTEL_AUDIT_CLICKHOUSE_PASSWORD: PASSWORD,
          OTEL_AUDIT_QUEUE_DIR: '/var/lib/otelcol/audit-queue',
        })
        .withExposedPorts(4318, 13133)
        .withWaitStrategy(Wait.forHttp('/', 13133))
        .start();
      containers.push(collector);

      const provider = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': 'docker-test' }),
        processors: [
          new BatchLogRecordProcessor({
            exporter: new OTLPLogExporter({ url: `${url(collector, 4318)}/v1/logs` }),
            maxQueueSize: N + 1,
          }),
        ],
      });
      const summary = await recordDemoEvents(demoAuditLogger(provider), N, undefined, { seed: 5, end: END });
      await provider.shutdown();

      let stored = 0;
      for (let i = 0; i < 120 && stored < N; i++) {
        const [row] = await store.query<{ n: string }>('SELECT count() AS n FROM {db}.audit_events FINAL');
        stored = Number(row?.n);
        if (stored < N) await new Promise((r) => setTimeout(r, 1000));
      }
      expect(stored).toBe(summary.recorded);

      const inputs = generateDemoEvents(N, { seed: 5, end: END });
      const sample = inputs.find((e) => e.outcome === 'failure') ?? inputs[0];
      const event = await store.getEvent(sample?.tenant as string, sample?.id as string);
      expect(event).toMatchObject({
        id: sample?.id,
        action: sample?.action,
        outcome: sample?.outcome,
        malformed: [],
      });
      const page = await store.actorTimeline(sample?.tenant as string, { id: sample?.actor?.id as string });
      expect(page.events.map((e) => e.id)).toContain(sample?.id);
    });

    it('provisions Grafana: the datasource is healthy and a dashboard panel returns the stored count', async () => {
      const grafana = await new GenericContainer(imageOf('grafana'))
        .withNetwork(network)
        .withEnvironment({
          GF_PLUGINS_PREINSTALL_SYNC: compose.services.grafana?.environment?.GF_PLUGINS_PREINSTALL_SYNC ?? '',
          GF_SECURITY_ADMIN_PASSWORD: 'admin',
          [PASSWORD_ENV]: PASSWORD,
          [USER_ENV]: 'default',
        })
        .withCopyDirectoriesToContainer([
          { source: join(ROOT, 'dashboards/grafana/provisioning'), target: '/etc/grafana/provisioning' },
          {
            source: join(ROOT, 'dashboards/grafana/dashboards'),
            target: '/var/lib/grafana/dashboards/otel-audit',
          },
        ])
        .withExposedPorts(3000)
        .withWaitStrategy(Wait.forHttp('/api/health', 3000))
        .withStartupTimeout(300_000)
        .start();
      containers.push(grafana);
      const base = url(grafana, 3000);
      const auth = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };

      const health = await fetch(`${base}/api/datasources/uid/${DATASOURCE_UID}/health`, { headers: auth });
      expect(await health.json()).toMatchObject({ status: 'OK' });
      const board = await fetch(`${base}/api/dashboards/uid/otel-audit-overview`, { headers: auth });
      expect(board.status).toBe(200);

      // The overview's "Events" stat for one tenant, macros expanded by the plugin inside Grafana.
      const tenant = 'acme';
      const target = buildDashboards().overview.panels.find((p) => p.title === 'Events')?.targets?.[0];
      const rawSql = interpolateVariables(target?.rawSql ?? '', { tenant });
      const response = await fetch(`${base}/api/ds/query`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          from: String(END.getTime() - 8 * 86_400_000),
          to: String(END.getTime() + 60_000),
          queries: [{ ...target, rawSql }],
        }),
      });
      const body = (await response.json()) as {
        results: Record<string, { frames: { data: { values: unknown[][] } }[] }>;
      };
      const value = body.results.A?.frames[0]?.data.values[0]?.[0];
      const expected = generateDemoEvents(N, { seed: 5, end: END }).filter((e) => e.tenant === tenant).length;
      expect(Number(value)).toBe(expected);
    });
  });
}
