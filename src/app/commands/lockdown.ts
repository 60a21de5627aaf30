import type { LockdownRequest } from '../moderation/requests.js';
import { CaseRecorder } from '../moderation/steps/audit.js';
import { chatOf, defineCommand, type CommandContext } from './command.js';

export interface LockdownArgs {
  on: boolean;
  /** `--chat`: turn meeting chat off too (Teams). */
  chat: boolean;
  /** `--mute`: mute every caller who does not moderate (Twilio). */
  mute: boolean;
}

const USAGE = '/lockdown [on|off] [--chat] [--mute]';

const request = (args: LockdownArgs, ctx: CommandContext): LockdownRequest => ({
  ...chatOf(ctx),
  action: args.on ? 'lockdown' : 'unlock',
  ...(args.on ? { chat: args.chat, mute: args.mute } : {}),
});

/**
 * `/lockdown [on|off] [--chat] [--mute]`: close the call's door while a raid is on (Teams: the
 * lobby for everyone but the organizer, attendees' mic and camera off, `--chat` chat off; Twilio:
 * every new caller removed, `--mute` everyone who does not moderate muted), or open it again,
 * restoring exactly what it changed. For organizers, co-organizers, named moderators and admins.
 */
export const lockdownCommand = defineCommand<LockdownArgs>({
  name: 'lockdown',
  usage: USAGE,
  summary: 'Lock the call down during a raid (Teams: lobby for everyone, mic and camera off; Twilio: new callers turned away), or `off` to restore it.',
  permission: 'moderator',
  parse(rest) {
    const words = rest.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const args: LockdownArgs = { on: true, chat: false, mute: false };
    let said: 'on' | 'off' | undefined;
    for (const word of words) {
      if ((word === 'on' || word === 'off') && said === undefined) said = word;
      else if (word === '--chat') args.chat = true;
      else if (word === '--mute') args.mute = true;
      else return { ok: false, problem: { kind: 'bad_arguments', command: 'lockdown', usage: USAGE } };
    }
    if (said === 'off' && (args.chat || args.mute)) return { ok: false, problem: { kind: 'bad_arguments', command: 'lockdown', usage: USAGE } };
    return { ok: true, args: { ...args, on: said !== 'off' } };
  },
  question(_args, _ctx, authority) {
    return { kind: 'lockdown', authority };
  },
  async refuse(args, ctx, refusal) {
    const req = request(args, ctx);
    return { type: 'outcome', outcome: await new CaseRecorder(ctx.moderation.deps, req, req.action).record(refusal) };
  },
  async run(args, ctx) {
    return { type: 'outcome', outcome: await ctx.moderation.execute(request(args, ctx), ctx.scope) };
  },
});
