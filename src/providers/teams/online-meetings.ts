import { z } from 'zod';
import { BouncerError } from '../../app/domain/errors.js';
import type { ConfirmedOrganizer, MeetingLock, MeetingToLock } from '../../app/ports/call-provider.js';
import type { GraphClient } from './graph-client.js';
import { parseGraphBody } from './graph-schemas.js';

// https://learn.microsoft.com/graph/api/onlinemeeting-get (list by JoinWebUrl):
// participants.organizer.identity.user { id, tenantId }.
const onlineMeetingListSchema = z.object({
  value: z.array(
    z
      .object({
        joinWebUrl: z.string().nullish(),
        participants: z
          .object({
            organizer: z
              .object({
                identity: z.object({ user: z.object({ id: z.string().min(1), tenantId: z.string().nullish() }).loose().nullish() }).loose().nullish(),
              })
              .loose()
              .nullish(),
          })
          .loose()
          .nullish(),
      })
      .loose(),
  ),
});

/**
 * The organizer of the meeting a join link names, as Graph records it:
 * `GET /users/{id}/onlineMeetings?$filter=JoinWebUrl eq '<url>'` (application permission
 * OnlineMeetings.Read.All and an application access policy). The link's own Oid only says under
 * which user to look: a link that names the wrong user finds nothing there, and the organizer is
 * Graph's answer, never the link's. Undefined when there is no such meeting or Graph refuses (403).
 */
export async function confirmOrganizer(graph: GraphClient, joinUrl: string, lookUnder: string): Promise<ConfirmedOrganizer | undefined> {
  const filter = `JoinWebUrl eq '${joinUrl.replace(/'/g, "''")}'`;
  const res = await graph.request('GET', `/users/${encodeURIComponent(lookUnder)}/onlineMeetings?$filter=${encodeURIComponent(filter)}`, {
    accept: [400, 403, 404],
  });
  if (res.status === 400 || res.status === 403 || res.status === 404) return undefined;
  const listed = parseGraphBody(res, onlineMeetingListSchema, 'online meeting list');
  if (listed.value.length !== 1) return undefined;
  const user = listed.value[0]!.participants?.organizer?.identity?.user;
  if (!user) return undefined;
  return { organizerUserId: user.id.toLowerCase(), ...(user.tenantId ? { tenantId: user.tenantId } : {}) };
}

// https://learn.microsoft.com/graph/api/resources/onlinemeeting — the options a lockdown changes,
// as the contract types them: lobbyBypassSettings {scope: lobbyBypassScope, isDialInBypassEnabled},
// two nullable booleans, and allowMeetingChat: meetingChatMode (enabled | disabled | limited).
const lobbyBypassSchema = z
  .object({ scope: z.string().min(1).nullish(), isDialInBypassEnabled: z.boolean().nullish() })
  .loose();
const lockableOptionsSchema = z
  .object({
    lobbyBypassSettings: lobbyBypassSchema.nullish(),
    allowAttendeeToEnableMic: z.boolean().nullish(),
    allowAttendeeToEnableCamera: z.boolean().nullish(),
    allowMeetingChat: z.string().min(1).nullish(),
  })
  .loose();
const lockableMeetingListSchema = z.object({ value: z.array(lockableOptionsSchema.extend({ id: z.string().min(1) })) }).loose();

/** The options a lockdown saves and restores: only those Graph gave a value (a null is not written back). */
export type SavedMeetingOptions = {
  lobbyBypassSettings?: { scope?: string; isDialInBypassEnabled?: boolean };
  allowAttendeeToEnableMic?: boolean;
  allowAttendeeToEnableCamera?: boolean;
  allowMeetingChat?: string;
};

const savedOptionsSchema = z
  .object({
    lobbyBypassSettings: z.object({ scope: z.string().min(1).optional(), isDialInBypassEnabled: z.boolean().optional() }).strict().optional(),
    allowAttendeeToEnableMic: z.boolean().optional(),
    allowAttendeeToEnableCamera: z.boolean().optional(),
    allowMeetingChat: z.string().min(1).optional(),
  })
  .strict();

