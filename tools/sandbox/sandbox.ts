import type { TlsIdentity } from './protocol/http-util.js';
import type { SandboxConnector } from './protocol/connector-server.js';
import type { SandboxGraph } from './protocol/graph-server.js';
import type { SandboxConference, SandboxTwilio } from './protocol/twilio-server.js';
import { Rejoins } from './rejoin.js';
import { SANDBOX } from './seed.js';
import { startStatePage } from './state-page.js';
import { startWorld } from './world.js';

export interface SandboxOptions {
  /** The certificate of the local token server; Bouncer must trust it (NODE_EXTRA_CA_CERTS). */
  tls: TlsIdentity;
  /** Where Bouncer listens, e.g. http://127.0.0.1:3978 (notifications and activities go there). */
  bouncerUrl: string;
  /** The SQLite file Bouncer keeps its state in. */
  databaseFile: string;
}

export interface SandboxState {
  teamsCall: {
    meeting: string;
    callId?: string;
    state?: string;
    participants: string[];
    muted: string[];
    /** The meeting's options a lockdown changes: who bypasses the lobby, attendees' mic and camera, chat. */
    options?: { lobby: string; dialInBypassesLobby: boolean | null; attendeeMic: boolean | null; attendeeCamera: boolean | null; chat: string };
  };
  phoneConference: { name: string; sid: string; status: string; participants: string[]; muted: string[] };
  /** Private notices Bouncer sent, oldest first. */
  notices: SandboxNotice[];
}

/** A private notice: a Teams meeting notification (its page's title and address) or a Twilio announcement (what was said). */
export interface SandboxNotice {
  via: 'teams' | 'twilio';
  to: string;
  title?: string;
  url?: string;
  said?: string;
}

export interface RunningSandbox {
  /** Bouncer's environment: every vendor endpoint is one of the sandbox's servers. */
  bouncerEnv: Record<string, string>;
  /** The endpoint the chat client (the Agents Playground) posts activities to. */
  messagesUrl: string;
  /** A page that shows who is in the call and in the phone conference right now (and the meeting's lobby, mic, camera and chat settings), and lets the removed rejoin. */
  stateUrl: string;
  state(): SandboxState;
  /** Makes removed people try to come back (the state page's Rejoin buttons). */
  rejoins: Rejoins;
  graph: SandboxGraph;
  twilio: SandboxTwilio;
  connector: SandboxConnector;
  close(): Promise<void>;
}

/**
 * Starts the fake world the integration tests use (world.ts), seeded with the sandbox's meeting: a
 * TLS token endpoint, the calling platform's token issuer, Microsoft Graph's calls API (which posts
 * signed notifications to Bouncer), Twilio's conference API (which posts signed status
 * callbacks), and the Teams side of the meeting chat in front of the Playground; plus a page that
 * shows who is in the call and the conference, where a removed person can be made to rejoin
 * (state-page.ts, rejoin.ts).
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const world = await startWorld({
    tls: options.tls,
    tenantId: SANDBOX.tenantId,
    app: { id: SANDBOX.appId, secret: SANDBOX.appSecret },
    people: SANDBOX.people.map((p) => ({ ...p, businessPhones: p.phone ? [p.phone] : [] })),
    meeting: { id: SANDBOX.meeting.id, threadId: SANDBOX.meeting.threadId, title: SANDBOX.meeting.title, chatId: SANDBOX.meeting.chatId },
    connector: { relayTo: `${options.bouncerUrl}/api/messages` },
    twilio: {
      accountSid: SANDBOX.twilio.accountSid,
      authToken: SANDBOX.twilio.authToken,
      conference: {
        friendlyName: SANDBOX.twilio.conference,
        statusCallback: `${options.bouncerUrl}/api/twilio/conference-events`,
        callers: SANDBOX.twilio.callers,
      },
    },
  });
  try {
    const { graph, connector, tokens, callsIssuer } = world;
    const twilio = world.twilio!;
    const conference = world.conference!;
    const state = (): SandboxState => snapshot(graph, twilio.conference(conference.sid)!, noticesSent(connector, twilio));
    const rejoins = new Rejoins(graph, twilio, conference.sid, () => graph.callIds.at(-1));
    const page = await startStatePage(state, rejoins);

    return {
      bouncerEnv: {
        BOUNCER_SANDBOX: 'true',
        PUBLIC_BASE_URL: options.bouncerUrl,
        GRAPH_TENANT_ID: SANDBOX.tenantId,
        GRAPH_CLIENT_ID: SANDBOX.appId,
        GRAPH_CLIENT_SECRET: SANDBOX.appSecret,
        GRAPH_BASE_URL: graph.url,
        AZURE_AUTHORITY_HOST: tokens.url,
        CALLS_OPENID_METADATA_URL: callsIssuer.openIdMetadataUrl,
        TWILIO_ACCOUNT_SID: SANDBOX.twilio.accountSid,
        TWILIO_AUTH_TOKEN: SANDBOX.twilio.authToken,
        TWILIO_API_BASE_URL: twilio.url,
        // The sandbox's conference is for the meeting's chat: its organizer and presenters may bind it there.
        TWILIO_CONFERENCE_CHATS: JSON.stringify({ [SANDBOX.twilio.conference]: SANDBOX.meeting.chatId }),
        DATABASE_URL: `sqlite:${options.databaseFile}`,
      },
      messagesUrl: `${connector.url}/api/messages`,
      stateUrl: `${page.url}/`,
      state,
      rejoins,
      graph,
      twilio,
      connector,
      async close() {
        await Promise.all([world.close(), page.close()]);
      },
    };
  } catch (err) {
    await world.close();
    throw err;
  }
}

/**
 * The private notices Bouncer sent (a warning, the notice before a removal): Teams' targeted meeting
 * notifications, which open Bouncer's notice page on that person's meeting stage, and Twilio's
 * announcements, whose TwiML the sandbox fetched as Twilio does.
 */
