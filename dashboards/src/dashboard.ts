import type { DASHBOARD_UIDS } from './links.js';
import type { Dashboard, Panel, Variable } from './model.js';

export const DASHBOARD_TAG = 'otel-audit';

export function dashboard(spec: {
  uid: (typeof DASHBOARD_UIDS)[keyof typeof DASHBOARD_UIDS];
  title: string;
  description: string;
  variables: Variable[];
  panels: Panel[];
}): Dashboard {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [DASHBOARD_TAG],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: false,
    graphTooltip: 1,
    time: { from: 'now-7d', to: 'now' },
    refresh: '',
    templating: { list: spec.variables },
    // The other otel-audit dashboards, keeping time range and variables (tenant).
    links: [
      {
        title: 'otel-audit',
        type: 'dashboards',
        tags: [DASHBOARD_TAG],
        asDropdown: true,
        keepTime: true,
        includeVars: true,
      },
    ],
    panels: spec.panels,
    annotations: { list: [] },
  };
}
