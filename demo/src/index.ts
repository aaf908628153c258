export { type DemoOptions, DemoOptionsError, generateDemoEvents } from './generate.js';
export { demoAuditLogger } from './otel-logger.js';
export { SeededRandom } from './random.js';
export { type DemoAuditLogger, type DemoProgress, type DemoSummary, recordDemoEvents } from './record.js';
export { SCENARIOS } from './scenarios.js';