const MEETING_HINTS = { 403: 'meeting-access-policy' } as const;

/**
 * A meeting's lockable options through Graph (application permission OnlineMeetings.ReadWrite.All
 * and an application access policy granted for the organizer: a 403 carries the hint
 * 'meeting-access-policy'). Every request goes through the Graph client: its deadline and the
 * tenant's outbound scheduler.
 */
export class GraphMeetingLock implements MeetingLock {
  constructor(private readonly graph: GraphClient) {}

  /** `GET /users/{organizer}/onlineMeetings?$filter=JoinWebUrl eq '…'`: the meeting's id and options. */
  async read(meeting: MeetingToLock): Promise<{ meeting: { organizerUserId: string; meetingId: string }; saved: Record<string, unknown> } | undefined> {
    const filter = `JoinWebUrl eq '${meeting.joinUrl.replace(/'/g, "''")}'`;
    const res = await this.graph.request('GET', `/users/${encodeURIComponent(meeting.organizerUserId)}/onlineMeetings?$filter=${encodeURIComponent(filter)}`, {
      accept: [404],
      hints: MEETING_HINTS,
    });
    if (res.status === 404) return undefined;
    const listed = parseGraphBody(res, lockableMeetingListSchema, 'online meeting list');
    if (listed.value.length !== 1) return undefined;
    const found = listed.value[0]!;
    const saved: SavedMeetingOptions = {};
    const lobby = found.lobbyBypassSettings;
    if (lobby && (lobby.scope != null || lobby.isDialInBypassEnabled != null)) {
      saved.lobbyBypassSettings = {
        ...(lobby.scope != null ? { scope: lobby.scope } : {}),
        ...(lobby.isDialInBypassEnabled != null ? { isDialInBypassEnabled: lobby.isDialInBypassEnabled } : {}),
      };
    }
    if (found.allowAttendeeToEnableMic != null) saved.allowAttendeeToEnableMic = found.allowAttendeeToEnableMic;
    if (found.allowAttendeeToEnableCamera != null) saved.allowAttendeeToEnableCamera = found.allowAttendeeToEnableCamera;
    if (found.allowMeetingChat != null) saved.allowMeetingChat = found.allowMeetingChat;
    return { meeting: { organizerUserId: meeting.organizerUserId.toLowerCase(), meetingId: found.id }, saved };
  }

  /** `PATCH …/onlineMeetings/{id}`: only the organizer bypasses the lobby (dial-in callers too wait), attendees' mic and camera off, and with `chat` meeting chat off. */
  async lock(meeting: { organizerUserId: string; meetingId: string }, options: { chat: boolean }): Promise<void> {
    await this.patch(meeting, {
      lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
      allowAttendeeToEnableMic: false,
      allowAttendeeToEnableCamera: false,
      ...(options.chat ? { allowMeetingChat: 'disabled' } : {}),
    });
  }

  /** `PATCH …/onlineMeetings/{id}` with exactly the options `read` saved. */
  async restore(meeting: { organizerUserId: string; meetingId: string }, saved: Record<string, unknown>): Promise<void> {
    const parsed = savedOptionsSchema.safeParse(saved);
    if (!parsed.success) throw new BouncerError('STORE_FAILED', 'the saved meeting options do not have the shape Bouncer saves', { cause: parsed.error });
    if (Object.keys(parsed.data).length === 0) return;
    await this.patch(meeting, parsed.data);
  }

  private async patch(meeting: { organizerUserId: string; meetingId: string }, body: SavedMeetingOptions): Promise<void> {
    await this.graph.request('PATCH', `/users/${encodeURIComponent(meeting.organizerUserId)}/onlineMeetings/${encodeURIComponent(meeting.meetingId)}`, {
      body,
      hints: MEETING_HINTS,
    });
  }
}
