import type { CloudAdapter } from 'botbuilder';
import type { ChatNotice, ChatNotifier, NoticeAddress } from '../../app/ports/chat-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { Renderer } from './render-reply.js';
import { serviceUrlOf } from './reply-address.js';

/** Proactive messages to a Teams chat (for actions that did not start in that chat). */
export class TeamsChatNotifier implements ChatNotifier {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly render: Renderer,
    private readonly logger: Logger,
  ) {}

  /** Sends the notice to the chat; failures are logged, never thrown (the action itself is done). */
  async notify(to: NoticeAddress, notice: ChatNotice): Promise<void> {
    const serviceUrl = serviceUrlOf(to.replyAddress);
    if (!serviceUrl) {
      this.logger.warn({ conversationId: to.conversationId }, 'the chat has no Teams reply address; not notified');
      return;
    }
    const reference = {
      channelId: 'msteams',
      serviceUrl,
      conversation: { id: to.conversationId, isGroup: true, conversationType: 'groupChat', tenantId: to.tenantId, name: '' },
      bot: { id: `28:${this.appId}`, name: 'Bouncer' },
    };
    try {
      await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
        await context.sendActivity(this.render.notice(notice));
      });
    } catch (err) {
      this.logger.warn({ err, conversationId: to.conversationId }, 'could not notify the chat');
    }
  }
}
