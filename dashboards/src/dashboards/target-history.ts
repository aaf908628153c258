import { dashboard } from '../dashboard.js';
import { actorLink, DASHBOARD_UIDS, eventLink } from '../links.js';
import type { Dashboard } from '../model.js';
import { resetPanelIds, table, timeseries } from '../panels.js';
import { ALL_TARGETS, C, EVENTS, LAST_SEEN, NEWEST_FIRST, OCCURRENCES, targetScope } from '../sql.js';
import { targetIdVariable, targetTypeVariable, tenantVariable } from '../variables.js';

const failure = `${C.outcome} = 'failure'`;

export function targetHistoryDashboard(): Dashboard {
  resetPanelIds();
  return dashboard({
    uid: DASHBOARD_UIDS.target,
    title: 'Target history',
    description: 'Who did what to one target (type + id), when, and with which outcome.',
    variables: [tenantVariable(), targetTypeVariable(), targetIdVariable()],
    panels: [
      timeseries({
        title: 'Events by outcome',
        sql: `SELECT $__timeInterval_ms(${C.occurredAt}) AS time, toString(${C.outcome}) AS outcome, count() AS events
FROM ${EVENTS} WHERE ${targetScope()}
GROUP BY time, outcome ORDER BY time, outcome`,
        grid: { x: 0, y: 0, w: 24, h: 7 },
      }),
      table({
        title: 'History',
        sql: `SELECT ${C.occurredAt}, ${C.eventId}, ${C.actorId}, ${C.actorType}, ${C.actorName}, ${C.action}, ${C.crud},
  ${C.outcome}, ${C.outcomeReason}, ${ALL_TARGETS}, ${OCCURRENCES}, ${C.changes}, ${C.contextIp}
FROM ${EVENTS} WHERE ${targetScope()}
ORDER BY ${NEWEST_FIRST} LIMIT 1000`,
        grid: { x: 0, y: 7, w: 24, h: 12 },
        links: [eventLink(), actorLink()],
      }),
      table({
        title: 'Actors on this target',
        sql: `SELECT ${C.actorId}, ${C.actorType}, any(${C.actorName}) AS ${C.actorName},
  count() AS events, countIf(${failure}) AS failures, ${LAST_SEEN}
FROM ${EVENTS} WHERE ${targetScope()}
GROUP BY ${C.actorId}, ${C.actorType} ORDER BY events DESC, ${C.actorId}, ${C.actorType} LIMIT 100`,
        grid: { x: 0, y: 19, w: 24, h: 8 },
        links: [actorLink()],
      }),
    ],
  });
}
