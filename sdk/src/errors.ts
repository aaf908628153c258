/** One problem with an event: where (a path into the input) and what. */
export interface AuditIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(event)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.');
}

/** Thrown by `record()` (or passed to `onInvalid`) when an event does not satisfy its schema. */
export class AuditValidationError extends Error {
  override readonly name: string = 'AuditValidationError';
  readonly issues: readonly AuditIssue[];
  readonly action: string | undefined;

  constructor(issues: readonly AuditIssue[], action?: string) {
    const list = issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join('\n');
    super(`invalid audit event${action ? ` "${action}"` : ''}: ${issues.length} issue(s)\n${list}`);
    this.issues = issues;
    this.action = action;
  }
}

/** Thrown when an event's serialized metadata, changes and fields exceed the configured maximum. */
export class AuditEventTooLargeError extends AuditValidationError {
  override readonly name: string = 'AuditEventTooLargeError';
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number, action?: string) {
    super(
      [{ path: [], message: `serialized event is ${size} bytes, over the maximum of ${limit} bytes` }],
      action,
    );
    this.size = size;
    this.limit = limit;
  }
}
