import { json, listen, type TlsIdentity } from './protocol/http-util.js';
import { JwtIssuer } from './protocol/jwt-issuer.js';
import { SandboxConnector, type ConnectorMember } from './protocol/connector-server.js';
import { SandboxGraph } from './protocol/graph-server.js';
import { TokenServer } from './protocol/token-server.js';
import { SandboxTwilio, type SandboxConference } from './protocol/twilio-server.js';
import { SANDBOX, sandboxJoinUrl } from './seed.js';

export interface SandboxOptions {
  /** The certificate of the local token server; Bouncer must trust it (NODE_EXTRA_CA_CERTS). */
  tls: TlsIdentity;
  /** Where Bouncer listens, e.g. http://127.0.0.1:3978 (notifications and activities go there). */
  bouncerUrl: string;
  /** The SQLite file Bouncer keeps its state in. */
  databaseFile: string;
}

export interface SandboxState {
  teamsCall: { meeting: string; callId?: string; state?: string; participants: string[] };
  phoneConference: { name: string; sid: string; status: string; participants: string[] };
}

export interface RunningSandbox {
  /** Bouncer's environment: every vendor endpoint is one of the sandbox's servers. */
  bouncerEnv: Record<string, string>;
  /** The endpoint the chat client (the Agents Playground) posts activities to. */
  messagesUrl: string;
  /** A page that shows who is in the call and in the phone conference right now. */
  stateUrl: string;
  state(): SandboxState;
  graph: SandboxGraph;
  twilio: SandboxTwilio;
  connector: SandboxConnector;
  close(): Promise<void>;
}

/**
 * Starts the protocol servers the integration tests use, seeded with the sandbox's meeting: a TLS
 * token endpoint, the calling platform's token issuer, Microsoft Graph's calls API (which posts
 * signed notifications to Bouncer), Twilio's conference API (which posts signed status
 * callbacks), and the Teams side of the meeting chat in front of the Playground.
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const tokens = await TokenServer.start({ tls: options.tls, secrets: { [SANDBOX.appId]: SANDBOX.appSecret } });
    started.push(tokens);
    const callsIssuer = await JwtIssuer.start();
    started.push(callsIssuer);
    const graph = await SandboxGraph.start({
      tokens,
      callsIssuer,
      callsTokenIssuer: 'https://api.botframework.com',
      appId: SANDBOX.appId,
    });
    started.push(graph);
    graph.seedMeeting(
      SANDBOX.meeting.threadId,
      SANDBOX.people.filter((p) => p.inCall).map((p) => ({ userId: p.aadObjectId, displayName: p.name, tenantId: SANDBOX.tenantId })),
    );
    for (const p of SANDBOX.people) {
      graph.users.set(p.aadObjectId, { businessPhones: p.phone ? [p.phone] : [], mobilePhone: null });
    }

    const twilio = await SandboxTwilio.start({ accountSid: SANDBOX.twilio.accountSid, authToken: SANDBOX.twilio.authToken });
    started.push(twilio);
    const conference = twilio.addConference({
      friendlyName: SANDBOX.twilio.conference,
      statusCallback: `${options.bouncerUrl}/api/twilio/conference-events`,
    });
    for (const caller of SANDBOX.twilio.callers) twilio.addParticipant(conference.sid, caller);

    const connector = await SandboxConnector.start({ relayTo: `${options.bouncerUrl}/api/messages` });
    started.push(connector);
    const members: ConnectorMember[] = SANDBOX.people.map((p) => ({
      id: p.chatId,
      name: p.name,
      aadObjectId: p.aadObjectId,
      tenantId: SANDBOX.tenantId,
      userPrincipalName: p.userPrincipalName,
    }));
    for (const m of members) connector.members.set(m.id, m);
    connector.meetings.set(SANDBOX.meeting.id, {
      id: SANDBOX.meeting.id,
      joinUrl: sandboxJoinUrl(),
      title: SANDBOX.meeting.title,
      organizer: members[SANDBOX.people.findIndex((p) => p.role === 'Organizer')]!,
      roles: Object.fromEntries(SANDBOX.people.map((p) => [p.aadObjectId, p.role])),
    });
    connector.meetingChats.set(SANDBOX.meeting.chatId, SANDBOX.meeting.id);

    const state = (): SandboxState => snapshot(graph, twilio.conference(conference.sid)!);
    const page = await listen((_req, res) => json(res, 200, state()));
    started.push(page);

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
        DATABASE_URL: `sqlite:${options.databaseFile}`,
      },
      messagesUrl: `${connector.url}/api/messages`,
      stateUrl: `${page.url}/`,
      state,
      graph,
      twilio,
      connector,
      async close() {
        await graph.settle();
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
}

function snapshot(graph: SandboxGraph, conference: SandboxConference): SandboxState {
  const callId = graph.callIds.at(-1);
  const call = callId ? graph.call(callId) : undefined;
  return {
    teamsCall: {
      meeting: SANDBOX.meeting.title,
      ...(call ? { callId: call.id, state: call.state } : {}),
      participants: call
        ? [...call.participants.values()].map((p) => {
            const identity = (p as { info?: { identity?: Record<string, { displayName?: string } | undefined> } }).info?.identity;
            return identity?.user?.displayName ?? identity?.application?.displayName ?? p.id;
          })
        : SANDBOX.people.filter((p) => p.inCall).map((p) => p.name),
    },
    phoneConference: {
      name: conference.friendlyName,
      sid: conference.sid,
      status: conference.status,
      participants: [...conference.participants.values()].map((p) => (p.label ? `${p.label} (${p.from})` : p.from)),
    },
  };
}
