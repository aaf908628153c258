// The demo's audit logger on a real OTel LoggerProvider: validates each event with the SDK's parser (strict
// action names) and emits one log record per event.
import type { Logger } from '@opentelemetry/api';
import type { LoggerProvider } from '@opentelemetry/sdk-logs';
import {
  AUDIT_SCOPE_NAME,
  type AuditEventInput,
  CONVENTIONS_VERSION,
  parseAuditEvent,
} from '@otel-audit/sdk';
import { auditLogRecord } from './log-record.js';
import type { DemoAuditLogger } from './record.js';

export function demoAuditLogger(provider: Pick<LoggerProvider, 'getLogger'>): DemoAuditLogger {
  const logger: Logger = provider.getLogger(AUDIT_SCOPE_NAME, CONVENTIONS_VERSION);
  return {
    record(input: AuditEventInput) {
      logger.emit(auditLogRecord(parseAuditEvent(input, { strictActions: true })));
    },
  };
}
