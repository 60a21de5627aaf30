import { defineCommand } from './command.js';

/** `/help`: list the commands. */
export const helpCommand = defineCommand<Record<string, never>>({
  name: 'help',
  usage: '/help',
  summary: 'Show what Bouncer can do.',
  parse() {
    return { ok: true, args: {} };
  },
  async run(_args, _ctx, registry) {
    return { type: 'help', commands: registry.map(({ name, usage, summary }) => ({ name, usage, summary })) };
  },
});
