import type { TlsIdentity } from './protocol/http-util.js';
import type { RequestContract } from './protocol/contract.js';
import { JwtIssuer } from './protocol/jwt-issuer.js';
import { SandboxConnector, type ConnectorMember } from './protocol/connector-server.js';
import { SandboxGraph } from './protocol/graph-server.js';
import { TokenServer } from './protocol/token-server.js';
import { SandboxTwilio, type SandboxConference, type SandboxTwilioOptions } from './protocol/twilio-server.js';

/**
 * The fake world Bouncer talks to instead of Microsoft and Twilio, for the sandbox
 * (`npm run playground`) and the integration tests alike: the protocol servers, seeded with one
 * tenant's people, a Teams meeting (its chat members, roles and call) and, when asked, a Twilio
 * phone conference.
 */

export interface WorldPerson {
  /** Their id in the chat (the `from.id` / mention id of their activities). */
  chatId: string;
  name: string;
  aadObjectId: string;
  /** Their role in the meeting, as Teams names it (Organizer, Presenter, Attendee). */
  role: string;
  /** In the meeting's Teams call when Bouncer joins. */
  inCall: boolean;
  userPrincipalName?: string;
  /** Their directory profile's phones (Graph /users/{id}); no profile when absent. */
  businessPhones?: string[];
}

export interface WorldOptions {
  /** The certificate of the TLS token server; Bouncer must trust it (NODE_EXTRA_CA_CERTS). */
  tls: TlsIdentity;
  tenantId: string;
  /** Bouncer's app: its client secret at the token server, the audience of call notifications. */
  app: { id: string; secret: string };
  people: readonly WorldPerson[];
  meeting: {
    id: string;
    /** The meeting's thread, as in its join link: where Graph's call is. */
    threadId: string;
    title?: string;
    /** The chat a relaying channel posts in, which belongs to the meeting (relay mode only). */
    chatId?: string;
  };
  connector?: {
    /** Bouncer's messaging endpoint: the connector relays a chat-only channel's activities there. */
    relayTo?: string;
    /** Answer only requests with a token from the token server. */
    requireTokens?: boolean;
    /** Also listed as a member of the meeting chat: the bot itself, as Teams lists it. */
    extraMembers?: ConnectorMember[];
  };
  /** The vendor's API documents, to check Bouncer's Graph requests against (calls; a user's onlineMeetings). */
  graphContract?: RequestContract;
  onlineMeetingsContract?: RequestContract;
  /** Starts Twilio's conference API; with `conference`, one conference with its callers in it. */
  twilio?: SandboxTwilioOptions & {
    conference?: { friendlyName: string; statusCallback?: string; callers: ReadonlyArray<{ from: string; label?: string }> };
  };
}

export interface World {
  tokens: TokenServer;
  /** Signs the Bot Framework's tokens for activities posted to Bouncer (the channel's issuer). */
  botIssuer: JwtIssuer;
  /** Signs the calling platform's tokens on Graph's notifications. */
  callsIssuer: JwtIssuer;
  graph: SandboxGraph;
  connector: SandboxConnector;
  /** The connector's members: the people, in order, then `extraMembers`. */
  members: ConnectorMember[];
  twilio?: SandboxTwilio;
  conference?: SandboxConference;
  /** Waits for Graph's notifications in flight, then stops every server. */
  close(): Promise<void>;
}

/** The meeting's join link, in the meetup-join form Teams gives (thread, organizer and tenant). */
export function meetingJoinUrl(threadId: string, organizerId: string, tenantId: string): string {
  const context = encodeURIComponent(JSON.stringify({ Tid: tenantId, Oid: organizerId }));
  return `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(threadId)}/0?context=${context}`;
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const organizerIndex = options.people.findIndex((p) => p.role === 'Organizer');
  if (organizerIndex < 0) throw new Error('the meeting needs an Organizer among its people');
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const tokens = await TokenServer.start({ tls: options.tls, secrets: { [options.app.id]: options.app.secret } });
    started.push(tokens);
    const botIssuer = await JwtIssuer.start({ endorsements: ['msteams'] });
    started.push(botIssuer);
    const callsIssuer = await JwtIssuer.start();
    started.push(callsIssuer);

    const graph = await SandboxGraph.start({
      tokens,
      callsIssuer,
      callsTokenIssuer: 'https://api.botframework.com',
      appId: options.app.id,
      contract: options.graphContract,
      onlineMeetingsContract: options.onlineMeetingsContract,
    });
    started.push(graph);
    graph.seedMeeting(
      options.meeting.threadId,
      options.people.filter((p) => p.inCall).map((p) => ({ userId: p.aadObjectId, displayName: p.name, tenantId: options.tenantId })),
    );
    // Everyone has a directory profile: their UPN and name, and the phones the seed gives them.
    for (const p of options.people) {
      graph.users.set(p.aadObjectId, {
        businessPhones: [...(p.businessPhones ?? [])],
        mobilePhone: null,
        displayName: p.name,
        ...(p.userPrincipalName ? { userPrincipalName: p.userPrincipalName } : {}),
      });
    }

    const connector = await SandboxConnector.start({
      ...(options.connector?.requireTokens ? { tokens } : {}),
      ...(options.connector?.relayTo ? { relayTo: options.connector.relayTo } : {}),
    });
    started.push(connector);
    const members: ConnectorMember[] = [
      ...options.people.map((p) => ({
        id: p.chatId,
        name: p.name,
        aadObjectId: p.aadObjectId,
        tenantId: options.tenantId,
        ...(p.userPrincipalName ? { userPrincipalName: p.userPrincipalName } : {}),
      })),
      ...(options.connector?.extraMembers ?? []),
    ];
    for (const m of members) connector.members.set(m.id, m);
    const organizer = members[organizerIndex]!;
    const joinUrl = meetingJoinUrl(options.meeting.threadId, organizer.aadObjectId, options.tenantId);
    graph.seedOnlineMeeting({
      joinWebUrl: joinUrl,
      threadId: options.meeting.threadId,
      organizer: { userId: organizer.aadObjectId, displayName: organizer.name, tenantId: options.tenantId },
    });
    connector.meetings.set(options.meeting.id, {
      id: options.meeting.id,
      joinUrl,
      ...(options.meeting.title ? { title: options.meeting.title } : {}),
      organizer,
      roles: Object.fromEntries(options.people.map((p) => [p.aadObjectId, p.role])),
    });
    if (options.meeting.chatId) connector.meetingChats.set(options.meeting.chatId, options.meeting.id);

    let twilio: SandboxTwilio | undefined;
    let conference: SandboxConference | undefined;
    if (options.twilio) {
      const { conference: seed, ...twilioOptions } = options.twilio;
      twilio = await SandboxTwilio.start(twilioOptions);
      started.push(twilio);
      if (seed) {
        conference = twilio.addConference({
          friendlyName: seed.friendlyName,
          ...(seed.statusCallback ? { statusCallback: seed.statusCallback } : {}),
        });
        for (const caller of seed.callers) twilio.addParticipant(conference.sid, caller);
      }
    }

    return {
      tokens,
      botIssuer,
      callsIssuer,
      graph,
      connector,
      members,
      ...(twilio ? { twilio } : {}),
      ...(conference ? { conference } : {}),
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
