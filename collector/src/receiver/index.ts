// The local OTLP/HTTP receiver behind `otel-audit serve`.
export { asString, compareUtf8, goJsonString } from './any-value.js';
export {
  bearerMatches,
  HEALTH_CHALLENGE_PARAM,
  healthChallengeAnswer,
  INGEST_TOKEN_FILE_NAME,
  INGEST_TOKEN_NAMES,
  READ_TOKEN_NAMES,
  type ResolvedToken,
  resolveToken,
  TOKEN_FILE_NAME,
  type TokenNames,
} from './auth.js';
export {
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  MAX_TIMER_MS,
  type ReceiverLimitOverrides,
  type ReceiverLimits,
  receiverLimits,
} from './config.js';
export { decodeJsonRequest, decodeJsonValue } from './decode-json.js';
export {
  decodeProtobufRequest,
  decodeProtobufResponse,
  decodeProtobufStatus,
  encodeProtobufRequest,
} from './decode-protobuf.js';
export {
  DISCOVERY_FILE_NAME,
  discoveryPath,
  processAlive,
  processStart,
  readDiscovery,
  removeDiscovery,
  type ServeDiscovery,
  writeDiscovery,
} from './discovery.js';
export {
  BodyTooLargeError,
  OtlpDecodeError,
  QueueFullError,
  ReceiverConfigError,
  ReceiverError,
  ReceiverUnavailableError,
  RowsTooLargeError,
  StoreNotMigratedError,
  TooManyJsonObjectsError,
  TooManyProtobufMessagesError,
  TooManyRecordsError,
  UnsupportedMediaTypeError,
} from './errors.js';
export { IngestQueue, type IngestQueueOptions, type IngestStats } from './ingest-queue.js';
export { keyRepairFile } from './key-repair.js';
export { jsonLogger, LOG_LEVELS, type LogFields, type Logger, type LogLevel } from './log.js';
export type { OtlpKeyValue, OtlpLogRecord, OtlpLogsRequest, OtlpValue } from './otlp-model.js';
export {
  filterFromParams,
  MAX_QUERY_HEADER_BYTES,
  pageFromParams,
  QUERY_PREFIX,
  QueryParameterError,
  type QueryReader,
} from './query-api.js';
export {
  attributeMap,
  type Rejections,
  type RowsResult,
  rejectionMessage,
  requestToRows,
} from './records-to-rows.js';
export { defaultStateDir, type RunningServe, type ServeOptions, startServe } from './serve.js';
export {
  HEALTH_PATH,
  LOGS_PATH,
  type ReceiverServer,
  type ReceiverServerOptions,
  type ShutdownReport,
  startReceiverServer,
} from './server.js';
export {
  prepareStateDir,
  refuseSharedStateDir,
  type ServedStore,
  StateDirInUseError,
} from './state-dir.js';
export { listenForStop, SAME_STOP_MS, STOP_SIGNALS, type StopSignals } from './stop-signals.js';
