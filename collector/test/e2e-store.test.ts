// SDK -> the real collector running a shipped config -> OTLP/HTTP protobuf -> otel-audit serve -> chDB -> the query
// module.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureCollector,
  freePort,
  goToolchain,
  type RunningCollector,
  SHIPPED_CONFIGS,
  startCollector,
} from '../src/otelcol/index.js';
import {
  auditEvents,
  collectorEndpoints,
  emit,
  expectIntact,
  ReceiverLastHop,
  rowsById,
  waitFor,
  waitForStored,
  writeLastHopOverlay,
} from './e2e-support.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED collector end-to-end tests: ${go.reason}`);

describe.skipIf(!go.available)(
  'shipped configs through the real collector to the store and the query module',
  () => {
    const token = randomUUID();
    let dir = '';
    let lastHop: ReceiverLastHop | undefined;
    let binary = '';
    const collectors: RunningCollector[] = [];

    beforeAll(async () => {
      const built = await ensureCollector();
      if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
      binary = built.path;
      dir = mkdtempSync(join(tmpdir(), 'e2e-store-'));
      // Keeps the raw rows too, to check no ordinary log reached the table the exporter writes.
      lastHop = new ReceiverLastHop(await freePort(), join(dir, 'chdb'), token);
      await lastHop.start();
    }, 30 * 60_000);

    afterAll(async () => {
      for (const collector of collectors) await collector.kill();
      await lastHop?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Starts a collector on `configs` + the last-hop overlay, in its own directory (queue, ports). */
    async function collectorFor(name: string, configs: string[], env: Record<string, string> = {}) {
      if (!lastHop) throw new Error('not set up');
      const own = join(dir, name);
      mkdirSync(own);
      const endpoints = await collectorEndpoints(own, lastHop.logsUrl, token);
      const collector = await startCollector({
        binary,
        configs: [...configs, writeLastHopOverlay(own, { encoding: 'proto' })],
        env: { ...endpoints.env, ...env },
        healthUrl: endpoints.healthUrl,
      });
      collectors.push(collector);
      return endpoints.otlpHttpUrl;
    }

    /** Emits a run through a collector into serve, then checks the raw rows and the query module. */
    async function deliverAndCheck(otlpHttpUrl: string): Promise<{ ordinary: string[] }> {
      if (!lastHop) throw new Error('not set up');
      const store = lastHop.store;
      const runId = randomUUID().slice(0, 8);
      const events = auditEvents(runId, 40);
      const ordinary = Array.from({ length: 40 }, (_, i) => `ordinary log ${i} of ${runId}`);
      await emit(otlpHttpUrl, runId, events, ordinary);
      const rows = await waitForStored(lastHop, runId, events);
      const byId = rowsById(rows);
      for (const event of events) for (const copy of byId.get(event.id) ?? []) expectIntact(event, copy);
      // At-least-once: the collector may have delivered a batch twice. The reads still show one event per id.
      const tenant = events[0]?.tenant ?? '';
      // An insert commits otel_logs before the views' tables: wait for the last batch's view rows too.
      await waitFor('every event in audit_events', async () => {
        const page = await store.search({ tenant }, { limit: 1000 });
        return page.events.length === events.length;
      });
      for (const event of events) {
        const stored = await store.getEvent(tenant, event.id);
        expect(stored, event.id).toBeDefined();
        expect(stored?.action).toBe(event.action);
        expect(stored?.occurredAt.getTime()).toBe(event.occurredAt.getTime());
        expect(stored?.actor).toEqual(event.actor);
        expect(stored?.targets).toEqual(event.targets);
        expect(stored?.metadata).toEqual(event.metadata);
        expect(stored?.serviceName).toBe('e2e-service');
        expect(stored?.malformed).toEqual([]);
      }
      const page = await store.search({ tenant }, { limit: 1000 });
      expect(page.events.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      const sorted = (ids: string[]) => [...ids].sort();
      const actorPage = await store.actorTimeline(tenant, { id: 'user-0', type: 'user' }, { limit: 1000 });
      expect(sorted(actorPage.events.map((e) => e.id))).toEqual(
        sorted(events.filter((e) => e.actor.id === 'user-0').map((e) => e.id)),
      );
      const account = await store.targetHistory(tenant, { type: 'account', id: 'acct-1' }, { limit: 1000 });
      expect(sorted(account.events.map((e) => e.id))).toEqual(
        sorted(events.filter((e) => e.targets.some((t) => t.id === 'acct-1')).map((e) => e.id)),
      );
      // The raw table holds this run's audit records only (at least once each), never an ordinary log.
      const raw = await store.query<{ body: string }>(
        `SELECT Body AS body FROM {db}.${AUDIT_TABLES.logs} WHERE ResourceAttributes['e2e.run'] = {run:String}`,
        { run: runId },
      );
      expect(raw.length).toBeGreaterThanOrEqual(events.length);
      expect(raw.filter((row) => ordinary.includes(row.body))).toEqual([]);
      return { ordinary };
    }

    it('gateway.yaml: the query module returns every audit event intact, and no ordinary log is stored', async () => {
      await deliverAndCheck(await collectorFor('gateway', [SHIPPED_CONFIGS.gateway]));
    }, 60_000);

    it('audit-routing.yaml: the same, and ordinary logs still reach the existing exporter', async () => {
      const appLogs = join(dir, 'app-logs.txt');
      const url = await collectorFor(
        'routing',
        [SHIPPED_CONFIGS.exampleExistingCollector, SHIPPED_CONFIGS.auditRouting],
        {
          APP_LOGS_OUTPUT: appLogs,
          OTEL_AUDIT_SERVICE_EXTENSIONS: '[health_check, file_storage/audit_queue]',
          OTEL_AUDIT_INTAKE_RECEIVERS: '[otlp]',
        },
      );
      const { ordinary } = await deliverAndCheck(url);
      const app = () => (existsSync(appLogs) ? readFileSync(appLogs, 'utf8') : '');
      await waitFor(`${ordinary.length} ordinary logs at the existing exporter`, () =>
        ordinary.every((body) => app().includes(`Body: Str(${body})`)),
      );
    }, 60_000);
  },
);
