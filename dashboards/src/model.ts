// The subset of Grafana's dashboard JSON model these dashboards use (schemaVersion 39+).
import type { QueryFormat } from './datasource.js';
import { DATASOURCE_REF } from './datasource.js';

export interface DatasourceRef {
  type: string;
  uid: string;
}

export interface ClickHouseTarget {
  refId: string;
  datasource: DatasourceRef;
  editorType: 'sql';
  rawSql: string;
  format: QueryFormat;
  queryType: 'table' | 'timeseries' | 'logs';
}

export interface DataLink {
  title: string;
  url: string;
}

export interface FieldOverride {
  matcher: { id: 'byName'; options: string };
  properties: { id: string; value: unknown }[];
}

export interface Panel {
  id: number;
  type: 'table' | 'timeseries' | 'logs' | 'stat' | 'barchart' | 'piechart' | 'text';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: DatasourceRef;
  targets?: ClickHouseTarget[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: FieldOverride[] };
  options: Record<string, unknown>;
}

export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  datasource: DatasourceRef;
  query: { editorType: 'sql'; rawSql: string };
  definition: string;
  /** 2 = refresh when the time range changes. */
  refresh: 1 | 2;
  includeAll: false;
  multi: false;
  sort: 0 | 1;
  current: Record<string, never>;
  hide: 0;
}

export interface TextVariable {
  type: 'textbox';
  name: string;
  label: string;
  query: string;
  current: { text: string; value: string };
  hide: 0;
}

export type Variable = QueryVariable | TextVariable;

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'utc';
  schemaVersion: number;
  version: 1;
  editable: false;
  graphTooltip: 1;
  time: { from: string; to: string };
  refresh: string;
  templating: { list: Variable[] };
  links: {
    title: string;
    type: 'dashboards';
    tags: string[];
    asDropdown: boolean;
    keepTime: true;
    includeVars: true;
  }[];
  panels: Panel[];
  annotations: { list: [] };
}

export function clickhouseTarget(
  rawSql: string,
  format: QueryFormat,
  queryType: ClickHouseTarget['queryType'],
): ClickHouseTarget {
  return { refId: 'A', datasource: { ...DATASOURCE_REF }, editorType: 'sql', rawSql, format, queryType };
}
