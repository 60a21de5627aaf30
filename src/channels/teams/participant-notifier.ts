import { TeamsInfo, type CloudAdapter, type TargetedMeetingNotification, type TurnContext } from 'botbuilder';
import { awaitWithin, callBudgetMs } from '../../app/domain/deadline.js';
import { UpstreamError } from '../../app/domain/errors.js';
import { noticeWords } from '../../app/domain/notice.js';
import type { MeetingNoticeTarget, ParticipantNotifier, PrivateNotice } from '../../app/ports/participant-notifier.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { ChatMembers } from './chat-members.js';
import { noticePageUrl } from './notice-page.js';
import { groupChatReference, serviceUrlOf } from './reply-address.js';
import { isNotFound, teamsFailure } from './teams-directory.js';

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
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
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
    const reference = groupChatReference(this.appId, { serviceUrl, conversationId: to.conversationId, tenantId: to.tenantId });
    const { title } = noticeWords(notice);
    const url = noticePageUrl(this.publicBaseUrl, notice.ref);
    // A failure inside the callback would go to the adapter's onTurnError (which answers the chat):
    // it is kept here and thrown after.
    let failure: unknown;
    const sent = this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      try {
        await this.send(context, to, notification(title, url));
      } catch (err) {
        failure = err;
      }
    });
    try {
      await awaitWithin(sent, callBudgetMs(this.timeoutMs), 'teams', 'Teams meeting notification');
      if (failure) throw failure;
    } catch (err) {
      // Logged once, by whoever records the failure (the action's case: 'upstream failure').
      throw err instanceof UpstreamError ? err : teamsFailure('meeting notification', err);
    }
  }

  /** Sends the notification to its one recipient: by chat id, or found by Entra object id. */
  private async send(context: TurnContext, to: MeetingNoticeTarget, build: (recipient: string) => TargetedMeetingNotification): Promise<void> {
    const recipient = to.chatId ?? (await this.chatIdOf(context, to.conversationId, to.userId!));
    let answer;
    try {
      answer = await TeamsInfo.sendMeetingNotification(context, build(recipient), to.meetingId);
    } catch (err) {
      throw teamsFailure('meeting notification', err);
    }
    // 207: sent only to some; with one recipient, that one was not reached.
    const failed = answer?.recipientsFailureInfo?.find((f) => f.recipientMri === recipient);
    if (failed) throw new UpstreamError('teams', 'Teams meeting notification not delivered', { vendorCode: failed.errorCode, retryable: false });
  }

  /**
   * A member's chat id (`29:…`) from their Entra object id: as the chat's members are known
   * (`ChatMembers`, read ahead or looked up before), else through a member lookup, whose answer,
   * "not a member" included, is remembered.
   */
  private async chatIdOf(context: TurnContext, conversationId: string, userId: string): Promise<string> {
    const known = this.members.chatIdOf(conversationId, userId);
    if (known) return known;
    if (known === null) throw notAMember();
    try {
      const member = await TeamsInfo.getMember(context, userId);
      this.members.remember(conversationId, member);
      return member.id;
    } catch (err) {
      if (isNotFound(err)) this.members.notAMember(conversationId, { userId });
      throw teamsFailure('member lookup', err);
    }
  }
}

/** The failure of a notice to someone the chat's member list does not have, as a member lookup's 404 is. */
function notAMember(): UpstreamError {
  return new UpstreamError('teams', 'Teams member lookup failed: 404 (not a member of the chat, remembered)', { status: 404, retryable: false });
}
