import { INTERVALS, type Interval } from '@otel-audit/clickhouse';
import type { Command, OptionValues } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFrom } from '../filter-options.js';
import { openReader, READ_HELP, READ_OPTIONS } from '../open-reader.js';
import { jsonText, visible } from '../print-events.js';
import { str, tenantOf } from '../store-options.js';

const GROUPINGS = ['action', 'time'] as const;
type Grouping = (typeof GROUPINGS)[number];
const INTERVAL_NAMES = Object.keys(INTERVALS) as Interval[];

function choice<T extends string>(values: OptionValues, flag: string, allowed: readonly T[]): T | undefined {
  const value = str(values, flag);
  if (value !== undefined && !allowed.includes(value as T))
    throw new UsageError(
      `--${flag}: expected ${allowed.length === 2 ? allowed.join(' or ') : `one of ${allowed.join(', ')}`}, ` +
        `got ${JSON.stringify(value)}`,
    );
  return value as T | undefined;
}

/** Right-aligned counts, then the label: `  1,204  billing.invoice.paid`. */
function table(rows: [label: string, count: number][]): string {
  const counts = rows.map(([, n]) => n.toLocaleString('en-US'));
  const width = Math.max(...counts.map((c) => c.length));
  return rows.map(([label], i) => `${(counts[i] ?? '').padStart(width)}  ${label}`).join('\n');
}

export const counts: Command = {
  name: 'counts',
  summary: 'how many events match, per action or per minute/hour/day',
  usage: `counts --tenant ID [filters] [--by action|time] [--interval minute|hour|day] [--json]

  --by action          one line per action, most frequent first (default)
  --by time            one line per ${INTERVAL_NAMES.join('/')} (UTC) that has events, oldest first
  --interval I         ${INTERVAL_NAMES.join('|')} for --by time (default hour)
  --json               print [{"action","count"}] or [{"start","count"}] (start: ISO 8601, UTC)

${FILTER_HELP}

Counts are of events as stored, each once (duplicates collapsed), over the whole filtered range: narrow it
with --from and --to.

${READ_HELP}`,
  options: {
    ...READ_OPTIONS,
    ...FILTER_OPTIONS,
    by: { type: 'string' },
    interval: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, ctx) {
    const by: Grouping = choice(values, 'by', GROUPINGS) ?? 'action';
    const interval = choice(values, 'interval', INTERVAL_NAMES);
    if (interval !== undefined && by !== 'time')
      throw new UsageError('--interval: applies with --by time only');
    const filter = filterFrom(values, tenantOf(values, ctx.env));
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env);
    try {
      const json = values.json === true;
      if (by === 'action') {
        const found = await store.countByAction(filter);
        if (json) await ctx.stdout(`${jsonText(found)}\n`);
        else if (found.length === 0) ctx.stderr('no events\n');
        else await ctx.stdout(`${table(found.map((f) => [visible(f.action), f.count]))}\n`);
        return EXIT.ok;
      }
      const found = await store.countOverTime(filter, interval ?? 'hour');
      if (json) await ctx.stdout(`${jsonText(found)}\n`);
      else if (found.length === 0) ctx.stderr('no events\n');
      else await ctx.stdout(`${table(found.map((f) => [f.start.toISOString(), f.count]))}\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
