// Structural checks of the generated dashboards and provisioning (no Grafana binary here).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  buildDashboards,
  DASHBOARD_SLUGS,
  DASHBOARD_UIDS,
  DATASOURCE_TYPE,
  DATASOURCE_UID,
  type Dashboard,
  FORMAT,
  PROVISIONING_FILES,
  renderGrafanaFiles,
} from '../src/index.js';
import { dashboardQueries } from './support/queries.js';

const GRAFANA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana');
const boards = Object.values(buildDashboards());
const byUid = new Map(boards.map((b) => [b.uid, b]));

/** Variable names a text refers to (`$x`, `${x}`, `${x:fmt}`, `[[x]]`), without Grafana built-ins `__…`. */
function referencedVariables(text: string): string[] {
  const names = [...text.matchAll(/\$(\w+)|\$\{(\w+)[^}]*\}|\[\[(\w+)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
  return names.filter((n) => !n.startsWith('__'));
}

const variableNames = (board: Dashboard) => board.templating.list.map((v) => v.name);

function links(board: Dashboard): { panel: string; column: string; url: string }[] {
  return board.panels.flatMap((panel) =>
    panel.fieldConfig.overrides.flatMap((o) =>
      o.properties
        .filter((p) => p.id === 'links')
        .flatMap((p) =>
          (p.value as { url: string }[]).map((l) => ({
            panel: panel.title,
            column: o.matcher.options,
            url: l.url,
          })),
        ),
    ),
  );
}

describe('generated files', () => {
  it('the committed files under dashboards/grafana equal the generator output', () => {
    for (const [path, content] of renderGrafanaFiles()) {
      const committed = readFileSync(join(GRAFANA_DIR, path), 'utf8');
      const stale = `${path} is stale: npm run generate -w dashboards`;
      // JSON is laid out by Biome after generation: compare content; YAML byte for byte.
      if (path.endsWith('.json')) expect(JSON.parse(committed), stale).toEqual(JSON.parse(content));
      else expect(committed, stale).toBe(content);
    }
  });

  it('datasource provisioning has the fixed uid every panel and variable uses', () => {
    const provisioning = parse(readFileSync(join(GRAFANA_DIR, PROVISIONING_FILES.datasource), 'utf8'));
    expect(provisioning.datasources).toHaveLength(1);
    expect(provisioning.datasources[0]).toMatchObject({ uid: DATASOURCE_UID, type: DATASOURCE_TYPE });
    for (const board of boards) {
      for (const panel of board.panels) {
        expect(panel.datasource).toEqual({ type: DATASOURCE_TYPE, uid: DATASOURCE_UID });
        for (const t of panel.targets ?? [])
          expect(t.datasource).toEqual({ type: DATASOURCE_TYPE, uid: DATASOURCE_UID });
      }
      for (const v of board.templating.list) {
        if (v.type === 'query') expect(v.datasource).toEqual({ type: DATASOURCE_TYPE, uid: DATASOURCE_UID });
      }
    }
  });

  it('the dashboard provider loads JSON files from one folder', () => {
    const provider = parse(readFileSync(join(GRAFANA_DIR, PROVISIONING_FILES.dashboardProvider), 'utf8'));
    expect(provider.providers).toHaveLength(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: expect.any(String) } });
  });
});

describe.each(boards.map((b) => [b.title, b] as const))('%s', (_title, board) => {
  it('has unique panel ids and titles, and a uid of its own', () => {
    expect(new Set(board.panels.map((p) => p.id)).size).toBe(board.panels.length);
    expect(new Set(board.panels.map((p) => p.title)).size).toBe(board.panels.length);
    expect(boards.filter((b) => b.uid === board.uid)).toHaveLength(1);
    expect(new Set(variableNames(board)).size).toBe(board.templating.list.length);
  });

  it('scopes by tenant: the tenant variable exists and every query filters on it', () => {
    expect(variableNames(board)[0]).toBe('tenant');
    for (const q of dashboardQueries(board)) {
      if (q.key !== 'variable:tenant')
        expect(q.rawSql, q.key).toContain(`tenant = decodeURLComponent('\${tenant:percentencode}')`);
      // Lists are read over all time (one that followed the range would switch the selected value when the range
      // changes), and one event is found by id whatever the range (a pasted link carries a relative one).
      if (q.key.startsWith('variable:') || board.uid === DASHBOARD_UIDS.event)
        expect(q.rawSql, q.key).not.toContain('$__timeFilter');
      else expect(q.rawSql, q.key).toContain('$__timeFilter_ms(occurred_at)');
      expect(q.rawSql, q.key).not.toContain('$__timeFilter(');
    }
    // Lists refresh when the dashboard loads, not on every time range change.
    for (const v of board.templating.list) if (v.type === 'query') expect(v.refresh, v.name).toBe(1);
  });

  it('defines every variable it uses, before the variables that use it', () => {
    const defined = variableNames(board);
    for (const q of dashboardQueries(board)) {
      for (const name of referencedVariables(q.rawSql)) {
        expect(defined, `${q.key} uses $${name}`).toContain(name);
        if (q.key.startsWith('variable:')) {
          expect(defined.indexOf(name), `${q.key} depends on a later variable`).toBeLessThan(
            defined.indexOf(q.key.slice(9)),
          );
        }
      }
    }
    for (const link of links(board)) {
      for (const name of referencedVariables(link.url))
        expect(defined, `${link.panel} link uses $${name}`).toContain(name);
    }
  });

  it('puts variables in SQL only as decodeURLComponent of the percentencode format', () => {
    for (const q of dashboardQueries(board)) {
      const uses = [...q.rawSql.matchAll(/\$\{\w+[^}]*\}|\$\w+|\[\[\w+/g)].filter(
        (m) => !m[0].startsWith('$__'),
      );
      for (const use of uses) {
        const at = use.index;
        expect(q.rawSql.slice(at - "decodeURLComponent('".length, at + use[0].length + 2), q.key).toMatch(
          /^decodeURLComponent\('\$\{\w+:percentencode\}'\)$/,
        );
      }
      expect(q.rawSql, q.key).not.toMatch(/\$__interval\b|\$__conditionalAll/);
    }
  });

  it('never reads audit_events without FINAL (duplicates are possible until a merge)', () => {
    for (const q of dashboardQueries(board)) {
      if (q.key.startsWith('variable:')) continue; // DISTINCT lists cannot show a duplicate
      expect(q.rawSql, q.key).not.toMatch(/FROM audit_events(?! FINAL)\b/);
    }
  });

  it('uses the plugin format that fits each visualization', () => {
    const expected = {
      table: FORMAT.table,
      stat: FORMAT.table,
      logs: FORMAT.logs,
      timeseries: FORMAT.timeSeries,
    };
    for (const panel of board.panels) {
      expect(panel.targets, panel.title).toHaveLength(1);
      for (const t of panel.targets ?? []) {
        expect(t.format, panel.title).toBe(expected[panel.type as keyof typeof expected]);
        expect(t.editorType).toBe('sql');
      }
      if (panel.type === 'logs')
        expect(panel.targets?.[0]?.rawSql).toMatch(/AS timestamp[\s\S]*AS body[\s\S]*AS level/);
      if (panel.type === 'timeseries')
        expect(panel.targets?.[0]?.rawSql).toMatch(/\$__timeInterval_ms\(\w+\) AS time/);
    }
  });

  it('links cells to existing dashboards, setting only their variables, keeping tenant and time range', () => {
    for (const link of links(board)) {
      const url = new URL(link.url, 'http://grafana');
      const [, d, uid, slug] = url.pathname.split('/');
      expect(d).toBe('d');
      const target = byUid.get(uid ?? '');
      expect(target, `${link.panel}: no dashboard ${uid}`).toBeDefined();
      expect(
        Object.entries(DASHBOARD_SLUGS).find(
          ([k]) => buildDashboards()[k as keyof typeof DASHBOARD_SLUGS].uid === uid,
        )?.[1],
      ).toBe(slug);
      const params = link.url.split('?')[1]?.split('&') ?? [];
      // The dashboard's range, or (from the Event dashboard, which ignores it) a range the row carries.
      if (board.uid === DASHBOARD_UIDS.event)
        expect(params.filter((p) => /^(from|to)=/.test(p))).toEqual([
          `from=\${__data.fields.range_from}`,
          `to=\${__data.fields.range_to}`,
        ]);
      else expect(params).toContain(`\${__url_time_range}`);
      expect(params).toContain(`var-tenant=\${tenant:percentencode}`);
      const set = params.filter((p) => p.startsWith('var-')).map((p) => p.slice(4, p.indexOf('=')));
      // Every variable of the target dashboard is set by the link, and nothing else.
      expect(set.sort()).toEqual(variableNames(target as Dashboard).sort());
    }
  });
});

it('links reach every dashboard but the overview (the entry point)', () => {
  const reached = new Set(boards.flatMap((b) => links(b).map((l) => l.url.split('/')[2])));
  expect([...reached].sort()).toEqual(
    boards
      .filter((b) => b.title !== 'Audit overview')
      .map((b) => b.uid)
      .sort(),
  );
});
