// The test-side emulation of Grafana's interpolation and the plugin's macros, checked against the plugin's
// documented expansions (grafana/clickhouse-datasource pkg/macros/macros.go and its macro docs).
import { describe, expect, it } from 'vitest';
import { expandMacros, interpolateVariables, renderSql, UndefinedVariableError } from './support/grafana.js';

const ctx = {
  variables: { tenant: "o'reilly", actor: 'u-1' },
  range: { from: new Date(1415792726_000), to: new Date(1447328726_999) },
  intervalSeconds: 30,
};

describe('plugin macros', () => {
  it('expands the time macros with second and millisecond bounds', () => {
    expect(expandMacros('WHERE $__timeFilter(time)', ctx)).toBe(
      'WHERE time >= toDateTime(1415792726) AND time <= toDateTime(1447328726)',
    );
    expect(expandMacros('$__timeFilter_ms(t)', ctx)).toBe(
      't >= fromUnixTimestamp64Milli(1415792726000) AND t <= fromUnixTimestamp64Milli(1447328726999)',
    );
    expect(expandMacros('$__fromTime AND $__toTime', ctx)).toBe(
      'toDateTime(1415792726) AND toDateTime(1447328726)',
    );
    expect(expandMacros('$__dateFilter(d)', ctx)).toBe(
      "d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')",
    );
  });

  it('expands the interval macros, never below one unit', () => {
    expect(expandMacros('$__timeInterval(ts)', ctx)).toBe(
      'toStartOfInterval(toDateTime(ts), INTERVAL 30 second)',
    );
    expect(expandMacros('$__timeInterval(ts)', { ...ctx, intervalSeconds: 0.2 })).toBe(
      'toStartOfInterval(toDateTime(ts), INTERVAL 1 second)',
    );
    expect(expandMacros('$__interval_s', ctx)).toBe('30');
  });

  it('keeps nested parentheses inside one argument and rejects unknown macros and wrong arity', () => {
    expect(expandMacros('$__timeFilter(toDateTime(x))', ctx)).toBe(
      'toDateTime(x) >= toDateTime(1415792726) AND toDateTime(x) <= toDateTime(1447328726)',
    );
    expect(() => expandMacros('$__conditionalAll(1, $x)', ctx)).toThrow(/not a ClickHouse plugin macro/);
    expect(() => expandMacros('$__timeFilter(a, b)', ctx)).toThrow(/expected 1 argument/);
  });
});

describe('Grafana variable interpolation', () => {
  it('applies the singlequote format with escaping, and the raw forms', () => {
    expect(interpolateVariables(`tenant = \${tenant:singlequote}`, ctx.variables)).toBe(
      "tenant = 'o\\'reilly'",
    );
    expect(interpolateVariables(`$actor \${actor} [[actor]]`, ctx.variables)).toBe('u-1 u-1 u-1');
    expect(interpolateVariables(`\${actor:percentencode}`, { actor: 'a b/c' })).toBe('a%20b%2Fc');
  });

  it("singlequote leaves backslashes (Grafana's formatter), percentencode leaves nothing SQL can read", () => {
    expect(interpolateVariables(`\${actor:singlequote}`, { actor: "\\') OR 1=1 --" })).toBe(
      "'\\\\') OR 1=1 --'",
    );
    expect(interpolateVariables(`\${actor:percentencode}`, { actor: "\\') OR 1=1 --!*~" })).toBe(
      '%5C%27%29%20OR%201%3D1%20--%21%2A~',
    );
  });

  it('leaves macros for the plugin and fails on an undefined variable', () => {
    expect(interpolateVariables('$__timeFilter(t) AND $actor', ctx.variables)).toBe(
      '$__timeFilter(t) AND u-1',
    );
    expect(() => interpolateVariables('$missing', ctx.variables)).toThrow(UndefinedVariableError);
  });

  it('renders a whole query with nothing left to expand', () => {
    expect(renderSql(`SELECT 1 WHERE tenant = \${tenant:singlequote} AND $__timeFilter(ts)`, ctx)).toBe(
      "SELECT 1 WHERE tenant = 'o\\'reilly' AND ts >= toDateTime(1415792726) AND ts <= toDateTime(1447328726)",
    );
  });
});
