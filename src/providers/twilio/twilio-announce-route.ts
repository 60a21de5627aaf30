import type { NoticeContent } from '../../app/domain/notice.js';
import { noticeWords } from '../../app/domain/notice.js';
import type { Logger } from '../../app/ports/runtime.js';
import { httpProblem } from '../../http/problem.js';
import type { HttpAnswer, HttpInput, RawRoute } from '../../http/route.js';
import { noticeOfUrl, TWILIO_ANNOUNCE_PATH, type Announcements } from './announcements.js';
import { verifyTwilioSignature } from './conference-events.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface AnnounceRouteDeps {
  authToken?: string;
  publicBaseUrl?: string;
  /** The notice of a case, unlocked by its token (Moderation.notice). */
  findNotice?(caseId: number, token: string): Promise<NoticeContent | undefined>;
  announcements?: Announcements;
  logger: Logger;
}

/**
 * GET and POST /api/twilio/announce?case=<n>&t=<token>: the TwiML of a participant's announcement
 * (a warning, or why they are being removed), `<Response><Say>…</Say></Response>`. Only for
 * Twilio: the request must carry a valid X-Twilio-Signature over the public URL (and the form, for
 * a POST). The words come from the notice's audit case, unlocked by its token; nothing in the URL
 * is read back as text. 403 forbidden for a bad signature or when Twilio's auth token or
 * PUBLIC_BASE_URL is not configured; 404 for an unknown notice; problem+json.
 */
export function twilioAnnounceRoutes(deps: AnnounceRouteDeps): RawRoute[] {
  const handle = (method: 'GET' | 'POST') => async (input: HttpInput): Promise<HttpAnswer> => {
    const params = method === 'POST' ? Object.fromEntries(new URLSearchParams(input.body.toString('utf8'))) : {};
    const url = `${deps.publicBaseUrl ?? ''}${TWILIO_ANNOUNCE_PATH}${input.query ? `?${input.query}` : ''}`;
    const signature = input.header('x-twilio-signature') || undefined;
    if (!deps.authToken || !deps.publicBaseUrl || !deps.findNotice || !verifyTwilioSignature(deps.authToken, signature, url, params)) {
      deps.logger.warn({ ip: input.remoteAddress, signed: !!signature }, 'rejected Twilio announcement request');
      return httpProblem('forbidden');
    }
    const ref = noticeOfUrl(input.query);
    const notice = ref && (await deps.findNotice(ref.caseId, ref.token));
    if (!ref || !notice) return httpProblem('not-found');
    const { text } = noticeWords(notice);
    await deps.announcements?.served(ref.caseId, text);
    return { status: 200, text: { contentType: 'text/xml; charset=utf-8', content: twimlSay(text) }, headers: { 'cache-control': 'no-store' } };
  };
  return (['GET', 'POST'] as const).map((method) => ({ kind: 'raw', method, path: TWILIO_ANNOUNCE_PATH, maxBodyBytes: MAX_BODY_BYTES, handle: handle(method) }));
}

/** TwiML that says `text` (https://www.twilio.com/docs/voice/twiml/say), XML-escaped. */
export function twimlSay(text: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Say>${escapeXml(text)}</Say></Response>`;
}

function escapeXml(text: string): string {
  // Characters XML 1.0 does not allow at all are dropped; the five special ones are escaped.
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
