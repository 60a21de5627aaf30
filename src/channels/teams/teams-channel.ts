import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import type { CommandRegistry } from '../../app/commands/command.js';
import { asCodedError } from '../../app/domain/errors.js';
import type { Moderation } from '../../app/moderation/moderation.js';
import type { ChatNotifier } from '../../app/ports/chat-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { NativeRoute } from '../../http/route.js';
import { customLoginCredentialsFactory } from './bot-credentials.js';
import { TeamsChatNotifier } from './chat-notifier.js';
import { Renderer, type RenderContext } from './render-reply.js';
import { TeamsBot } from './teams-bot.js';

/** The bot registration, in botbuilder's own key names where botbuilder reads them. */
export interface TeamsChannelConfig {
  appId: string;
  appPassword: string;
  appTenantId: string;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  /** Endpoint overrides passed straight to ConfigurationBotFrameworkAuthentication. */
  endpointOverrides: Record<string, string>;
}

export interface TeamsChannel {
  /** POST /api/messages, authenticated by the Bot Framework adapter. */
  routes: NativeRoute[];
  /** Proactive messages to Teams chats. */
  notifier: ChatNotifier;
}

const MAX_BODY_BYTES = 512 * 1024;

/**
 * The Teams channel: the only folder that imports botbuilder or botframework-*. Moving to another
 * Teams SDK means rewriting this folder.
 */
export function createTeamsChannel(deps: {
  config: TeamsChannelConfig;
  moderation: Moderation;
  commands: CommandRegistry;
  render: RenderContext;
  logger: Logger;
}): TeamsChannel {
  const { config, logger } = deps;
  const auth = new ConfigurationBotFrameworkAuthentication(
    {
      MicrosoftAppId: config.appId,
      MicrosoftAppPassword: config.appPassword,
      MicrosoftAppTenantId: config.appTenantId,
      MicrosoftAppType: config.appType,
      ...config.endpointOverrides,
    },
    customLoginCredentialsFactory({ appId: config.appId, appPassword: config.appPassword, loginUrl: config.endpointOverrides.ToChannelFromBotLoginUrl }),
  );
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context, error) => {
    const coded = asCodedError(error);
    logger.error({ err: coded, code: coded.code, conversationId: context.activity.conversation?.id }, 'unhandled error in turn');
    try {
      await context.sendActivity('Sorry, something went wrong on my side and nothing was done. Please try again.');
    } catch (sendErr) {
      logger.error({ err: sendErr }, 'could not tell the user about the error');
    }
  };
  const render = new Renderer(deps.render);
  const bot = new TeamsBot({ moderation: deps.moderation, commands: deps.commands, render, logger });
  return {
    routes: [
      {
        kind: 'native',
        method: 'POST',
        path: '/api/messages',
        maxBodyBytes: MAX_BODY_BYTES,
        handle: async (req, res) => {
          await adapter.process(req, res, (context) => bot.run(context));
        },
      },
    ],
    notifier: new TeamsChatNotifier(adapter, config.appId, render, logger),
  };
}
