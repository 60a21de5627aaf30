import type { TargetedMeetingNotification } from 'botbuilder';
import { callBudgetMs } from '../../app/domain/deadline.js';
import { UpstreamError } from '../../app/domain/errors.js';
import { noticeWords } from '../../app/domain/notice.js';
import type { MeetingNoticeTarget, NoticeDelivery, ParticipantNotifier, PrivateNotice } from '../../app/ports/participant-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { BotConnector, ConnectorChat } from './bot-connector.js';
import type { ChatMembers } from './chat-members.js';
import type { MemberPrefetch } from './member-prefetch.js';
import { noticePageUrl } from './notice-page.js';
import type { ReplyAddresses } from './reply-address.js';

/**
 * A targeted meeting notification to one recipient (the API takes `29:` ids only, ten at most): a
 * dialog on their meeting stage showing the notice page.
 */
function notification(title: string, url: string): (recipient: string) => TargetedMeetingNotification {
  return (recipient) => ({
    type: 'targetedMeetingNotification',
    value: {
      recipients: [recipient],
      surfaces: [{ surface: 'meetingStage', contentType: 'task', content: { value: { height: '300', width: '400', title, url } } }],
    },
  });
}

/** A person the chat has no member for: not an outage, nothing to log as a failure. */
const NOT_A_MEMBER: NoticeDelivery = { sent: false, reason: 'not_a_chat_member' };
const SENT: NoticeDelivery = { sent: true };

/**
 * Private notices as targeted in-meeting notifications
 * (`POST /v1/meetings/{meetingId}/notification`, RSC permission OnlineMeetingNotification.Send.Chat;
 * https://learn.microsoft.com/microsoftteams/platform/apps-in-teams-meetings/meeting-apps-apis#targeted-meeting-notification-and-app-icon-badging-api):
 * a dialog on the meeting stage of one recipient, showing Bouncer's notice page. Sent through the
 * chat's own Bot Connector (its reply address), so it works outside a turn (webhook kicks) too.
 */
export class TeamsParticipantNotifier implements ParticipantNotifier {
  constructor(
    private readonly connector: BotConnector,
    /** PUBLIC_BASE_URL: where the notice page is. */
    private readonly publicBaseUrl: string | undefined,
    /** UPSTREAM_TIMEOUT_MS: how long the whole notice may take (or what is left of the command). */
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    /** The chats' members as the turns know them: a recipient's chat id without a lookup, and who is not a member. */
    private readonly members: ChatMembers,
    /** Reads a chat's member list in the background, when a notice finds its members not known whole. */
    private readonly prefetch: Pick<MemberPrefetch, 'start'>,
    /** The chats' reply addresses, each parsed once (the connection's). */
    private readonly addresses: ReplyAddresses,
  ) {}

  /**
   * Sends the notice to its one recipient: by chat id, or found by Entra object id. Someone who is
   * not a member of the chat (a member lookup's 404, remembered for a minute, or absent from a
   * fresh complete listing of its members) resolves `{ sent: false }`: no error, nothing logged here.
   */
  async notifyInMeeting(to: MeetingNoticeTarget, notice: PrivateNotice): Promise<NoticeDelivery> {
    const serviceUrl = this.addresses.serviceUrlOf(to.replyAddress);
    if (!serviceUrl || !this.publicBaseUrl) throw new UpstreamError('teams', 'no Teams address or public URL for a meeting notification');
    const chat: ConnectorChat = { serviceUrl, conversationId: to.conversationId };
    // The whole notice (member lookup, token and POST) within its deadline.
    const deadlineAt = Date.now() + callBudgetMs(this.timeoutMs);
    const recipient = to.chatId ?? (await this.chatIdOf(chat, to, deadlineAt));
    // Logged by the caller, which knows what the notice was for.
    if (recipient === undefined) return NOT_A_MEMBER;
    const { title } = noticeWords(notice);
    const answer = await this.connector.meetingNotification(serviceUrl, to.meetingId, notification(title, noticePageUrl(this.publicBaseUrl, notice.ref))(recipient), deadlineAt);
    // 207: sent only to some; with one recipient, that one was not reached.
    // Logged once, by whoever records the failure (the action's case: 'upstream failure').
    const failed = answer?.recipientsFailureInfo?.find((f) => f.recipientMri === recipient);
    if (failed) throw new UpstreamError('teams', 'Teams meeting notification not delivered', { vendorCode: failed.errorCode, retryable: false });
    return SENT;
  }

  /**
   * A member's chat id (`29:…`) from their Entra object id, undefined when they are not a member:
   * as the chat's members are known (`ChatMembers`: read ahead, looked up before, or absent from a
   * fresh complete listing), else through a member lookup, whose answer, "not a member" included, is
   * remembered. A chat whose members are not known whole has them read in the background, so that
   * the next misses (a raid's) are answered here.
   */
  private async chatIdOf(chat: ConnectorChat, to: MeetingNoticeTarget, deadlineAt: number): Promise<string | undefined> {
    const userId = to.userId!;
    const known = this.members.chatIdOf(chat.conversationId, userId);
    if (known) return known;
    if (known === null) return undefined;
    this.prefetch.start({ serviceUrl: chat.serviceUrl, conversationId: chat.conversationId, tenantId: to.tenantId }, 'notice', 'whole');
    const member = await this.connector.member(chat, userId, deadlineAt);
    if (!member) {
      this.members.notAMember(chat.conversationId, { userId });
      return undefined;
    }
    this.members.remember(chat.conversationId, member);
    return member.id;
  }
}
