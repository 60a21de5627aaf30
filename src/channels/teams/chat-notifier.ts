import { CardFactory, MessageFactory } from 'botbuilder';
import { asCodedError } from '../../app/domain/errors.js';
import type { ChatNotice, ChatNotifier, NoticeAddress } from '../../app/ports/chat-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { BotConnector } from './bot-connector.js';
import { noticeCard } from './cards.js';
import type { Renderer } from './render-reply.js';
import type { ReplyAddresses } from './reply-address.js';

/** Proactive messages to a Teams chat (for actions that did not start in that chat). */
export class TeamsChatNotifier implements ChatNotifier {
  constructor(
    private readonly connector: BotConnector,
    private readonly render: Renderer,
    private readonly logger: Logger,
    /** UPSTREAM_TIMEOUT_MS: the deadline of the whole send (the Bot Connector token and the POST). */
    private readonly timeoutMs: number,
    /** The chats' reply addresses, each parsed once (the connection's). */
    private readonly addresses: ReplyAddresses,
  ) {}

  /** Sends the notice to the chat; failures are logged, never thrown (the action itself is done). */
  async notify(to: NoticeAddress, notice: ChatNotice): Promise<boolean> {
    const serviceUrl = this.addresses.serviceUrlOf(to.replyAddress);
    if (!serviceUrl) {
      this.logger.warn({ conversationId: to.conversationId }, 'the chat has no Teams reply address; not notified');
      return false;
    }
    const card = noticeCard(notice, this.render);
    const message = card ? MessageFactory.attachment(CardFactory.adaptiveCard(card)) : MessageFactory.text(this.render.notice(notice));
    try {
      await this.connector.sendToConversation(
        { serviceUrl, conversationId: to.conversationId },
        { ...message, conversation: { id: to.conversationId, isGroup: true, conversationType: 'groupChat', tenantId: to.tenantId, name: '' } },
        Date.now() + this.timeoutMs,
      );
      return true;
    } catch (err) {
      this.logger.warn({ err: asCodedError(err), conversationId: to.conversationId, notice: notice.kind }, 'could not notify the chat');
      return false;
    }
  }
}
