import type { Command, OptionValues } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import {
  FILTER_OPTIONS,
  filterFrom,
  filterHelp,
  PAGE_HELP,
  PAGE_OPTIONS,
  pageFrom,
} from '../filter-options.js';
import { openReader, READ_HELP, READ_OPTIONS } from '../open-reader.js';
import { printPage } from '../print-events.js';
import { str, tenantOf } from '../store-options.js';

function actorType(values: OptionValues): string | undefined {
  const type = str(values, 'type');
  const actorTypeFlag = str(values, 'actor-type');
  if (type !== undefined && actorTypeFlag !== undefined && type !== actorTypeFlag)
    throw new UsageError(
      `--type ${type} and --actor-type ${actorTypeFlag} disagree: give the actor's type once`,
    );
  return type ?? actorTypeFlag;
}

export const actor: Command = {
  name: 'actor',
  summary: "an actor's timeline: what they did, newest first",
  usage: `actor <actor-id> --tenant ID [--type TYPE] [filters] [--limit N] [--cursor C] [--json]

  --type TYPE          the actor's type (user, api_key, ...); --actor-type TYPE is the same

${filterHelp('actor')}

${PAGE_HELP}
  --json               print {"events":[...],"nextCursor":...}

${READ_HELP}`,
  options: {
    ...READ_OPTIONS,
    ...FILTER_OPTIONS,
    ...PAGE_OPTIONS,
    type: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const [id, ...rest] = positionals;
    if (id === undefined || rest.length > 0) throw new UsageError('expected exactly one actor id');
    const { tenant, ...filter } = filterFrom(values, tenantOf(values, ctx.env), 'actor');
    const type = actorType(values);
    const page = pageFrom(values);
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env);
    try {
      const events = await store.actorTimeline(
        tenant,
        { id, ...(type !== undefined && { type }) },
        { ...filter, ...page },
      );
      await printPage(events, values.json === true, ctx);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
