import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, listen, type LocalServer } from './protocol/http-util.js';
import type { Rejoins, RejoinResult, RemovedPerson } from './rejoin.js';

/**
 * The sandbox's state page: who is in the Teams call and the phone conference right now, as the
 * sandbox sees them. A browser gets HTML (with a Rejoin button per removed person); anything else
 * gets the same state as JSON. `POST /rejoin` (form or JSON `{ "who": "<id>" }`) makes a removed
 * person try to come back; a browser is sent back to the page, which says what Bouncer did.
 */

export interface StateView {
  teamsCall: {
    meeting: string;
    callId?: string;
    state?: string;
    participants: string[];
    muted: string[];
    /** The meeting's options a lockdown changes (`/lockdown`). */
    options?: { lobby: string; dialInBypassesLobby: boolean | null; attendeeMic: boolean | null; attendeeCamera: boolean | null; chat: string };
  };
  phoneConference: { name: string; sid: string; status: string; participants: string[]; muted: string[] };
  notices: Array<{ via: 'teams' | 'twilio'; to: string; title?: string; url?: string; said?: string }>;
}

export type PageState<S extends StateView = StateView> = S & {
  /** People removed from either call and not back: each with the address that makes them try to rejoin. */
  removed: Array<RemovedPerson & { rejoin: { method: 'POST'; url: string; body: { who: string } } }>;
};

export async function startStatePage<S extends StateView>(state: () => S, rejoins: Rejoins): Promise<LocalServer> {
  let last: RejoinResult | undefined;
  const ref: { url?: string } = {};
  const view = (): PageState<S> => ({
    ...state(),
    removed: rejoins.removed().map((p) => ({ ...p, rejoin: { method: 'POST', url: `${ref.url}/rejoin`, body: { who: p.id } } })),
  });
  const server = await listen(async (req, res) => {
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && path === '/') {
      if (wantsHtml(req)) html(res, 200, page(view(), last));
      else json(res, 200, view());
      return;
    }
    if (req.method === 'POST' && path === '/rejoin') {
      const who = whoOf(req);
      const result = who ? await rejoins.rejoin(who) : undefined;
      if (wantsHtml(req) || isForm(req)) {
        if (result) last = result;
        res.writeHead(303, { location: '/' });
        res.end();
        return;
      }
      if (!result) json(res, 404, { error: 'nobody removed has that id; GET / lists them under "removed"' });
      else json(res, 200, result);
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  ref.url = server.url;
  return server;
}

function wantsHtml(req: IncomingMessage): boolean {
  return /\btext\/html\b/.test(req.headers.accept ?? '');
}

function isForm(req: IncomingMessage): boolean {
  return /^application\/x-www-form-urlencoded\b/.test(req.headers['content-type'] ?? '');
}

function whoOf(req: IncomingMessage & { body: string }): string | undefined {
  if (isForm(req)) return new URLSearchParams(req.body).get('who') ?? undefined;
  try {
    const who = (JSON.parse(req.body) as { who?: unknown }).who;
    return typeof who === 'string' ? who : undefined;
  } catch {
    return undefined;
  }
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

/** The meeting's lobby, mic, camera and chat settings, as `/lockdown` changes them. */
function meetingOptions(o: NonNullable<StateView['teamsCall']['options']>): string {
  const onOff = (v: boolean | null) => (v === null ? 'not set' : v ? 'on' : 'off');
  return (
    `<p class="options">Meeting options: lobby: ${esc(o.lobby)}; dial-in callers ${o.dialInBypassesLobby ? 'bypass it' : 'wait in it'}; ` +
    `attendees' mic ${onOff(o.attendeeMic)}, camera ${onOff(o.attendeeCamera)}; chat ${esc(o.chat)}.</p>`
  );
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(s: PageState, last: RejoinResult | undefined): string {
  const list = (names: string[], muted: string[]) =>
    names.length ? `<ul>${names.map((n) => `<li>${esc(n)}${muted.includes(n) ? ' (muted)' : ''}</li>`).join('')}</ul>` : '<p>Nobody.</p>';
  const removed = (where: RemovedPerson['where']) => {
    const people = s.removed.filter((p) => p.where === where);
    if (people.length === 0) return '';
    const rows = people
      .map(
        (p) =>
          `<li>${esc(p.name)} <form method="post" action="/rejoin" style="display:inline"><input type="hidden" name="who" value="${esc(p.id)}"><button>Rejoin</button></form></li>`,
      )
      .join('');
    return `<h3>Removed</h3><p>Make them try to come back, as they would (${where === 'teams' ? "Teams' Rejoin: Graph tells Bouncer they joined" : 'calling again: Twilio tells Bouncer they joined'}):</p><ul>${rows}</ul>`;
  };
  const told = last
    ? `<p class="last"><strong>${esc(last.name)}</strong> tried to rejoin: ${
        last.inCall ? 'they are back in the call (not banned).' : `Bouncer removed them again after ${String(last.removedAfterMs)} ms.`
      }</p>`
    : '';
  const call = s.teamsCall;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bouncer sandbox state</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}.last{background:#eef;padding:.5rem}button{margin-left:.5rem}</style>
</head><body>
<h1>Bouncer sandbox</h1>
<p>Who is in the calls right now, as the sandbox sees them. <a href="/">Refresh</a></p>
${told}
<h2>Teams meeting "${esc(call.meeting)}"</h2>
<p>${call.callId ? `Call ${esc(call.callId)}, ${esc(call.state ?? '')}` : 'Bouncer has not joined its call yet (<code>/bind</code>): who will be in it:'}</p>
${list(call.participants, call.muted)}
${call.options ? meetingOptions(call.options) : ''}
${removed('teams')}
<h2>Phone conference "${esc(s.phoneConference.name)}"</h2>
<p>${esc(s.phoneConference.sid)}, ${esc(s.phoneConference.status)}</p>
${list(s.phoneConference.participants, s.phoneConference.muted)}
${removed('twilio')}
<h2>Private notices</h2>
${
  s.notices.length === 0
    ? '<p>None yet (<code>/warn</code>, or the notice before a kick or a ban).</p>'
    : `<ul>${s.notices
        .map((n) =>
          n.via === 'teams'
            ? `<li>${esc(n.to)}, on their meeting stage: ${n.url ? `<a href="${esc(n.url)}">${esc(n.title ?? 'the notice')}</a>` : esc(n.title ?? '')}</li>`
            : `<li>${esc(n.to)}, on the phone: “${esc(n.said ?? '')}”</li>`,
        )
        .join('')}</ul>`
}
</body></html>
`;
}
