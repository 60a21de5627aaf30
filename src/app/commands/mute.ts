import type { MuteRequest, TargetRef } from '../moderation/requests.js';
import { defineCommand, type CommandContext } from './command.js';
import { parseOneTarget } from './kick.js';
import { personCommandHooks } from './person-command.js';

export interface MuteArgs {
  target: TargetRef;
  reason?: string;
  /** Set by webhooks: the call, named directly. */
  call?: MuteRequest['call'];
  /** Set by card buttons: the call the card was made for. */
  expectedCallId?: string;
  /** Set by webhooks: resolve and authorize, mute nobody. */
  dryRun?: boolean;
}

const requestFor =
  (action: MuteRequest['action']) =>
  (args: MuteArgs, ctx: CommandContext): MuteRequest => ({
    ...ctx.scope.request,
    action,
    target: args.target,
    reason: args.reason,
    call: args.call,
    expectedCallId: args.expectedCallId,
    dryRun: args.dryRun,
  });

/** `/mute @person [reason]` (or a number, CallSid or label:<name>, as for /kick): a server mute for everyone. */
export const muteCommand = defineCommand<MuteArgs>({
  name: 'mute',
  usage: '/mute @person [reason]',
  summary: "Mute someone in this chat's call for everyone: @mention them, or give a phone number, a CallSid or label:<name>.",
  permission: 'moderator',
  parse: (rest, input) => parseOneTarget(rest, input, 'mute'),
  ...personCommandHooks(requestFor('mute')),
});

/** `/unmute @person [reason]`: ends a mute where the backend can (phone conferences; on Teams only the person can). */
export const unmuteCommand = defineCommand<MuteArgs>({
  name: 'unmute',
  usage: '/unmute @person [reason]',
  summary: 'Unmute someone in a phone conference (in a Teams meeting only the person can unmute themselves).',
  permission: 'moderator',
  parse: (rest, input) => parseOneTarget(rest, input, 'unmute'),
  ...personCommandHooks(requestFor('unmute')),
});
