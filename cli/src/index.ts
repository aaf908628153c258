export {
  type Command,
  type CommandContext,
  EXIT,
  InterruptedError,
  type OptionValues,
  StdoutClosedError,
  UsageError,
} from './command.js';
export { commands, registerCommand } from './commands/index.js';
export { main, processContext } from './main.js';
export { type AuditReader, openReader, READ_HELP, READ_OPTIONS } from './open-reader.js';
export { OutputFile, OutputFileError } from './output-file.js';
export {
  ReadDirectoryLockedError,
  StoreFromNewerReleaseError,
  StoreNeedsMigrationError,
  StoreNotFoundError,
} from './reader-errors.js';
export { ENV, openStore, STORE_HELP, STORE_OPTIONS, tenantOf } from './store-options.js';
