import { bindQuestion, planBind } from '../moderation/actions/bind.js';
import { CaseRecorder } from '../moderation/steps/audit.js';
import type { BindRequest, BindTarget } from '../moderation/requests.js';
import { chatOf, defineCommand, type CommandContext, type CommandDefinition } from './command.js';

/** How a provider names a call after `/bind` (from its module in src/providers/). */
export interface BindSyntax {
  /** e.g. `<Teams meeting link>` or `twilio <ConferenceSid | conference name>`. */
  usage: string;
  /** What it connects to, for /help (e.g. "to a Twilio conference"). */
  summary: string;
  /** The bind target the text names, or undefined when the text is not this provider's syntax. */
  parse(text: string): BindTarget | undefined;
}

const request = (target: BindTarget | undefined, ctx: CommandContext): BindRequest => ({ ...chatOf(ctx), action: 'bind', target });

/** `/bind` joins this meeting's call; each provider adds its own way of naming another call. */
export function bindCommand(syntaxes: readonly BindSyntax[]): CommandDefinition<unknown> {
  const usage = `/bind [${syntaxes.map((s) => s.usage).join(' | ')}]`;
  const ways = syntaxes.map((s) => s.summary);
  const others = ways.length > 1 ? `${ways.slice(0, -1).join(', ')}, or ${ways.at(-1)}` : (ways[0] ?? '');
  return defineCommand<{ target?: BindTarget }>({
    name: 'bind',
    usage,
    summary: `Connect this chat to its meeting's call now${others ? `, ${others}` : ''}.`,
    permission: 'moderator',
    parse(rest) {
      const text = rest.trim();
      if (text === '') return { ok: true, args: {} };
      for (const syntax of syntaxes) {
        const target = syntax.parse(text);
        if (target) return { ok: true, args: { target } };
      }
      return { ok: false, problem: { kind: 'bad_arguments', command: 'bind', usage } };
    },
    precheck(args, ctx) {
      const plan = planBind(ctx.moderation.deps, request(args.target, ctx));
      return 'refused' in plan ? plan.refused : undefined;
    },
    question(args, ctx, authority) {
      const plan = planBind(ctx.moderation.deps, request(args.target, ctx));
      return 'refused' in plan ? { kind: 'use', permission: 'moderator', authority } : bindQuestion(plan, authority);
    },
    async refuse(args, ctx, refusal) {
      return { type: 'outcome', outcome: await new CaseRecorder(ctx.moderation.deps, request(args.target, ctx), 'bind').record(refusal) };
    },
    async run(args, ctx) {
      return { type: 'outcome', outcome: await ctx.moderation.execute(request(args.target, ctx), ctx.scope) };
    },
  });
}
