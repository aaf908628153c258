// Cell links between the dashboards; every link keeps the tenant and the time range (or, from a panel that is not
// bound to the range, a range the row carries around its own time).
import type { DataLink, FieldOverride } from './model.js';
import { VAR } from './sql.js';

export const DASHBOARD_UIDS = {
  overview: 'otel-audit-overview',
  actor: 'otel-audit-actor',
  target: 'otel-audit-target',
  event: 'otel-audit-event',
} as const;

export const DASHBOARD_SLUGS: Record<keyof typeof DASHBOARD_UIDS, string> = {
  overview: 'audit-overview',
  actor: 'actor-activity',
  target: 'target-history',
  event: 'audit-event',
};

/** Columns of a row holding the time range its links open (epoch ms), instead of the dashboard's range. */
export interface RowRange {
  from: string;
  to: string;
}

function url(to: keyof typeof DASHBOARD_UIDS, params: Record<string, string>, range?: RowRange): string {
  const query = [`var-${VAR.tenant}=\${${VAR.tenant}:percentencode}`]
    .concat(Object.entries(params).map(([name, value]) => `var-${name}=${value}`))
    .concat(
      range
        ? [`from=\${__data.fields.${range.from}}`, `to=\${__data.fields.${range.to}}`]
        : [`\${__url_time_range}`],
    );
  return `/d/${DASHBOARD_UIDS[to]}/${DASHBOARD_SLUGS[to]}?${query.join('&')}`;
}

const CELL = `\${__value.raw:percentencode}`;
const field = (name: string) => `\${__data.fields.${name}:percentencode}`;

function linkOverride(column: string, link: DataLink): FieldOverride {
  return { matcher: { id: 'byName', options: column }, properties: [{ id: 'links', value: [link] }] };
}

/** `actor_id` cell → Actor activity. */
export function actorLink(column = 'actor_id', range?: RowRange): FieldOverride {
  return linkOverride(column, { title: 'Actor activity', url: url('actor', { [VAR.actor]: CELL }, range) });
}

/** `target_id` cell → Target history; the row must carry `target_type` too. */
export function targetLink(
  idColumn = 'target_id',
  typeColumn = 'target_type',
  range?: RowRange,
): FieldOverride {
  return linkOverride(idColumn, {
    title: 'Target history',
    url: url('target', { [VAR.targetType]: field(typeColumn), [VAR.targetId]: CELL }, range),
  });
}

/** Hides a column a panel carries only for its links. */
export function hidden(column: string): FieldOverride {
  return { matcher: { id: 'byName', options: column }, properties: [{ id: 'custom.hidden', value: true }] };
}

/** `event_id` cell → Event. */
export function eventLink(column = 'event_id'): FieldOverride {
  return linkOverride(column, { title: 'Event', url: url('event', { [VAR.eventId]: CELL }) });
}
