import { CaseRecorder } from '../moderation/steps/audit.js';
import type { ModeratorRequest } from '../moderation/requests.js';
import { chatOf, defineCommand, readRefusal, type CommandContext } from './command.js';

type ModeratorsArgs = { op: 'list' } | { op: 'add' | 'remove'; target: ModeratorRequest['target'] };

const USAGE = '/moderators [add @person | remove @person]';

const request = (args: Extract<ModeratorsArgs, { op: 'add' | 'remove' }>, ctx: CommandContext): ModeratorRequest => ({
  ...chatOf(ctx),
  action: args.op === 'add' ? 'moderator_add' : 'moderator_remove',
  target: args.target,
});

/**
 * `/moderators`: who moderates this meeting. `/moderators add @person` and `/moderators remove
 * @person`: the organizer (or a co-organizer, or an admin) names or un-names a moderator; audited.
 */
export const moderatorsCommand = defineCommand<ModeratorsArgs>({
  name: 'moderators',
  usage: USAGE,
  summary: 'Show who moderates this meeting; the organizer can add or remove a moderator by @mention.',
  permission: 'moderator',
  parse(rest, input) {
    const words = rest.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0 && input.mentions.length === 0) return { ok: true, args: { op: 'list' } };
    const op = words[0]?.toLowerCase();
    const distinct = new Map(input.mentions.map((m) => [m.chatId, m]));
    if ((op !== 'add' && op !== 'remove') || words.length > 1 || distinct.size === 0) {
      return { ok: false, problem: distinct.size === 0 && (op === 'add' || op === 'remove') ? { kind: 'no_target', command: 'moderators' } : { kind: 'bad_arguments', command: 'moderators', usage: USAGE } };
    }
    if (distinct.size > 1) {
      return { ok: false, problem: { kind: 'several_targets', command: 'moderators', names: [...distinct.values()].map((m) => m.displayName ?? m.chatId) } };
    }
    const m = input.mentions[0]!;
    return { ok: true, args: { op, target: { kind: 'mention', chatId: m.chatId, displayName: m.displayName } } };
  },
  // Changing who moderates is for the organizer, not any moderator: the action asks the policy that question.
  question(args, _ctx, authority) {
    return args.op === 'list' ? { kind: 'use', permission: 'moderator', authority } : { kind: 'name_moderators', authority };
  },
  async refuse(args, ctx, refusal) {
    if (args.op === 'list') return readRefusal(refusal);
    const recorder = new CaseRecorder(ctx.moderation.deps, request(args, ctx), request(args, ctx).action);
    recorder.about({ displayName: args.target.displayName }, args.target);
    return { type: 'outcome', outcome: await recorder.record(refusal) };
  },
  async run(args, ctx) {
    if (args.op === 'list') return { type: 'read', result: await ctx.moderation.read({ kind: 'moderators' }, ctx.scope) };
    return { type: 'outcome', outcome: await ctx.moderation.execute(request(args, ctx), ctx.scope) };
  },
});
