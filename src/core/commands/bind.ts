import { defineCommand, requestBase } from './command.js';

const USAGE = '/bind [<Teams meeting link> | twilio <ConferenceSid | conference name>]';

/** `/bind` joins this meeting's call; `/bind twilio <ConferenceSid | friendly name>` binds a phone conference. */
export const bindCommand = defineCommand<{ twilioConference?: string; joinUrl?: string }>({
  name: 'bind',
  usage: USAGE,
  summary: "Connect this chat to its meeting's call now, to another meeting by its join link, or to a Twilio conference.",
  moderatorOnly: true,
  parse(rest) {
    const text = rest.trim();
    if (text === '') return { ok: true, args: {} };
    if (/^https:\/\/\S+$/i.test(text)) return { ok: true, args: { joinUrl: text } };
    const twilio = /^twilio\s+(.+)$/i.exec(text);
    if (!twilio) return { ok: false, problem: { kind: 'bad_arguments', command: 'bind', usage: USAGE } };
    return { ok: true, args: { twilioConference: twilio[1]!.trim() } };
  },
  async run(args, ctx) {
    const outcome = await ctx.service.execute(
      { ...requestBase(ctx), action: 'bind', twilioConference: args.twilioConference, joinUrl: args.joinUrl },
      ctx.directory,
    );
    return { type: 'outcome', outcome };
  },
});
