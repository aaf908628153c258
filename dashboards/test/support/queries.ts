import type { Dashboard, Panel } from '../../src/index.js';

export interface DashboardQuery {
  dashboard: Dashboard;
  /** `panel:<title>` or `variable:<name>`. */
  key: string;
  rawSql: string;
  panel?: Panel;
}

/** Every SQL statement a dashboard sends: panel targets and query variables. */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const variable of dashboard.templating.list) {
    if (variable.type === 'query')
      out.push({ dashboard, key: `variable:${variable.name}`, rawSql: variable.query.rawSql });
  }
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? [])
      out.push({ dashboard, key: `panel:${panel.title}`, rawSql: target.rawSql, panel });
  }
  return out;
}
