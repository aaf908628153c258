import { AUDIT_COLUMNS } from '@otel-audit/sdk/conventions';
import { dashboard } from '../dashboard.js';
import { actorLink, DASHBOARD_UIDS, hidden, targetLink } from '../links.js';
import type { Dashboard } from '../model.js';
import { resetPanelIds, table } from '../panels.js';
import { C, EVENT_RANGE, EVENT_RANGE_COLUMNS, EVENTS, eventScope } from '../sql.js';
import { eventIdVariable, tenantVariable } from '../variables.js';

const ALL_COLUMNS = Object.values(AUDIT_COLUMNS);

/**
 * This dashboard ignores the time range (the event is found by id), so its links open a day either side of the
 * event rather than the range in the URL, which a pasted link may carry long past the event.
 */
const RANGE_HIDDEN = [hidden(EVENT_RANGE_COLUMNS.from), hidden(EVENT_RANGE_COLUMNS.to)];

/**
 * One event's row (FINAL: a duplicate not merged yet is one row). An id stored under two keys (re-sent at another
 * time or actor) is two rows: the one received first, as getEvent answers, the same one in every panel.
 */
const oneEvent = `(SELECT * FROM ${EVENTS} WHERE ${eventScope()} ORDER BY ${C.receivedAt}, ${C.occurredAt}, ${C.actorId} LIMIT 1)`;

export function eventDashboard(): Dashboard {
  resetPanelIds();
  return dashboard({
    uid: DASHBOARD_UIDS.event,
    title: 'Audit event',
    description:
      'One event by id, whatever the time range (the picker does nothing here): every stored field and the raw row as JSON.',
    variables: [tenantVariable(), eventIdVariable()],
    panels: [
      table({
        title: 'Summary',
        sql: `SELECT ${C.occurredAt}, ${C.action}, ${C.outcome}, ${C.outcomeReason}, ${C.actorId}, ${C.actorType}, ${C.actorName}, ${C.serviceName},
  ${EVENT_RANGE}
FROM ${oneEvent}`,
        grid: { x: 0, y: 0, w: 24, h: 4 },
        links: [actorLink('actor_id', EVENT_RANGE_COLUMNS), ...RANGE_HIDDEN],
      }),
      table({
        title: 'Fields',
        description: 'Every column of the stored event, one per row.',
        sql: `SELECT kv.1 AS field, kv.2 AS value
FROM ${oneEvent}
ARRAY JOIN [${ALL_COLUMNS.map((c) => `('${c}', toString(${c}))`).join(', ')}] AS kv`,
        grid: { x: 0, y: 4, w: 12, h: 20 },
      }),
      table({
        title: 'Targets',
        sql: `SELECT tupleElement(pair.1, 'type') AS target_type, tupleElement(pair.1, 'id') AS target_id, tupleElement(pair.1, 'name') AS target_name, pair.2 AS fields,
  ${EVENT_RANGE}
FROM ${oneEvent}
ARRAY JOIN arrayZip(${C.targets}, arrayResize(${C.targetFields}, length(${C.targets}), '')) AS pair`,
        grid: { x: 12, y: 4, w: 12, h: 8 },
        links: [targetLink('target_id', 'target_type', EVENT_RANGE_COLUMNS), ...RANGE_HIDDEN],
      }),
      table({
        title: 'Raw JSON',
        sql: `SELECT formatRowNoNewline('JSONEachRow', ${ALL_COLUMNS.join(', ')}) AS raw_json
FROM ${oneEvent}`,
        grid: { x: 12, y: 12, w: 12, h: 12 },
      }),
    ],
  });
}
