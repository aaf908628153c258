import type { Command } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import {
  FILTER_OPTIONS,
  filterFrom,
  filterHelp,
  PAGE_HELP,
  PAGE_OPTIONS,
  pageFrom,
  parseTarget,
} from '../filter-options.js';
import { openReader, READ_HELP, READ_OPTIONS } from '../open-reader.js';
import { printPage } from '../print-events.js';
import { tenantOf } from '../store-options.js';

/** What the command's arguments must be, as its usage errors say. */
const EXPECTED = 'expected <type> <id> (or <type>:<id>)';

export const target: Command = {
  name: 'target',
  summary: "a target's history: what happened to it, newest first",
  usage: `target <type> <id> | <type:id> --tenant ID [filters] [--limit N] [--cursor C] [--json]

${filterHelp('target')}

${PAGE_HELP}
  --json               print {"events":[...],"nextCursor":...}

${READ_HELP}`,
  options: { ...READ_OPTIONS, ...FILTER_OPTIONS, ...PAGE_OPTIONS, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    let ref: { type: string; id: string };
    if (positionals.length === 2) ref = { type: positionals[0] as string, id: positionals[1] as string };
    else if (positionals.length === 1) ref = parseTarget(positionals[0] as string, EXPECTED);
    else
      throw new UsageError(
        `${EXPECTED}, got ${positionals.length === 0 ? 'no argument' : `${positionals.length} arguments`}`,
      );
    const { tenant, ...filter } = filterFrom(values, tenantOf(values, ctx.env), 'target');
    const page = pageFrom(values);
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env);
    try {
      await printPage(
        await store.targetHistory(tenant, ref, { ...filter, ...page }),
        values.json === true,
        ctx,
      );
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
