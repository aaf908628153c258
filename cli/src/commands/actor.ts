import type { Command } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import {
  FILTER_HELP,
  FILTER_OPTIONS,
  filterFrom,
  PAGE_HELP,
  PAGE_OPTIONS,
  pageFrom,
} from '../filter-options.js';
import { printPage } from '../print-events.js';
import { openReader, STORE_HELP, STORE_OPTIONS, str, tenantOf } from '../store-options.js';

export const actor: Command = {
  name: 'actor',
  summary: "an actor's timeline: what they did, newest first",
  usage: `actor <actor-id> --tenant ID [--type TYPE] [filters] [--limit N] [--cursor C] [--json]

  --type TYPE          actor type (user, api_key, ...)

${FILTER_HELP}

${PAGE_HELP}
  --json               print {"events":[...],"nextCursor":...}

${STORE_HELP}`,
  options: {
    ...STORE_OPTIONS,
    ...FILTER_OPTIONS,
    ...PAGE_OPTIONS,
    type: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const [id, ...rest] = positionals;
    if (id === undefined || rest.length > 0) throw new UsageError('expected exactly one actor id');
    const { tenant, ...filter } = filterFrom(values, tenantOf(values, ctx.env));
    const type = str(values, 'type');
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env);
    try {
      const page = await store.actorTimeline(
        tenant,
        { id, ...(type !== undefined && { type }) },
        { ...filter, ...pageFrom(values) },
      );
      await printPage(page, values.json === true, ctx);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
