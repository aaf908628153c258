// Runs once before the test files: builds the OpenTelemetry Collector distribution the collector tests run
// (minutes on a fresh machine: Go modules download and compile; a cache hit afterwards), with the build's
// progress on stderr. Done here because a test file's hooks have a two-minute limit. Without Go the collector
// tests say why they cannot run.
import { spawn } from 'node:child_process';
import { BUILD_SCRIPT_PATH, ensureCollector, goToolchain } from '../collector/src/otelcol/index.js';

export default async function setup(): Promise<void> {
  if (!goToolchain().available) return;
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const build = spawn('bash', [BUILD_SCRIPT_PATH], { stdio: ['ignore', 'ignore', 'inherit'] });
    build.on('error', reject);
    build.on('exit', resolve);
  });
  if (code !== 0)
    throw new Error(`building the collector (${BUILD_SCRIPT_PATH}) failed with exit code ${code}`);
  const built = await ensureCollector();
  if (built.available) {
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`[vitest setup] collector ready in ${seconds} s: ${built.path}\n`);
  }
}
