import { dashboard } from '../dashboard.js';
import { DASHBOARD_UIDS, eventLink, targetLink } from '../links.js';
import type { Dashboard } from '../model.js';
import { resetPanelIds, stat, table, timeseries } from '../panels.js';
import {
  actorScope,
  C,
  DISTINCT_TARGETS,
  EVENTS,
  LAST_SEEN,
  NEWEST_FIRST,
  OCCURRENCES,
  TARGET_COLUMNS,
} from '../sql.js';
import { actorVariable, tenantVariable } from '../variables.js';

const failure = `${C.outcome} = 'failure'`;

export function actorActivityDashboard(): Dashboard {
  resetPanelIds();
  return dashboard({
    uid: DASHBOARD_UIDS.actor,
    title: 'Actor activity',
    description:
      'Everything one actor id (user, API key, service) did in a tenant; the Type column tells apart actors of different types sharing an id.',
    variables: [tenantVariable(), actorVariable()],
    panels: [
      stat({
        title: 'Events',
        sql: `SELECT count() AS events FROM ${EVENTS} WHERE ${actorScope()}`,
        grid: { x: 0, y: 0, w: 8, h: 4 },
      }),
      stat({
        title: 'Failures',
        color: 'red',
        sql: `SELECT countIf(${failure}) AS failures FROM ${EVENTS} WHERE ${actorScope()}`,
        grid: { x: 8, y: 0, w: 8, h: 4 },
      }),
      stat({
        title: 'Distinct targets',
        sql: `SELECT uniqExact(target.type, target.id) AS distinct_targets FROM ${EVENTS} ARRAY JOIN ${DISTINCT_TARGETS} AS target WHERE ${actorScope()}`,
        grid: { x: 16, y: 0, w: 8, h: 4 },
      }),
      timeseries({
        title: 'Actions over time',
        sql: `SELECT $__timeInterval_ms(${C.occurredAt}) AS time, ${C.action}, count() AS events
FROM ${EVENTS} WHERE ${actorScope()}
GROUP BY time, ${C.action} ORDER BY time, ${C.action}`,
        grid: { x: 0, y: 4, w: 24, h: 8 },
      }),
      table({
        title: 'Timeline',
        sql: `SELECT ${C.occurredAt}, ${C.eventId}, ${C.actorType}, ${C.action}, ${C.crud}, ${C.outcome}, ${C.outcomeReason}, ${TARGET_COLUMNS},
  ${OCCURRENCES}, ${C.contextIp}, ${C.contextUserAgent}, ${C.serviceName}
FROM ${EVENTS} WHERE ${actorScope()}
ORDER BY ${NEWEST_FIRST} LIMIT 1000`,
        grid: { x: 0, y: 12, w: 24, h: 12 },
        links: [eventLink(), targetLink()],
      }),
      table({
        title: 'Actions',
        sql: `SELECT ${C.action}, count() AS events, countIf(${failure}) AS failures, ${LAST_SEEN}
FROM ${EVENTS} WHERE ${actorScope()}
GROUP BY ${C.action} ORDER BY events DESC, ${C.action}`,
        grid: { x: 0, y: 24, w: 12, h: 9 },
      }),
      table({
        title: 'Targets touched',
        sql: `SELECT target.type AS target_type, target.id AS target_id, any(target.name) AS target_name,
  count() AS events, ${LAST_SEEN}
FROM ${EVENTS} ARRAY JOIN ${DISTINCT_TARGETS} AS target WHERE ${actorScope()}
GROUP BY target_type, target_id ORDER BY events DESC, target_type, target_id LIMIT 100`,
        grid: { x: 12, y: 24, w: 12, h: 9 },
        links: [targetLink()],
      }),
    ],
  });
}
