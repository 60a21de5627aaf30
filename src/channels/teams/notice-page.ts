import type { NoticeContent } from '../../app/domain/notice.js';
import { noticeWords } from '../../app/domain/notice.js';
import type { NoticeRef } from '../../app/ports/call-provider.js';
import { httpProblem } from '../../http/problem.js';
import type { HttpAnswer, RawRoute } from '../../http/route.js';

/** Where Teams' meeting dialog loads a private notice from (the targeted meeting notification's `url`). */
export const NOTICE_PAGE_PATH = '/api/teams/notice';

/** The page of one notice: its case and the token that unlocks it (never its words). */
export function noticePageUrl(publicBaseUrl: string, ref: NoticeRef): string {
  return `${publicBaseUrl}${NOTICE_PAGE_PATH}?case=${ref.caseId}&t=${encodeURIComponent(ref.token)}`;
}

/**
 * The page content of the stage is loaded in (Teams meetings' frames only; no script, no outside
 * resource). https://learn.microsoft.com/microsoftteams/platform/tabs/how-to/tab-requirements
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft https://*.office.com",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/**
 * GET /api/teams/notice?case=<n>&t=<token>: the page a targeted meeting notification shows its one
 * recipient (a warning, or why they are being removed). The words come from the notice's audit
 * case, unlocked by its token; an unknown notice or a wrong token is 404.
 */
export function noticePageRoute(deps: { findNotice(caseId: number, token: string): Promise<NoticeContent | undefined> }): RawRoute {
  return {
    kind: 'raw',
    method: 'GET',
    path: NOTICE_PAGE_PATH,
    maxBodyBytes: 0,
    async handle(input): Promise<HttpAnswer> {
      const params = new URLSearchParams(input.query);
      const caseText = params.get('case') ?? '';
      const token = params.get('t') ?? '';
      const notice = /^[1-9]\d{0,14}$/.test(caseText) && token ? await deps.findNotice(Number(caseText), token) : undefined;
      if (!notice) return httpProblem('not-found');
      const { title, text } = noticeWords(notice);
      return { status: 200, headers: PAGE_HEADERS, text: { contentType: 'text/html; charset=utf-8', content: noticePage(title, text) } };
    },
  };
}

function noticePage(title: string, text: string): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:"Segoe UI",system-ui,sans-serif;margin:1.5rem;line-height:1.5}h1{font-size:1.25rem}</style>',
    `</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`,
  ].join('');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
