// Template variables. Tenant is on every dashboard. Lists are read when the dashboard loads, over all time: a list
// that followed the time range would replace a value it no longer holds with its first option on the next range
// change (Grafana's rule), silently switching the tenant or target type a viewer was reading.
import { DATASOURCE_REF } from './datasource.js';
import type { QueryVariable, TextVariable } from './model.js';
import { C, quoted, T, VAR } from './sql.js';

function queryVariable(name: string, label: string, rawSql: string): QueryVariable {
  return {
    type: 'query',
    name,
    label,
    datasource: { ...DATASOURCE_REF },
    query: { editorType: 'sql', rawSql },
    definition: rawSql,
    refresh: 1,
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

// DISTINCT over the raw tables: a not-yet-merged duplicate cannot add a distinct value, so no FINAL needed. The
// empty tenant (events sent without one) is left out: sorted first, it would be the default selection.
export const tenantVariable = (): QueryVariable =>
  queryVariable(
    VAR.tenant,
    'Tenant',
    `SELECT DISTINCT ${C.tenant} FROM ${T.events} WHERE ${C.tenant} != '' ORDER BY ${C.tenant}`,
  );

export const targetTypeVariable = (): QueryVariable =>
  queryVariable(
    VAR.targetType,
    'Target type',
    // A malformed target's empty type is left out: sorted first, it would be the default selection.
    `SELECT DISTINCT target_type FROM ${T.byTarget} WHERE ${quoted(VAR.tenant)} != '' AND ${C.tenant} = ${quoted(VAR.tenant)} AND target_type != '' ORDER BY target_type`,
  );

// Ids are typed or arrive through a link: a text box keeps any value (a list could not hold them all, and would
// switch to its first entry when the value is not in it).
export const actorVariable = (): TextVariable => textVariable(VAR.actor, 'Actor id');
export const targetIdVariable = (): TextVariable => textVariable(VAR.targetId, 'Target id');
export const eventIdVariable = (): TextVariable => textVariable(VAR.eventId, 'Event id');
