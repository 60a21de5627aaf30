import { randomUUID } from 'node:crypto';
import { TeamsActivityHandler, type TurnContext } from 'botbuilder';
import type { CommandDefinition } from '../core/commands/command.js';
import { parseCommand } from '../core/commands/parse-command.js';
import type { ModerationService } from '../core/moderation-service.js';
import type { Logger } from '../core/ports.js';
import { toCommandInput } from './activity-input.js';
import { renderProblem, renderResult } from './render-reply.js';
import { TeamsChatDirectory, TeamsLookupCaches } from './teams-directory.js';

export interface BouncerBotDeps {
  service: ModerationService;
  commands: readonly CommandDefinition<unknown>[];
  logger: Logger;
}

/** The Teams transport: parse the message into a command, run it, reply. */
export class BouncerBot extends TeamsActivityHandler {
  private readonly caches = new TeamsLookupCaches();

  constructor(private readonly deps: BouncerBotDeps) {
    super();
    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    const activity = context.activity;
    const input = toCommandInput(activity);
    const personal = activity.conversation?.conversationType === 'personal' || !activity.conversation?.isGroup;
    const parsed = parseCommand(input, this.deps.commands);
    if (!parsed.ok) {
      // In group chats Bouncer may see every message: only answer those meant for it.
      const meantForBot = personal || input.addressedToBot || input.text.startsWith('/');
      if (meantForBot) await context.sendActivity(renderProblem(parsed.problem));
      return;
    }
    const requestId = activity.id ?? randomUUID();
    this.deps.logger.info(
      { requestId, command: parsed.command.name, conversationId: activity.conversation.id },
      'command received',
    );
    const result = await parsed.command.run(
      parsed.args,
      {
        service: this.deps.service,
        directory: new TeamsChatDirectory(context, this.caches),
        source: 'chat',
        requestId,
        conversationId: activity.conversation.id,
        serviceUrl: activity.serviceUrl,
        botChatId: activity.recipient?.id,
        actor: {
          chatId: activity.from?.id,
          userId: activity.from?.aadObjectId,
          displayName: activity.from?.name,
        },
      },
      this.deps.commands,
    );
    await context.sendActivity(renderResult(result));
  }
}