function noticesSent(connector: SandboxConnector, twilio: SandboxTwilio): SandboxNotice[] {
  const byChatId = new Map<string, string>(SANDBOX.people.map((p) => [p.chatId, p.name]));
  const teams = connector.notifications.flatMap((n): SandboxNotice[] => {
    if (n.status >= 300) return [];
    const value = n.body as { value?: { recipients?: string[]; surfaces?: Array<{ content?: { value?: { title?: string; url?: string } } }> } } | undefined;
    const page = value?.value?.surfaces?.find((s) => s.content?.value?.url)?.content?.value;
    return (value?.value?.recipients ?? []).map((r) => ({ via: 'teams', to: byChatId.get(r) ?? r, ...(page?.title ? { title: page.title } : {}), ...(page?.url ? { url: page.url } : {}) }));
  });
  const phone = twilio.announcements.flatMap((a): SandboxNotice[] => {
    const said = /<Say[^>]*>([\s\S]*?)<\/Say>/.exec(a.body ?? '')?.[1];
    const caller = twilio.conference(a.conferenceSid)?.participants.get(a.callSid) ?? twilio.kicked.find((k) => k.callSid === a.callSid);
    const to = caller ? (caller.label ? `${caller.label} (${caller.from})` : caller.from) : a.callSid;
    return a.played && said ? [{ via: 'twilio', to, said: unescapeXml(said) }] : [];
  });
  return [...teams, ...phone];
}

function unescapeXml(s: string): string {
  return s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}

function snapshot(graph: SandboxGraph, conference: SandboxConference, notices: SandboxNotice[]): SandboxState {
  const callId = graph.callIds.at(-1);
  const call = callId ? graph.call(callId) : undefined;
  const nameOf = (p: Record<string, unknown>) => {
    const identity = (p as { info?: { identity?: Record<string, { id?: string; displayName?: string | null } | undefined> } }).info?.identity;
    return identity?.user?.displayName ?? identity?.application?.displayName ?? identity?.phone?.displayName ?? identity?.phone?.id ?? String(p.id);
  };
  const callerName = (p: { label?: string; from: string }) => (p.label ? `${p.label} (${p.from})` : p.from);
  const participants = call ? [...call.participants.values()] : [];
  const callers = [...conference.participants.values()];
  const options = graph.meetingOptions(SANDBOX.meeting.threadId);
  return {
    teamsCall: {
      meeting: SANDBOX.meeting.title,
      ...(options
        ? {
            options: {
              lobby: `${options.lobbyBypassSettings.scope} bypasses the lobby`,
              dialInBypassesLobby: options.lobbyBypassSettings.isDialInBypassEnabled,
              attendeeMic: options.allowAttendeeToEnableMic,
              attendeeCamera: options.allowAttendeeToEnableCamera,
              chat: options.allowMeetingChat,
            },
          }
        : {}),
      ...(call ? { callId: call.id, state: call.state } : {}),
      participants: call ? participants.map(nameOf) : SANDBOX.people.filter((p) => p.inCall).map((p) => p.name),
      // Graph's server mute: the roster says isMuted.
      muted: participants.filter((p) => p.isMuted === true).map(nameOf),
    },
    phoneConference: {
      name: conference.friendlyName,
      sid: conference.sid,
      status: conference.status,
      participants: callers.map(callerName),
      muted: callers.filter((p) => p.muted).map(callerName),
    },
    notices,
  };
}
