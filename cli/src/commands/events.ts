import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import {
  FILTER_HELP,
  FILTER_OPTIONS,
  filterFrom,
  PAGE_HELP,
  PAGE_OPTIONS,
  pageFrom,
} from '../filter-options.js';
import { openReader, READ_HELP, READ_OPTIONS } from '../open-reader.js';
import { printPage } from '../print-events.js';
import { tenantOf } from '../store-options.js';

export const events: Command = {
  name: 'events',
  summary: 'search events of a tenant, newest first',
  usage: `events --tenant ID [filters] [--limit N] [--cursor C] [--json]

${FILTER_HELP}

${PAGE_HELP}
  --json               print {"events":[...],"nextCursor":...}

${READ_HELP}`,
  options: { ...READ_OPTIONS, ...FILTER_OPTIONS, ...PAGE_OPTIONS, json: { type: 'boolean' } },
  async run(values, _positionals, ctx) {
    const filter = filterFrom(values, tenantOf(values, ctx.env));
    const page = pageFrom(values);
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env);
    try {
      await printPage(await store.search(filter, page), values.json === true, ctx);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
