import { CaseRecorder } from '../moderation/steps/audit.js';
import type { ModLogChannelRequest } from '../moderation/requests.js';
import { chatOf, defineCommand, readRefusal, type CommandContext } from './command.js';

const DEFAULT_ENTRIES = 10;
const MAX_ENTRIES = 50;
const USAGE = '/modlog [n | here | off]';

type ModlogArgs = { op: 'list'; limit: number } | { op: 'here' | 'off' };

const request = (op: 'here' | 'off', ctx: CommandContext): ModLogChannelRequest => ({
  ...chatOf(ctx),
  action: op === 'here' ? 'modlog_on' : 'modlog_off',
});

/**
 * `/modlog [n]`: this chat's most recent cases. `/modlog here` and `/modlog off` (admins): this
 * chat receives every case from every chat as it completes, or no longer does; audited.
 */
export const modlogCommand = defineCommand<ModlogArgs>({
  name: 'modlog',
  usage: USAGE,
  summary:
    `Show this chat's recent cases (${DEFAULT_ENTRIES} by default, at most ${MAX_ENTRIES}). ` +
    'Admins: `/modlog here` posts every case from every chat to this chat; `/modlog off` stops it.',
  permission: 'moderator',
  parse(rest) {
    const text = rest.trim().toLowerCase();
    if (text === '') return { ok: true, args: { op: 'list', limit: DEFAULT_ENTRIES } };
    if (text === 'here' || text === 'on') return { ok: true, args: { op: 'here' } };
    if (text === 'off') return { ok: true, args: { op: 'off' } };
    if (!/^\d{1,4}$/.test(text) || Number(text) < 1) {
      return { ok: false, problem: { kind: 'bad_arguments', command: 'modlog', usage: USAGE } };
    }
    return { ok: true, args: { op: 'list', limit: Math.min(Number(text), MAX_ENTRIES) } };
  },
  // Listing is for the chat's moderators; the channel is configured by admins only (the policy's configure_modlog).
  question(args, _ctx, authority) {
    return args.op === 'list' ? { kind: 'use', permission: 'moderator', authority } : { kind: 'configure_modlog', authority };
  },
  async refuse(args, ctx, refusal) {
    if (args.op === 'list') return readRefusal(refusal);
    const req = request(args.op, ctx);
    return { type: 'outcome', outcome: await new CaseRecorder(ctx.moderation.deps, req, req.action).record(refusal) };
  },
  async run(args, ctx) {
    if (args.op === 'list') return { type: 'read', result: await ctx.moderation.read({ kind: 'modlog', limit: args.limit }, ctx.scope) };
    return { type: 'outcome', outcome: await ctx.moderation.execute(request(args.op, ctx), ctx.scope) };
  },
});
