// Writes the Grafana files: `npm run generate -w dashboards`.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGrafanaFiles } from './index.js';

export const GRAFANA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana');

for (const [path, content] of renderGrafanaFiles()) {
  const target = join(GRAFANA_DIR, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, content);
  console.log(`wrote ${target}`);
}
