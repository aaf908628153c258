// What Grafana and the ClickHouse plugin do to a panel's SQL before ClickHouse sees it, reproduced for tests:
// 1. Grafana (browser) interpolates template variables; 2. the plugin backend expands its macros
//    (grafana/clickhouse-datasource pkg/macros/macros.go, reference §4).

export interface TimeRange {
  from: Date;
  to: Date;
}

export interface RenderContext {
  variables: Record<string, string>;
  range: TimeRange;
  /** Grafana's computed interval for the panel, in seconds. */
  intervalSeconds: number;
}

export class UndefinedVariableError extends Error {
  constructor(
    readonly variable: string,
    readonly sql: string,
  ) {
    super(`variable "${variable}" used but not defined (in: ${sql.slice(0, 120)}…)`);
  }
}

/** Grafana's formats for a single value (templateSrv formatters). */
function format(value: string, fmt: string | undefined): string {
  switch (fmt) {
    case undefined:
    case 'raw':
      return value;
    case 'singlequote':
      // Quotes only: a backslash is left as it is (hence the dashboards use percentencode).
      return `'${value.replace(/'/g, "\\'")}'`;
    case 'doublequote':
      return `"${value.replace(/"/g, '\\"')}"`;
    case 'percentencode':
      // encodeURIComponentStrict: RFC 3986, also the sub-delims ! ' ( ) * encoded.
      return encodeURIComponent(value).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      );
    default:
      throw new Error(`format ${fmt} not emulated`);
  }
}

// `${name}`, `${name:format}`, `$name`, `[[name]]` (Grafana's variable regex); `$__…` are macros/built-ins.
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:}]+))?(?::([^}]+))?\}/g;

export function interpolateVariables(sql: string, variables: Record<string, string>): string {
  return sql.replace(VARIABLE, (match, plain, bracket, bracketFmt, braced, _path, bracedFmt) => {
    const name: string = plain ?? bracket ?? braced;
    if (name.startsWith('__')) return match;
    const value = variables[name];
    if (value === undefined) throw new UndefinedVariableError(name, sql);
    return format(value, bracketFmt ?? bracedFmt);
  });
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const dateTime = (d: Date) => `toDateTime(${seconds(d)})`;
const dateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const date = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;

type Macro = (args: string[], ctx: RenderContext) => string;

function arity(n: number, name: string, args: string[]): void {
  if (args.length !== n) throw new Error(`$__${name}: expected ${n} argument(s), received ${args.length}`);
}

const MACROS: Record<string, Macro> = {
  fromTime: (_a, c) => dateTime(c.range.from),
  toTime: (_a, c) => dateTime(c.range.to),
  fromTime_ms: (_a, c) => dateTime64(c.range.from),
  toTime_ms: (_a, c) => dateTime64(c.range.to),
  timeFilter: (a, c) => {
    arity(1, 'timeFilter', a);
    return `${a[0]} >= ${dateTime(c.range.from)} AND ${a[0]} <= ${dateTime(c.range.to)}`;
  },
  timeFilter_ms: (a, c) => {
    arity(1, 'timeFilter_ms', a);
    return `${a[0]} >= ${dateTime64(c.range.from)} AND ${a[0]} <= ${dateTime64(c.range.to)}`;
  },
  dateFilter: (a, c) => {
    arity(1, 'dateFilter', a);
    return `${a[0]} >= ${date(c.range.from)} AND ${a[0]} <= ${date(c.range.to)}`;
  },
  timeInterval: (a, c) => {
    arity(1, 'timeInterval', a);
    return `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${Math.max(Math.floor(c.intervalSeconds), 1)} second)`;
  },
  timeInterval_ms: (a, c) => {
    arity(1, 'timeInterval_ms', a);
    return `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${Math.max(Math.floor(c.intervalSeconds * 1000), 1)} millisecond)`;
  },
  interval_s: (_a, c) => String(Math.max(Math.floor(c.intervalSeconds), 1)),
};

// sqlds: `$__name` optionally followed by `(args)`; args are split on commas at depth 0.
const MACRO = /\$__(\w+)\b/g;

function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      args.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') args.push(current.trim());
  return args;
}

export function expandMacros(sql: string, ctx: RenderContext): string {
  let out = '';
  let last = 0;
  for (const match of sql.matchAll(MACRO)) {
    const start = match.index;
    if (start < last) continue;
    const name = match[1] as string;
    const macro = MACROS[name];
    if (!macro) throw new Error(`macro $__${name} is not a ClickHouse plugin macro`);
    let end = start + match[0].length;
    let args: string[] = [];
    if (sql[end] === '(') {
      let depth = 0;
      let i = end;
      for (; i < sql.length; i++) {
        if (sql[i] === '(') depth++;
        if (sql[i] === ')' && --depth === 0) break;
      }
      args = splitArgs(sql.slice(end + 1, i));
      end = i + 1;
    }
    out += sql.slice(last, start) + macro(args, ctx);
    last = end;
  }
  return out + sql.slice(last);
}

/** The SQL ClickHouse receives for a panel or variable query. */
export function renderSql(rawSql: string, ctx: RenderContext): string {
  const sql = expandMacros(interpolateVariables(rawSql, ctx.variables), ctx);
  if (sql.includes('$')) throw new Error(`unexpanded $ left in: ${sql}`);
  return sql;
}
