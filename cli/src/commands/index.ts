import type { Command } from '../command.js';
import { actor } from './actor.js';
import { counts } from './counts.js';
import { event } from './event.js';
import { events } from './events.js';
import { exportCommand } from './export.js';
import { migrate } from './migrate.js';
import { serve } from './serve.js';
import { status } from './status.js';
import { target } from './target.js';

/** Every `otel-audit` command, by name. Add a command: one file in commands/, one entry here. */
export const commands = new Map<string, Command>(
  [migrate, serve, status, events, event, actor, target, counts, exportCommand].map((c) => [c.name, c]),
);

export function registerCommand(command: Command): void {
  commands.set(command.name, command);
}
