import { defineCommand } from './command.js';
import { mayUse } from './run-command.js';

/** `/help`: list the commands the asker may use. */
export const helpCommand = defineCommand<Record<string, never>>({
  name: 'help',
  usage: '/help',
  summary: 'Show what Bouncer can do for you.',
  permission: 'anyone',
  parse() {
    return { ok: true, args: {} };
  },
  async run(_args, ctx, registry) {
    const moderator = await mayUse({ permission: 'moderator' }, ctx);
    const usable = registry.filter((c) => c.permission === 'anyone' || moderator);
    return {
      type: 'help',
      commands: usable.map(({ name, usage, summary }) => ({ name, usage, summary })),
      hidden: registry.length - usable.length,
    };
  },
});
