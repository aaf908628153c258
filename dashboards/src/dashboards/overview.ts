import { dashboard } from '../dashboard.js';
import { actorLink, DASHBOARD_UIDS, eventLink, targetLink } from '../links.js';
import type { Dashboard } from '../model.js';
import { logs, resetPanelIds, stat, table, timeseries } from '../panels.js';
import {
  C,
  DISTINCT_TARGETS,
  EVENTS,
  LAST_SEEN,
  NEWEST_FIRST,
  OCCURRENCES,
  scope,
  TARGET_COLUMNS,
} from '../sql.js';
import { tenantVariable } from '../variables.js';

const failure = `${C.outcome} = 'failure'`;

export function overviewDashboard(): Dashboard {
  resetPanelIds();
  return dashboard({
    uid: DASHBOARD_UIDS.overview,
    title: 'Audit overview',
    description:
      'Who did what in one tenant: volume by action and outcome, failures, top actors and targets.',
    variables: [tenantVariable()],
    panels: [
      stat({
        title: 'Events',
        sql: `SELECT count() AS events FROM ${EVENTS} WHERE ${scope()}`,
        grid: { x: 0, y: 0, w: 6, h: 4 },
      }),
      stat({
        title: 'Failures',
        color: 'red',
        sql: `SELECT countIf(${failure}) AS failures FROM ${EVENTS} WHERE ${scope()}`,
        grid: { x: 6, y: 0, w: 6, h: 4 },
      }),
      stat({
        title: 'Actors',
        // An actor is a type and an id (as in Top actors); events sent without one are no actor.
        sql: `SELECT uniqExactIf((${C.actorType}, ${C.actorId}), ${C.actorId} != '') AS actors FROM ${EVENTS} WHERE ${scope()}`,
        grid: { x: 12, y: 0, w: 6, h: 4 },
      }),
      stat({
        title: 'Actions',
        sql: `SELECT uniqExact(${C.action}) AS actions FROM ${EVENTS} WHERE ${scope()}`,
        grid: { x: 18, y: 0, w: 6, h: 4 },
      }),
      timeseries({
        title: 'Events by action',
        sql: `SELECT $__timeInterval_ms(${C.occurredAt}) AS time, ${C.action}, count() AS events
FROM ${EVENTS} WHERE ${scope()}
GROUP BY time, ${C.action} ORDER BY time, ${C.action}`,
        grid: { x: 0, y: 4, w: 12, h: 9 },
      }),
      timeseries({
        title: 'Events by outcome',
        sql: `SELECT $__timeInterval_ms(${C.occurredAt}) AS time, toString(${C.outcome}) AS outcome, count() AS events
FROM ${EVENTS} WHERE ${scope()}
GROUP BY time, outcome ORDER BY time, outcome`,
        grid: { x: 12, y: 4, w: 12, h: 9 },
      }),
      table({
        title: 'Recent failures',
        sql: `SELECT ${C.occurredAt}, ${C.eventId}, ${C.action}, ${C.outcomeReason}, ${C.actorId}, ${C.actorType}, ${C.actorName}, ${TARGET_COLUMNS},
  ${OCCURRENCES}
FROM ${EVENTS} WHERE ${scope()} AND ${failure}
ORDER BY ${NEWEST_FIRST} LIMIT 100`,
        grid: { x: 0, y: 13, w: 24, h: 8 },
        links: [eventLink(), actorLink(), targetLink()],
      }),
      table({
        title: 'Top actors',
        sql: `SELECT ${C.actorId}, ${C.actorType}, any(${C.actorName}) AS ${C.actorName},
  count() AS events, countIf(${failure}) AS failures, ${LAST_SEEN}
FROM ${EVENTS} WHERE ${scope()}
GROUP BY ${C.actorId}, ${C.actorType} ORDER BY events DESC, ${C.actorId}, ${C.actorType} LIMIT 20`,
        grid: { x: 0, y: 21, w: 12, h: 9 },
        links: [actorLink()],
      }),
      table({
        title: 'Top targets',
        sql: `SELECT target.type AS target_type, target.id AS target_id, any(target.name) AS target_name,
  count() AS events, countIf(${failure}) AS failures, ${LAST_SEEN}
FROM ${EVENTS} ARRAY JOIN ${DISTINCT_TARGETS} AS target WHERE ${scope()}
GROUP BY target_type, target_id ORDER BY events DESC, target_type, target_id LIMIT 20`,
        grid: { x: 12, y: 21, w: 12, h: 9 },
        links: [targetLink()],
      }),
      table({
        title: 'Recent events',
        sql: `SELECT ${C.occurredAt}, ${C.eventId}, ${C.action}, ${C.crud}, ${C.outcome}, ${C.actorId}, ${C.actorType}, ${C.actorName}, ${TARGET_COLUMNS},
  ${OCCURRENCES}, ${C.serviceName}, ${C.contextIp}
FROM ${EVENTS} WHERE ${scope()}
ORDER BY ${NEWEST_FIRST} LIMIT 200`,
        grid: { x: 0, y: 30, w: 24, h: 10 },
        links: [eventLink(), actorLink(), targetLink()],
      }),
      logs({
        title: 'Event stream',
        description: 'The same events as log lines; expand one for every label.',
        sql: `SELECT ${C.occurredAt} AS timestamp,
  concat(${C.action}, ' by ', ${C.actorType}, ':', ${C.actorId}, if(empty(${C.targets}), '', concat(' on ', ${C.targets}.type[1], ':', ${C.targets}.id[1])),
    if(${failure}, concat(' FAILED: ', ${C.outcomeReason}), '')) AS body,
  if(${failure}, 'warning', 'info') AS level,
  toString(${C.eventId}) AS ${C.eventId}, ${C.action}, ${C.actorId}, ${C.serviceName}
FROM ${EVENTS} WHERE ${scope()}
ORDER BY ${NEWEST_FIRST} LIMIT 500`,
        grid: { x: 0, y: 40, w: 24, h: 10 },
      }),
    ],
  });
}
