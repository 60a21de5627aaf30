/**
 * The world of the sandbox (npm run playground): one tenant, the Agents Playground's six people, a
 * meeting whose chat is the Playground's group chat and whose call they are in, and a Twilio
 * phone conference. The Playground's configuration file is written from this, so the people you
 * see in the Playground are the people in the call.
 */

export interface SandboxPerson {
  /** The Playground's chat id for the person (the `from.id` / mention id of its activities). */
  chatId: string;
  name: string;
  givenName: string;
  surname: string;
  aadObjectId: string;
  userPrincipalName: string;
  /** Their role in the sandbox meeting, as Teams names it. */
  role: 'Organizer' | 'Presenter' | 'Attendee';
  /** In the meeting's Teams call when Bouncer joins. */
  inCall: boolean;
  /** Their business phone in the directory, if any (Graph /users/{id}). */
  phone?: string;
}

export interface SandboxCaller {
  from: string;
  label?: string;
}

const person = (
  n: number,
  name: string,
  upn: string,
  role: SandboxPerson['role'],
  inCall: boolean,
  phone?: string,
): SandboxPerson => {
  const [givenName = name, surname = ''] = name.split(' ');
  return {
    chatId: `user-id-${n}`,
    name,
    givenName,
    surname,
    aadObjectId: `5a4db0c5-0000-4000-8000-00000000000${n}`,
    userPrincipalName: upn,
    role,
    inCall,
    ...(phone ? { phone } : {}),
  };
};

export const SANDBOX = {
  tenantId: '5a4db0c5-7e4a-4a1e-9000-000000000001',
  /** Bouncer's app id in the sandbox: the Graph client, the audience of call notifications. */
  appId: '5a4db0c5-b0b0-4b07-8000-000000000002',
  appSecret: 'sandbox-graph-secret-not-a-secret',
  botName: 'Bouncer',
  /** The Playground user you type as: the meeting's organizer, so every command is yours. */
  people: [
    person(0, 'Alex Wilber', 'alexw@sandbox.example', 'Organizer', true),
    person(1, 'Megan Bowen', 'meganb@sandbox.example', 'Presenter', true),
    person(2, 'Adele Vance', 'adelev@sandbox.example', 'Attendee', true),
    person(3, 'Isaiah Langer', 'isaiahl@sandbox.example', 'Attendee', true, '+1 202 555 0123'),
    person(4, 'Patti Fernandez', 'pattif@sandbox.example', 'Attendee', true),
    person(5, 'Lynne Robbins', 'lynner@sandbox.example', 'Attendee', false),
  ],
  meeting: {
    id: 'MCMxOTptZWV0aW5nX3NhbmRib3hAdGhyZWFkLnYyIzA=',
    /** The meeting's thread, as in its join link (what Bouncer asks Graph to join). */
    threadId: '19:meeting_sandbox-weekly-sync@thread.v2',
    /** The Playground's group chat is the meeting's chat. */
    chatId: '19:sandbox-weekly-sync-chat@thread.v2',
    title: 'Weekly sync',
  },
  twilio: {
    accountSid: `AC${'5a4d'.repeat(8)}`,
    authToken: 'sandbox-twilio-auth-token-not-a-secret',
    conference: 'Sandbox dial-in',
    callers: [
      { from: '+12025550101', label: 'Patti Fernandez' },
      { from: '+12025550123' },
      { from: '+12025550177', label: 'Guest 1' },
    ] satisfies SandboxCaller[],
  },
} as const;

export const botChatId = `28:${SANDBOX.appId}`;

/**
 * The Agents Playground's configuration file (its schema version 0.1.1: a current user and exactly
 * five others, one group chat, one team). JSON is YAML, so this is written as is.
 */
export function playgroundConfig(): Record<string, unknown> {
  const user = (p: SandboxPerson) => ({
    id: p.chatId,
    name: p.name,
    userPrincipleName: p.userPrincipalName,
    aadObjectId: p.aadObjectId,
    givenName: p.givenName,
    surname: p.surname,
    email: p.userPrincipalName,
  });
  const [current, ...others] = SANDBOX.people;
  return {
    version: '0.1.1',
    tenantId: SANDBOX.tenantId,
    bot: { id: botChatId, name: SANDBOX.botName },
    currentUser: user(current),
    users: others.map(user),
    personalChat: { id: 'sandbox-personal-chat' },
    groupChat: { id: SANDBOX.meeting.chatId, name: `${SANDBOX.meeting.title} (meeting chat)` },
    team: {
      id: '19:sandbox-team-general@thread.tacv2',
      name: 'Sandbox team',
      aadGroupId: '5a4db0c5-7ea3-4000-8000-000000000003',
      channels: [{ id: '19:sandbox-team-announcements@thread.tacv2', name: 'Announcements' }],
    },
  };
}
