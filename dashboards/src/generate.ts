// Writes the Grafana files: `npm run generate -w dashboards`. The JSON is then laid out by Biome (the repo's
// formatter) so `biome check` stays clean; the test compares the parsed content.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGrafanaFiles } from './index.js';

const GRAFANA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana');

const written: string[] = [];
for (const [path, content] of renderGrafanaFiles()) {
  const target = join(GRAFANA_DIR, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  written.push(target);
  console.log(`wrote ${target}`);
}
execFileSync('npx', ['biome', 'format', '--write', ...written.filter((f) => f.endsWith('.json'))], {
  stdio: 'inherit',
});
