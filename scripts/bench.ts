// `npm run bench -- <name> [args]`: runs <package>/bench/<name>.ts for the benchmarks listed below. Only those
// names: a bench folder also holds helper modules (e.g. collector/bench/pipeline-producer.ts), which must not run
// as if they were a benchmark.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCHMARKS = { sdk: 'sdk', store: 'clickhouse', pipeline: 'collector' } as const;
const [name, ...args] = process.argv.slice(2);

const available = Object.keys(BENCHMARKS).join(', ');
const usage = `usage: npm run bench -- <name> [options]   (npm run bench -- <name> --help lists its options)\nbenchmarks: ${available}`;
if (!name || name === '--help' || name === '-h') {
  (name ? console.log : console.error)(usage);
  process.exit(name ? 0 : 2);
}
const pkg = Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name as keyof typeof BENCHMARKS] : undefined;
if (!pkg) {
  console.error(`bench: no benchmark named "${name}" (available: ${available})`);
  process.exit(2);
}
const file = join(root, pkg, 'bench', `${name}.ts`);
if (!existsSync(file)) {
  console.error(`bench: ${file} is missing`);
  process.exit(2);
}
const run = spawnSync(
  process.execPath,
  ['--conditions=@otel-audit/source', '--import', 'tsx', file, ...args],
  {
    stdio: 'inherit',
    cwd: root,
  },
);
process.exit(run.status ?? 1);
