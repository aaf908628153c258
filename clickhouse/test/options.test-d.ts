// Type-level tests: under exactOptionalPropertyTypes, option fields take `undefined` (read as absent), so values
// from the environment or flags go in as they are.
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ActorRef,
  AuditStore,
  type EventFilter,
  type ExportOptions,
  type MigrationOptions,
  type StoreTarget,
} from '../src/index.js';

const env: Record<string, string | undefined> = {};
const maybe = <T>(value: T): T | undefined => value;

describe('options take undefined as absent', () => {
  it('targets, filters, export and migration options', () => {
    const server: StoreTarget = {
      url: 'http://localhost:8123',
      username: env.CH_USER,
      password: env.CH_PASSWORD,
      database: env.CH_DATABASE,
      requestTimeoutMs: undefined,
    };
    const embedded: StoreTarget = { path: '/tmp/x', database: env.CH_DATABASE };
    expectTypeOf(AuditStore.open).toBeCallableWith(server);
    expectTypeOf(AuditStore.open).toBeCallableWith(embedded);
    const actor: ActorRef = { id: 'u', type: env.ACTOR_TYPE };
    const filter: EventFilter = {
      tenant: 'acme',
      actions: maybe(['billing.*']),
      crud: undefined,
      outcome: maybe('success' as const),
      actor,
      target: undefined,
      from: maybe(new Date()),
      to: undefined,
    };
    const exported: ExportOptions = {
      format: 'ndjson',
      write: () => {},
      onProgress: undefined,
      pageSize: undefined,
      order: undefined,
    };
    const migration: MigrationOptions = {
      database: env.CH_DATABASE,
      cluster: undefined,
      logsEngine: undefined,
      rawLogsRetentionDays: undefined,
      retentionDays: maybe(30),
      adoptLogsTable: undefined,
    };
    expectTypeOf(filter).toEqualTypeOf<EventFilter>();
    expectTypeOf(exported).toEqualTypeOf<ExportOptions>();
    expectTypeOf(migration).toEqualTypeOf<MigrationOptions>();
  });
});
