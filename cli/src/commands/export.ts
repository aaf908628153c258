import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFrom } from '../filter-options.js';
import { openReader, STORE_HELP, STORE_OPTIONS, str, tenantOf } from '../store-options.js';

async function writeTo(stream: WriteStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'export matching events as NDJSON or CSV (streamed, progress on stderr)',
  usage: `export --tenant ID [filters] [--format ndjson|csv] [--output FILE] [--json]

  --format F           ndjson (default) or csv
  --output FILE        write to FILE instead of stdout
  --json               print a JSON summary ({"rows":N}) on stderr at the end

${FILTER_HELP}

${STORE_HELP}`,
  options: {
    ...STORE_OPTIONS,
    ...FILTER_OPTIONS,
    format: { type: 'string' },
    output: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, ctx) {
    const format = str(values, 'format') ?? 'ndjson';
    if (format !== 'ndjson' && format !== 'csv') throw new UsageError('--format: expected ndjson or csv');
    const filter = filterFrom(values, tenantOf(values, ctx.env));
    const output = str(values, 'output');
    // Through a running serve when one holds the directory.
    const store = await openReader(values, ctx.env);
    const file = output === undefined ? undefined : createWriteStream(output);
    try {
      const rows = await store.exportEvents(filter, {
        format,
        write: file ? (chunk) => writeTo(file, chunk) : ctx.stdout,
        onProgress: ({ rows }) => {
          if (!values.json) ctx.stderr(`exported ${rows} events\n`);
        },
      });
      if (file) {
        file.end();
        await once(file, 'finish');
      }
      if (values.json) ctx.stderr(`${JSON.stringify({ rows, format, ...(output && { output }) })}\n`);
      return EXIT.ok;
    } finally {
      file?.destroy();
      await store.close();
    }
  },
};
