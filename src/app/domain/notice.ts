/**
 * What a private notice says: a moderator's warning, why its person is being removed, or that they
 * are banned (a rejoin Bouncer undoes), with the ban's reason.
 */
export interface NoticeContent {
  kind: 'warning' | 'removal' | 'banned';
  reason?: string;
}

/** The longest reason a notice repeats (a spoken announcement of more would go on and on). */
export const NOTICE_REASON_MAX_CHARS = 300;

/**
 * The words of a private notice, as its person sees or hears them (Teams' notice page, Twilio's
 * `<Say>`): plain text, unescaped; each surface escapes it for its own format.
 */
export function noticeWords(notice: NoticeContent): { title: string; text: string } {
  const reason = notice.reason?.replace(/\s+/g, ' ').trim().slice(0, NOTICE_REASON_MAX_CHARS);
  switch (notice.kind) {
    case 'warning':
      return {
        title: 'A warning from the moderators',
        text: reason ? `A moderator of this call warns you: ${reason}` : 'A moderator of this call warns you about your behaviour.',
      };
    case 'removal':
      return {
        title: 'You are being removed from this call',
        text: `A moderator is removing you from this call.${reason ? ` Reason: ${reason}` : ''}`,
      };
    case 'banned':
      return {
        title: 'You are banned from this call',
        text: `You are banned from this call, so you are being removed from it again.${reason ? ` Reason: ${reason}` : ''}`,
      };
  }
}
