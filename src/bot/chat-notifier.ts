import type { CloudAdapter } from 'botbuilder';
import type { Logger } from '../core/ports.js';

/** Where a proactive message goes: a chat Bouncer has talked in. */
export interface ChatAddress {
  conversationId: string;
  serviceUrl: string;
  tenantId?: string;
}

/** Proactive messages to a Teams chat (for actions that did not start in that chat). */
export class ChatNotifier {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly logger: Logger,
  ) {}

  /** Sends `text` to the chat; failures are logged, never thrown (the action itself is done). */
  async notify(address: ChatAddress, text: string): Promise<void> {
    const reference = {
      channelId: 'msteams',
      serviceUrl: address.serviceUrl,
      conversation: { id: address.conversationId, isGroup: true, conversationType: 'groupChat', tenantId: address.tenantId, name: '' },
      bot: { id: `28:${this.appId}`, name: 'Bouncer' },
    };
    try {
      await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
        await context.sendActivity(text);
      });
    } catch (err) {
      this.logger.warn({ err, conversationId: address.conversationId }, 'could not notify the chat');
    }
  }
}
