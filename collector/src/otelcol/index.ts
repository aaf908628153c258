// Helpers to build, validate and run the real OpenTelemetry Collector distribution of otel-audit.
export { type CollectorBinary, ensureCollector, goToolchain } from './build.js';
export {
  type CommandResult,
  collectorEnv,
  printConfig,
  runCollectorCommand,
  validateConfig,
} from './commands.js';
export { CollectorBuildError, CollectorStartError } from './errors.js';
export { BUILD_SCRIPT_PATH, COLLECTOR_DIR, CONFIG_DIR, MANIFEST_PATH, SHIPPED_CONFIGS } from './paths.js';
export { freePort } from './ports.js';
export {
  type CollectorExit,
  type RunningCollector,
  type StartCollectorOptions,
  startCollector,
} from './process.js';
