import { randomUUID } from 'node:crypto';
import { CardFactory, MessageFactory, TeamsActivityHandler, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { CommandDefinition, CommandResult } from '../core/commands/command.js';
import { parseCommand } from '../core/commands/parse-command.js';
import type { ModerationService } from '../core/moderation-service.js';
import type { Logger } from '../core/ports.js';
import { toCommandInput } from './activity-input.js';
import { resultCard } from './cards.js';
import { renderProblem, renderResult } from './render-reply.js';
import { TeamsChatDirectory, TeamsLookupCaches } from './teams-directory.js';

// The data of a roster card's confirm button (see cards.ts), as Teams posts it back.
const kickCardActionSchema = z.object({
  bouncer: z.literal('kick'),
  callId: z.string().min(1),
  participantId: z.string().min(1),
  name: z.string(),
});

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
    const action = kickCardActionSchema.safeParse(activity.value);
    if (action.success) {
      await this.handleCardAction(context, action.data);
      return;
    }
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
    const result = await parsed.command.run(parsed.args, this.commandContext(context, 'chat', requestId), this.deps.commands);
    await this.reply(context, result);
  }

  /** A Remove button on a roster card: the clicker is the actor, with the same policy and audit. */
  private async handleCardAction(context: TurnContext, action: z.infer<typeof kickCardActionSchema>): Promise<void> {
    const ctx = this.commandContext(context, 'card', context.activity.id ?? randomUUID());
    this.deps.logger.info({ requestId: ctx.requestId, conversationId: ctx.conversationId }, 'card action received');
    const outcome = await this.deps.service.execute(
      {
        action: 'kick',
        source: 'card',
        requestId: ctx.requestId,
        conversationId: ctx.conversationId,
        serviceUrl: ctx.serviceUrl,
        botChatId: ctx.botChatId,
        actor: ctx.actor,
        target: { kind: 'participant', participantId: action.participantId, displayName: action.name },
        expectedCallId: action.callId,
        reason: 'removed from the roster card',
      },
      ctx.directory,
    );
    await this.reply(context, { type: 'outcome', outcome });
  }

  private commandContext(context: TurnContext, source: 'chat' | 'card', requestId: string) {
    const activity = context.activity;
    return {
      service: this.deps.service,
      directory: new TeamsChatDirectory(context, this.caches),
      source,
      requestId,
      conversationId: activity.conversation.id,
      serviceUrl: activity.serviceUrl,
      botChatId: activity.recipient?.id,
      actor: { chatId: activity.from?.id, userId: activity.from?.aadObjectId, displayName: activity.from?.name },
    };
  }

  /** An Adaptive Card where one fits (its fallbackText carries the same words), else text. */
  private async reply(context: TurnContext, result: CommandResult): Promise<void> {
    const card = resultCard(result);
    await context.sendActivity(card ? MessageFactory.attachment(CardFactory.adaptiveCard(card)) : renderResult(result));
  }
}
