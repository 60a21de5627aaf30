import { defineCommand, requestBase } from './command.js';

/** `/help`: list the commands the asker may use. */
export const helpCommand = defineCommand<Record<string, never>>({
  name: 'help',
  usage: '/help',
  summary: 'Show what Bouncer can do for you.',
  moderatorOnly: false,
  parse() {
    return { ok: true, args: {} };
  },
  async run(_args, ctx, registry) {
    const moderator = await ctx.service.isModerator(requestBase(ctx), ctx.directory);
    const usable = registry.filter((c) => moderator || !c.moderatorOnly);
    return {
      type: 'help',
      commands: usable.map(({ name, usage, summary }) => ({ name, usage, summary })),
      hidden: registry.length - usable.length,
    };
  },
});
