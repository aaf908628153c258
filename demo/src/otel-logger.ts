// The demo's audit logger: the SDK's, with strict action names, on any OTel LoggerProvider.
import type { LoggerProvider } from '@opentelemetry/api';
import { type AuditLogger, createAuditLogger } from '@otel-audit/sdk';

export function demoAuditLogger(provider: LoggerProvider): AuditLogger {
  return createAuditLogger({ loggerProvider: provider, strictActions: true, flushOnExit: false });
}
