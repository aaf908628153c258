// Panel builders: each panel is one ClickHouse query with the plugin's format for its visualization.
import { FORMAT } from './datasource.js';
import { clickhouseTarget, type FieldOverride, type Panel } from './model.js';

type Grid = Panel['gridPos'];

interface PanelSpec {
  title: string;
  description?: string;
  sql: string;
  grid: Grid;
}

let nextId = 1;

/** Panel ids restart per dashboard (they need only be unique inside one). */
export function resetPanelIds(): void {
  nextId = 1;
}

function base(spec: PanelSpec, type: Panel['type']): Omit<Panel, 'targets' | 'fieldConfig' | 'options'> {
  return {
    id: nextId++,
    type,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    gridPos: spec.grid,
    datasource: clickhouseTarget('', FORMAT.table, 'table').datasource,
  };
}

/** Rows of events or aggregates: format 1 (format 0 would pivot the rows into series). */
export function table(spec: PanelSpec & { links?: FieldOverride[] }): Panel {
  return {
    ...base(spec, 'table'),
    targets: [clickhouseTarget(spec.sql, FORMAT.table, 'table')],
    fieldConfig: { defaults: { custom: { filterable: true } }, overrides: spec.links ?? [] },
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false } },
  };
}

/** `time` + one string column + one number: the plugin turns the long rows into one series per string. */
export function timeseries(spec: PanelSpec & { stacked?: boolean }): Panel {
  return {
    ...base(spec, 'timeseries'),
    targets: [clickhouseTarget(spec.sql, FORMAT.timeSeries, 'timeseries')],
    fieldConfig: {
      defaults: {
        custom: {
          drawStyle: 'bars',
          fillOpacity: 80,
          stacking: { mode: spec.stacked === false ? 'none' : 'normal', group: 'A' },
        },
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
  };
}

/** One number (first row, first numeric column). */
export function stat(spec: PanelSpec & { color?: string }): Panel {
  return {
    ...base(spec, 'stat'),
    targets: [clickhouseTarget(spec.sql, FORMAT.table, 'table')],
    fieldConfig: {
      defaults: { color: { mode: 'fixed', fixedColor: spec.color ?? 'blue' } },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], values: false },
      colorMode: 'value',
      graphMode: 'none',
    },
  };
}

/** Logs visualization: columns `timestamp`, `body`, `level` (+ labels), format 2. */
export function logs(spec: PanelSpec): Panel {
  return {
    ...base(spec, 'logs'),
    targets: [clickhouseTarget(spec.sql, FORMAT.logs, 'logs')],
    fieldConfig: { defaults: {}, overrides: [] },
    options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true },
  };
}
