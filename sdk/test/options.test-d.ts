// Type-level tests: under exactOptionalPropertyTypes, option fields take `undefined` (read as absent), so values
// from the environment or flags go in as they are.
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AuditLoggerOptions,
  type CoalesceOptions,
  createAuditLogger,
  type DeliveryHooks,
} from '../src/index.js';
import {
  type AuditLoggerProviderOptions,
  type AuditLogRecordProcessorOptions,
  createAuditLoggerProvider,
} from '../src/node.js';

const env: Record<string, string | undefined> = {};
const maybe = <T>(value: T): T | undefined => value;

describe('options take undefined as absent', () => {
  it('logger, recorder, provider and processor options', () => {
    const logger: AuditLoggerOptions = {
      tenant: env.TENANT,
      loggerProvider: undefined,
      actions: undefined,
      strictActions: maybe(true),
      maxEventBytes: maybe(1),
      onInvalid: undefined,
      flushOnExit: maybe(false),
      onDrop: undefined,
      onError: undefined,
    };
    const audit = createAuditLogger(logger);
    const coalesce: CoalesceOptions = { idleMs: maybe(1), maxWindowMs: undefined, maxSessions: undefined };
    audit.coalesce(coalesce);
    const processor: Omit<AuditLogRecordProcessorOptions, 'exporter'> = {
      maxQueueSize: maybe(1),
      maxQueueBytes: undefined,
      maxExportBatchSize: undefined,
      maxExportBatchBytes: undefined,
      scheduledDelayMillis: undefined,
      exportTimeoutMillis: undefined,
      retryInitialDelayMillis: undefined,
      retryMaxDelayMillis: undefined,
    };
    const provider: AuditLoggerProviderOptions = {
      serviceName: env.SERVICE,
      resourceAttributes: undefined,
      endpoint: env.ENDPOINT,
      headers: undefined,
      compression: maybe('gzip' as const),
      timeoutMillis: undefined,
      exporter: undefined,
      processor,
    };
    expectTypeOf(createAuditLoggerProvider).toBeCallableWith(provider);
    const hooks: DeliveryHooks = { onDrop: undefined, onError: undefined };
    expectTypeOf(hooks).toEqualTypeOf<DeliveryHooks>();
  });
});
