import { bindCommand } from './bind.js';
import type { CommandDefinition } from './command.js';
import { helpCommand } from './help.js';
import { kickCommand } from './kick.js';
import { modlogCommand } from './modlog.js';
import { participantsCommand } from './participants.js';
import { statusCommand } from './status.js';
import { unbindCommand } from './unbind.js';

/** Every chat command, in the order /help lists them. */
export const commandRegistry: readonly CommandDefinition<unknown>[] = [
  kickCommand,
  bindCommand,
  unbindCommand,
  statusCommand,
  participantsCommand,
  modlogCommand,
  helpCommand,
];
