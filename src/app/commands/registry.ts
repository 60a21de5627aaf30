import { banCommand } from './ban.js';
import { bansCommand } from './bans.js';
import { bindCommand, type BindSyntax } from './bind.js';
import { caseCommand, casesCommand, reasonCommand } from './cases.js';
import type { CommandRegistry } from './command.js';
import { helpCommand } from './help.js';
import { kickCommand } from './kick.js';
import { lockdownCommand } from './lockdown.js';
import { moderatorsCommand } from './moderators.js';
import { modlogCommand } from './modlog.js';
import { muteCommand, unmuteCommand } from './mute.js';
import { participantsCommand } from './participants.js';
import { statusCommand } from './status.js';
import { unbanCommand } from './unban.js';
import { unbindCommand } from './unbind.js';
import { warnCommand } from './warn.js';

/** Every chat command, in the order /help lists them. `bindSyntaxes` come from the provider modules. */
export function buildCommandRegistry(deps: { bindSyntaxes: readonly BindSyntax[] }): CommandRegistry {
  return [
    kickCommand,
    muteCommand,
    unmuteCommand,
    warnCommand,
    banCommand,
    unbanCommand,
    bansCommand,
    lockdownCommand,
    bindCommand(deps.bindSyntaxes),
    unbindCommand,
    statusCommand,
    participantsCommand,
    modlogCommand,
    caseCommand,
    casesCommand,
    reasonCommand,
    moderatorsCommand,
    helpCommand,
  ];
}
