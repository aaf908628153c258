// Locates (building when needed) the otel-audit collector binary through collector/scripts/build-collector.sh.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { CollectorBuildError } from './errors.js';
import { BUILD_SCRIPT_PATH } from './paths.js';

const execFileAsync = promisify(execFile);

export type CollectorBinary = { available: true; path: string } | { available: false; reason: string };

/**
 * Whether a Go toolchain (1.25+) is on PATH: without one the collector cannot be built here, and the tests that
 * run it are skipped, unless OTEL_AUDIT_REQUIRE_GO=1 (CI: .ci/run provisions Go), which makes that an error.
 */
export function goToolchain(): { available: true; version: string } | { available: false; reason: string } {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  const [, major, minor] = /\bgo(\d+)\.(\d+)/.exec(go.stdout ?? '') ?? [];
  const reason =
    go.error || go.status !== 0
      ? 'no Go toolchain on PATH: the OpenTelemetry Collector distribution cannot be built (needs Go 1.25+)'
      : Number(major) > 1 || (Number(major) === 1 && Number(minor) >= 25)
        ? undefined
        : `${go.stdout.trim()} on PATH: the OpenTelemetry Collector distribution needs Go 1.25+`;
  if (reason === undefined) return { available: true, version: go.stdout.trim() };
  if (process.env.OTEL_AUDIT_REQUIRE_GO === '1') throw new Error(`${reason} (OTEL_AUDIT_REQUIRE_GO=1)`);
  return { available: false, reason };
}

/**
 * Returns the collector binary, building it on first use (minutes: modules download and compile) and reusing
 * the cached build afterwards. Without Go it reports why instead; a failing build throws CollectorBuildError.
 */
export async function ensureCollector(
  options: { onProgress?: (line: string) => void } = {},
): Promise<CollectorBinary> {
  const go = goToolchain();
  if (!go.available) return go;
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await execFileAsync('bash', [BUILD_SCRIPT_PATH], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, OTEL_AUDIT_REQUIRE_COLLECTOR: '1' },
    }));
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new CollectorBuildError(
      `building the collector with ${BUILD_SCRIPT_PATH} failed: ${failed.message.split('\n')[0]}`,
      `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    );
  }
  for (const line of stderr.split('\n')) if (line.startsWith('[build-collector]')) options.onProgress?.(line);
  const path = stdout.trim().split('\n').at(-1) ?? '';
  if (!path || !existsSync(path)) {
    throw new CollectorBuildError(`the build script printed no existing binary path (got "${path}")`, stderr);
  }
  return { available: true, path };
}
