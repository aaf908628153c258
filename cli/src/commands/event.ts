import type { Command } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import { openReader, READ_HELP, READ_OPTIONS } from '../open-reader.js';
import { printEvent } from '../print-events.js';
import { tenantOf } from '../store-options.js';

export const event: Command = {
  name: 'event',
  summary: 'one event by id, whole: metadata, changes, context, trace',
  usage: `event <event-id> --tenant ID [--json]

  --tenant ID          tenant of the event (required; or OTEL_AUDIT_TENANT)
  --json               print the event as one line of JSON (default: indented)

Exit code 3 when the tenant has no event with that id (a message on stderr, nothing on stdout).

${READ_HELP}`,
  options: { ...READ_OPTIONS, tenant: { type: 'string' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    const [id, ...rest] = positionals;
    if (id === undefined || rest.length > 0) throw new UsageError('expected exactly one event id');
    const tenant = tenantOf(values, ctx.env);
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env);
    try {
      const found = await store.getEvent(tenant, id);
      if (found === undefined) {
        ctx.stderr(`no event ${JSON.stringify(id)} in tenant ${JSON.stringify(tenant)}\n`);
        return EXIT.notFound;
      }
      await printEvent(found, values.json === true, ctx);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
