// `npm run bench -- <name> [args]`: runs <package>/bench/<name>.ts, found by name across the workspaces.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['sdk', 'clickhouse', 'collector', 'dashboards', 'cli', 'demo'];
const [name, ...args] = process.argv.slice(2);

const available = packages.flatMap((pkg) =>
  ['sdk', 'store', 'pipeline'].filter((b) => existsSync(join(root, pkg, 'bench', `${b}.ts`))),
);
if (!name || name === '--help' || name === '-h') {
  console.log(`usage: npm run bench -- <name> [options]\nbenchmarks: ${available.join(', ') || '(none)'}`);
  process.exit(name ? 0 : 2);
}
const file = packages.map((pkg) => join(root, pkg, 'bench', `${name}.ts`)).find((f) => existsSync(f));
if (!file) {
  console.error(`bench: no benchmark named "${name}" (available: ${available.join(', ')})`);
  process.exit(2);
}
const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file, ...args], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(run.status ?? 1);
