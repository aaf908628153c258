/** One problem with an event: where (a path into the input) and what. */
export interface AuditIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Segments that are not plain names (`a.b`, a newline, an empty key) are quoted: `metadata["a.b"]`, and a
 * misspelt top-level `"actor.id"` is not taken for `actor.id`. `names`: the paths are names that have dots (the
 * actions of `defineAuditActions`), one segment each.
 */
function formatPath(path: readonly (string | number)[], names: boolean): string {
  if (path.length === 0) return '(event)';
  const plain = names && path.length === 1 ? /^[\w$.-]+$/ : /^[A-Za-z_$][\w$-]*$/;
  return path
    .map((segment, i) =>
      typeof segment === 'string' && !plain.test(segment)
        ? `[${JSON.stringify(segment)}]`
        : `${i === 0 ? '' : '.'}${segment}`,
    )
    .join('');
}

/** Issues spelt out in a message; `issues` keeps them all (200,000 made an 8 MB message). */
export const ISSUES_IN_MESSAGE = 100;

/** Thrown by `record()` (or passed to `onInvalid`) when an event does not satisfy its schema. */
export class AuditValidationError extends Error {
  override readonly name: string = 'AuditValidationError';
  readonly issues: readonly AuditIssue[];
  readonly action: string | undefined;

  /** `subject`: what was invalid, when not an event (`audit actions` for `defineAuditActions`). */
  constructor(issues: readonly AuditIssue[], action?: string, subject = 'audit event') {
    const names = subject === 'audit actions';
    const shown = issues
      .slice(0, ISSUES_IN_MESSAGE)
      .map((i) => `  - ${formatPath(i.path, names)}: ${i.message}`);
    if (issues.length > ISSUES_IN_MESSAGE)
      shown.push(`  - … ${issues.length - ISSUES_IN_MESSAGE} more in .issues`);
    super(
      `invalid ${subject}${action ? ` "${action}"` : ''}: ${issues.length} issue(s)\n${shown.join('\n')}`,
    );
    this.issues = issues;
    this.action = action;
  }
}

/** Thrown when an event's log record (body and every attribute, in UTF-8 bytes) exceeds the configured maximum. */
export class AuditEventTooLargeError extends AuditValidationError {
  override readonly name: string = 'AuditEventTooLargeError';
  readonly size: number;
  readonly limit: number;

  constructor(size: number, limit: number, action?: string) {
    super(
      [
        {
          path: [],
          message: `event is ${size} bytes as a log record (body + attributes), over the maximum of ${limit} bytes`,
        },
      ],
      action,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** Thrown when an option of the logger, the processor or a coalescer is out of range; `option` names it. */
export class AuditOptionError extends RangeError {
  override readonly name: string = 'AuditOptionError';
  readonly option: string;

  constructor(component: string, option: string, requirement: string, value: unknown) {
    super(`${component}: ${option} must be ${requirement}, got ${String(value)}`);
    this.option = option;
  }
}

/**
 * Passed to `onError` when the endpoint answered an export with a success status and a web page (HTML or XML: the
 * URL reaches a web server or a proxy's catch-all, not an OTLP/HTTP logs receiver). Nothing says the records were
 * stored, and sending them again would get the same answer: they are counted as failed.
 */
export class AuditNotOtlpResponseError extends Error {
  override readonly name: string = 'AuditNotOtlpResponseError';
  /** Not worth another attempt (AuditLogRecordProcessor fails the batch). */
  readonly retryable = false;
  /** The start of the body the endpoint answered. */
  readonly body: string;

  constructor(body: string) {
    const shown = body.length > 100 ? `${body.slice(0, 100)}…` : body;
    super(
      `the endpoint answered a success status with a web page, not an OTLP response (${JSON.stringify(shown)}): its URL does ` +
        'not reach an OTLP/HTTP logs receiver (check the endpoint and its /v1/logs path, and any proxy in front of it)',
    );
    this.body = shown;
  }
}

/**
 * Passed to `onError` when the endpoint accepted a batch but rejected some of its records (OTLP partial
 * success). The endpoint does not say which: `onError`'s events are the batch's events of this logger, of
 * which `rejected` are counted as failed (at most the endpoint's count: a lost one is never counted exported).
 */
export class AuditRejectedError extends Error {
  override readonly name: string = 'AuditRejectedError';
  /** This logger's events counted as failed. */
  readonly rejected: number;
  /** Records of the batch (all loggers) the endpoint rejected. */
  readonly rejectedInBatch: number;

  constructor(rejected: number, rejectedInBatch: number, batchSize: number, endpointMessage: string) {
    super(
      `the endpoint rejected ${rejectedInBatch} of ${batchSize} log record(s) of a batch (which ones it does ` +
        `not say); ${rejected} counted as failed${endpointMessage ? `: ${endpointMessage}` : ''}`,
    );
    this.rejected = rejected;
    this.rejectedInBatch = rejectedInBatch;
  }
}
