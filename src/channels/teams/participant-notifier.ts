import type { TargetedMeetingNotification } from 'botbuilder';
import { callBudgetMs } from '../../app/domain/deadline.js';
import { UpstreamError } from '../../app/domain/errors.js';
import { noticeWords } from '../../app/domain/notice.js';
import type { MeetingNoticeTarget, ParticipantNotifier, PrivateNotice } from '../../app/ports/participant-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { BotConnector, ConnectorChat } from './bot-connector.js';
import type { ChatMembers } from './chat-members.js';
import { noticePageUrl } from './notice-page.js';
import { serviceUrlOf } from './reply-address.js';

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
  ) {}

  async notifyInMeeting(to: MeetingNoticeTarget, notice: PrivateNotice): Promise<void> {
    const serviceUrl = serviceUrlOf(to.replyAddress);
    if (!serviceUrl || !this.publicBaseUrl) throw new UpstreamError('teams', 'no Teams address or public URL for a meeting notification');
    // Known not to be a member of the chat (lately): the notice cannot reach them, and Teams is not asked again.
    if (!to.chatId && this.members.chatIdOf(to.conversationId, to.userId!) === null) throw notAMember();
    const { title } = noticeWords(notice);
    const url = noticePageUrl(this.publicBaseUrl, notice.ref);
    // The whole notice (member lookup, token and POST) within its deadline.
    const deadlineAt = Date.now() + callBudgetMs(this.timeoutMs);
    // Logged once, by whoever records the failure (the action's case: 'upstream failure').
    await this.send({ serviceUrl, conversationId: to.conversationId }, to, notification(title, url), deadlineAt);
  }

  /** Sends the notification to its one recipient: by chat id, or found by Entra object id. */
  private async send(
    chat: ConnectorChat,
    to: MeetingNoticeTarget,
    build: (recipient: string) => TargetedMeetingNotification,
    deadlineAt: number,
  ): Promise<void> {
    const recipient = to.chatId ?? (await this.chatIdOf(chat, to.userId!, deadlineAt));
    const answer = await this.connector.meetingNotification(chat.serviceUrl, to.meetingId, build(recipient), deadlineAt);
    // 207: sent only to some; with one recipient, that one was not reached.
    const failed = answer?.recipientsFailureInfo?.find((f) => f.recipientMri === recipient);
    if (failed) throw new UpstreamError('teams', 'Teams meeting notification not delivered', { vendorCode: failed.errorCode, retryable: false });
  }

  /**
   * A member's chat id (`29:…`) from their Entra object id: as the chat's members are known
   * (`ChatMembers`, read ahead or looked up before), else through a member lookup, whose answer,
   * "not a member" included, is remembered.
   */
  private async chatIdOf(chat: ConnectorChat, userId: string, deadlineAt: number): Promise<string> {
    const known = this.members.chatIdOf(chat.conversationId, userId);
    if (known) return known;
    if (known === null) throw notAMember();
    const member = await this.connector.member(chat, userId, deadlineAt);
    if (!member) {
      this.members.notAMember(chat.conversationId, { userId });
      throw new UpstreamError('teams', 'Teams member lookup failed: 404', { status: 404, retryable: false });
    }
    this.members.remember(chat.conversationId, member);
    return member.id;
  }
}

/** The failure of a notice to someone the chat's member list does not have, as a member lookup's 404 is. */
function notAMember(): UpstreamError {
  return new UpstreamError('teams', 'Teams member lookup failed: 404 (not a member of the chat, remembered)', { status: 404, retryable: false });
}
