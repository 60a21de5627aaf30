import { CardFactory, MessageFactory, type CloudAdapter } from 'botbuilder';
import { awaitWithin } from '../../app/domain/deadline.js';
import { asCodedError } from '../../app/domain/errors.js';
import type { ChatNotice, ChatNotifier, NoticeAddress } from '../../app/ports/chat-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import { noticeCard } from './cards.js';
import type { Renderer } from './render-reply.js';
import { groupChatReference, serviceUrlOf } from './reply-address.js';

/** Proactive messages to a Teams chat (for actions that did not start in that chat). */
export class TeamsChatNotifier implements ChatNotifier {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly render: Renderer,
    private readonly logger: Logger,
    /** UPSTREAM_TIMEOUT_MS: the deadline of the whole send (the Bot Connector token and the POST). */
    private readonly timeoutMs: number,
  ) {}

  /** Sends the notice to the chat; failures are logged, never thrown (the action itself is done). */
  async notify(to: NoticeAddress, notice: ChatNotice): Promise<boolean> {
    const serviceUrl = serviceUrlOf(to.replyAddress);
    if (!serviceUrl) {
      this.logger.warn({ conversationId: to.conversationId }, 'the chat has no Teams reply address; not notified');
      return false;
    }
    const reference = groupChatReference(this.appId, { serviceUrl, conversationId: to.conversationId, tenantId: to.tenantId });
    const card = noticeCard(notice, this.render);
    const message = card ? MessageFactory.attachment(CardFactory.adaptiveCard(card)) : MessageFactory.text(this.render.notice(notice));
    try {
      // TeamsInfo and the adapter take no signal: the send is awaited at most its deadline, and a
      // late answer is ignored.
      await awaitWithin(
        this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
          await context.sendActivity(message);
        }),
        this.timeoutMs,
        'teams',
        'Teams proactive message',
      );
      return true;
    } catch (err) {
      this.logger.warn({ err: asCodedError(err), conversationId: to.conversationId, notice: notice.kind }, 'could not notify the chat');
      return false;
    }
  }
}
