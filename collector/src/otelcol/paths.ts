// Where the collector assets live in the repository, resolved from this module so any cwd works.
import { fileURLToPath } from 'node:url';

const collectorDir = fileURLToPath(new URL('../../', import.meta.url));

/** `collector/` of the repository (trailing slash). */
export const COLLECTOR_DIR = collectorDir;
/** The ocb manifest: the one place the collector version is pinned. */
export const MANIFEST_PATH = `${collectorDir}builder-config.yaml`;
export const BUILD_SCRIPT_PATH = `${collectorDir}scripts/build-collector.sh`;
export const CONFIG_DIR = `${collectorDir}config/`;

/** The shipped configs, by name. */
export const SHIPPED_CONFIGS = {
  gateway: `${CONFIG_DIR}gateway.yaml`,
  auditRouting: `${CONFIG_DIR}audit-routing.yaml`,
  exampleExistingCollector: `${CONFIG_DIR}examples/existing-collector.yaml`,
} as const;
