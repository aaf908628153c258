export { type Command, type CommandContext, EXIT, type OptionValues, UsageError } from './command.js';
export { commands, registerCommand } from './commands/index.js';
export { main, processContext } from './main.js';
export { ENV, openStore, STORE_HELP, STORE_OPTIONS, tenantOf } from './store-options.js';
