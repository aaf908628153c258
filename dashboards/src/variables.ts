// Template variables. Tenant is on every dashboard; its options follow the time range.
import { DATASOURCE_REF } from './datasource.js';
import type { QueryVariable, TextVariable } from './model.js';
import { C, quoted, T, timeFilter, VAR } from './sql.js';

function queryVariable(name: string, label: string, rawSql: string): QueryVariable {
  return {
    type: 'query',
    name,
    label,
    datasource: { ...DATASOURCE_REF },
    query: { editorType: 'sql', rawSql },
    definition: rawSql,
    refresh: 2,
    includeAll: false,
    multi: false,
    sort: 1,
    current: {},
    hide: 0,
  };
}

function textVariable(name: string, label: string): TextVariable {
  return { type: 'textbox', name, label, query: '', current: { text: '', value: '' }, hide: 0 };
}

// DISTINCT over the raw tables: a not-yet-merged duplicate cannot add a distinct value, so no FINAL needed.
export const tenantVariable = (): QueryVariable =>
  queryVariable(
    VAR.tenant,
    'Tenant',
    `SELECT DISTINCT ${C.tenant} FROM ${T.events} WHERE ${timeFilter()} ORDER BY ${C.tenant}`,
  );

// A list holds at most the 10,000 actors active most recently in the range (shown sorted by id); any other actor
// is reached through a link or `var-actor=` in the URL.
export const actorVariable = (): QueryVariable =>
  queryVariable(
    VAR.actor,
    'Actor',
    `SELECT ${C.actorId} FROM ${T.events} WHERE ${C.tenant} = ${quoted(VAR.tenant)} AND ${timeFilter()} GROUP BY ${C.actorId} ORDER BY max(${C.occurredAt}) DESC, ${C.actorId} LIMIT 10000`,
  );

export const targetTypeVariable = (): QueryVariable =>
  queryVariable(
    VAR.targetType,
    'Target type',
    `SELECT DISTINCT target_type FROM ${T.byTarget} WHERE ${C.tenant} = ${quoted(VAR.tenant)} AND ${timeFilter()} ORDER BY target_type`,
  );

// Ids are typed or arrive through a link: a text box keeps any value (a list could not hold them all).
export const targetIdVariable = (): TextVariable => textVariable(VAR.targetId, 'Target id');
export const eventIdVariable = (): TextVariable => textVariable(VAR.eventId, 'Event id');
