import type { Command } from '../command.js';
import { EXIT, UsageError } from '../command.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFrom } from '../filter-options.js';
import { openReader, READ_HELP, READ_OPTIONS } from '../open-reader.js';
import { OutputFile } from '../output-file.js';
import { str, tenantOf } from '../store-options.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'export matching events as NDJSON or CSV (streamed, progress on stderr)',
  usage: `export --tenant ID [filters] [--format ndjson|csv [--bom]] [--order time|actor] [--output FILE] [--json]

  --format F           ndjson (default) or csv
  --bom                start the CSV with a UTF-8 byte order mark, so spreadsheets (Excel) read it as UTF-8
                       rather than the system code page
  --order O            time (default: newest first) or actor: the store's own order (actor, then time), which
                       starts each page where the last ended; for large exports (not with --target)
  --output FILE        write to FILE instead of stdout (- is stdout): written as a temporary file next to FILE
                       and renamed to FILE once the export completed; on failure FILE is left as it was (exit 1),
                       also on Ctrl-C/SIGTERM/SIGHUP/SIGQUIT (exit 130/143/129/131)
  --json               print a JSON summary ({"rows":N,"format":F,"output"?:FILE}) on stderr at the end

${FILTER_HELP}

${READ_HELP}`,
  options: {
    ...READ_OPTIONS,
    ...FILTER_OPTIONS,
    format: { type: 'string' },
    bom: { type: 'boolean' },
    order: { type: 'string' },
    output: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, ctx) {
    const format = str(values, 'format') ?? 'ndjson';
    if (format !== 'ndjson' && format !== 'csv')
      throw new UsageError(`--format: expected ndjson or csv, got ${JSON.stringify(format)}`);
    if (values.bom && format !== 'csv') throw new UsageError('--bom: applies with --format csv only');
    const order = str(values, 'order') ?? 'time';
    if (order !== 'time' && order !== 'actor')
      throw new UsageError(`--order: expected time or actor, got ${JSON.stringify(order)}`);
    const filter = filterFrom(values, tenantOf(values, ctx.env));
    if (order === 'actor' && filter.target !== undefined)
      throw new UsageError(
        "--order actor: not with --target (a target's events are read through its keys, newest first)",
      );
    // `-` is standard output, as for most tools (it wrote a file named "-").
    const outputFlag = str(values, 'output');
    const output = outputFlag === '-' ? undefined : outputFlag;
    // Created first: an unwritable output fails before the store is opened. Until commit or discard, Ctrl-C and
    // SIGTERM stop the export at its next chunk (see OutputFile).
    const file = output === undefined ? undefined : await OutputFile.create(output);
    let committed = false;
    let bom = values.bom === true;
    try {
      // Through a running serve when one holds the directory.
      const store = await openReader(values, ctx.env);
      let rows: number;
      try {
        rows = await store.exportEvents(filter, {
          format,
          // Left out for the default: a serve of an earlier release knows no order parameter.
          ...(order === 'actor' && { order }),
          write: (chunk) => {
            // On the first chunk only (the header, with the first page): a failed export still writes nothing.
            const text = bom ? `\uFEFF${chunk}` : chunk;
            bom = false;
            return file ? file.write(text) : ctx.stdout(text);
          },
          onProgress: ({ rows }) => {
            if (!values.json) ctx.stderr(`exported ${rows} events\n`);
          },
        });
      } finally {
        await store.close();
      }
      await file?.commit();
      committed = true;
      if (values.json) ctx.stderr(`${JSON.stringify({ rows, format, ...(output && { output }) })}\n`);
      return EXIT.ok;
    } finally {
      if (!committed) await file?.discard();
    }
  },
};
