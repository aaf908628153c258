/** Base class of every error the receiver throws on purpose. */
export class ReceiverError extends Error {
  override name = 'ReceiverError';
}

/** The request body is not a valid OTLP logs payload; `path` says where (e.g. `resourceLogs[0].scopeLogs[1]`). */
export class OtlpDecodeError extends ReceiverError {
  override name = 'OtlpDecodeError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path ? `${path}: ${reason}` : reason);
  }
}

/** The request body (wire size, or decompressed size) is over the configured limit. */
export class BodyTooLargeError extends ReceiverError {
  override name = 'BodyTooLargeError';
  constructor(
    readonly limitBytes: number,
    readonly what: 'body' | 'decompressed body',
  ) {
    super(`${what} is larger than the limit of ${limitBytes} bytes (--max-body-bytes)`);
  }
}

/**
 * The rows a request would become are over the limit: each row repeats its resource and scope attributes, so a
 * small body with large resource attributes and many records would take gigabytes to write.
 */
export class RowsTooLargeError extends ReceiverError {
  override name = 'RowsTooLargeError';
  constructor(readonly limitChars: number) {
    super(
      `the request's records with their resource and scope attributes (repeated on every row) come to more ` +
        `than ${limitChars} characters, 4x --max-body-bytes: send fewer records per request, smaller ` +
        'resource attributes, or raise --max-body-bytes (this bound follows it)',
    );
  }
}

/**
 * A JSON body holding more objects and arrays than a body at --max-body-bytes can (see decode-json.ts): too costly
 * to parse. 413, as for too many records: a sender that splits the batch gets each half taken.
 */
export class TooManyJsonObjectsError extends ReceiverError {
  override name = 'TooManyJsonObjectsError';
  constructor(readonly limitObjects: number) {
    super(
      `the JSON body holds more than ${limitObjects} objects and arrays (one per 8 bytes of --max-body-bytes, ` +
        'at least 16 MiB of it): send smaller requests',
    );
  }
}

/**
 * A protobuf body holding more messages (records, attributes, values, at any depth) than one per 4 bytes of
 * --max-body-bytes (see decode-protobuf.ts): each costs ~0.5-1.6 µs and ~100 bytes to decode. 413.
 */
export class TooManyProtobufMessagesError extends ReceiverError {
  override name = 'TooManyProtobufMessagesError';
  constructor(readonly limitMessages: number) {
    super(
      `the protobuf body holds more than ${limitMessages} messages (one per 4 bytes of --max-body-bytes, at least ` +
        '16 MiB of it): send smaller requests',
    );
  }
}

/**
 * The request holds more log records than the limit: each record costs hundreds of bytes decoded, so a few KB of
 * compressed empty records would take gigabytes.
 */
export class TooManyRecordsError extends ReceiverError {
  override name = 'TooManyRecordsError';
  constructor(readonly limitRecords: number) {
    super(
      `the request holds more than ${limitRecords} log records (--max-records-per-request): send smaller ` +
        'requests (fewer records per export batch)',
    );
  }
}

/** The request body sent nothing for the idle timeout: serve dropped the connection. */
export class BodyStalledError extends ReceiverError {
  override name = 'BodyStalledError';
  constructor(readonly idleMs: number) {
    super(`request body stalled: nothing received for ${idleMs} ms`);
  }
}

/** Content-Type or Content-Encoding the receiver does not accept. */
export class UnsupportedMediaTypeError extends ReceiverError {
  override name = 'UnsupportedMediaTypeError';
}

/** The ingest queue is full: the client should retry later (429). */
export class QueueFullError extends ReceiverError {
  override name = 'QueueFullError';
  constructor(
    readonly pendingRows: number,
    readonly limitRows: number,
  ) {
    super(`ingest queue is full (${pendingRows} rows pending, limit ${limitRows}): retry later`);
  }
}

/** The receiver is shutting down or the store failed: nothing of the request was acknowledged (503). */
export class ReceiverUnavailableError extends ReceiverError {
  override name = 'ReceiverUnavailableError';
}

/**
 * `serve` told not to migrate (--skip-migrations) on a store whose migrations do not match this release: missing
 * ones would have it answer reads with 500s (missing tables) or miss rows of a half-done migration; a newer
 * release's, tables it does not know.
 */
export class StoreNotMigratedError extends ReceiverError {
  override name = 'StoreNotMigratedError';
  constructor(
    readonly status: { pending: readonly string[]; unknown: readonly string[]; migrated: boolean },
  ) {
    const { pending, unknown, migrated } = status;
    const remedy =
      'run `otel-audit migrate` on it first (with the same --data-dir, or --url and --database; --cluster for a ' +
      'cluster), or start serve without ' +
      '--skip-migrations (it migrates at start; not for a cluster)';
    super(
      unknown.length > 0
        ? `the store was migrated by a newer release (${unknown.join(', ')}): this release does not know its ` +
            'tables; use that release'
        : !migrated
          ? `the store has no otel-audit tables (never migrated): ${remedy}`
          : `the store needs migration${pending.length > 1 ? 's' : ''} ${pending.join(', ')} (made by an earlier ` +
            `release, or a migrate that did not finish): ${remedy}`,
    );
  }
}

/** An option of `serve` is invalid (names the option). */
export class ReceiverConfigError extends ReceiverError {
  override name = 'ReceiverConfigError';
  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`${option}: ${reason}`);
  }
}
