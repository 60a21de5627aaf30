import { z } from 'zod';
import { BouncerError } from '../../app/domain/errors.js';

/** What a Teams meeting join link says about its meeting, in the shape Graph's join request needs. */
export interface MeetingCoordinates {
  threadId: string;
  messageId: string;
  organizerId: string;
  tenantId: string;
}

// The `context` query parameter of a meetup-join link: {"Tid": tenant, "Oid": organizer}.
const contextSchema = z.object({ Tid: z.string().min(1), Oid: z.string().min(1) }).loose();

/**
 * Parses `https://teams.microsoft.com/l/meetup-join/<threadId>/<messageId>?context={"Tid":…,"Oid":…}`.
 * See https://learn.microsoft.com/graph/api/application-post-calls (join scheduled meeting).
 */
export function parseJoinUrl(joinUrl: string): MeetingCoordinates {
  const fail = (why: string, cause?: unknown) =>
    new BouncerError('INVALID_JOIN_URL', `not a Teams meeting join link (${why})`, { cause });
  let url: URL;
  try {
    url = new URL(joinUrl);
  } catch (err) {
    throw fail('not a URL', err);
  }
  const parts = url.pathname.split('/').filter(Boolean);
  const at = parts.indexOf('meetup-join');
  if (at < 0 || parts.length < at + 3) throw fail('no meetup-join path');
  const threadId = decodeURIComponent(parts[at + 1]!);
  const messageId = decodeURIComponent(parts[at + 2]!);
  const rawContext = url.searchParams.get('context');
  if (!rawContext) throw fail('no context parameter');
  let context: z.infer<typeof contextSchema>;
  try {
    context = contextSchema.parse(JSON.parse(rawContext));
  } catch (err) {
    throw fail('unreadable context parameter', err);
  }
  return { threadId, messageId, organizerId: context.Oid, tenantId: context.Tid };
}

/** A Teams short meeting link's meeting: its numeric meeting id and, when the link has one, its passcode. */
export interface MeetingIdCoordinates {
  joinMeetingId: string;
  passcode?: string;
}

/** Any Teams meeting link: the meetup-join form, or the short `/meet/<id>?p=<passcode>` form. */
export type MeetingLink = ({ kind: 'meetup' } & MeetingCoordinates) | ({ kind: 'meeting-id' } & MeetingIdCoordinates);

/**
 * Parses a Teams meeting link: `https://teams.microsoft.com/meet/<meeting id>?p=<passcode>` (the
 * short form Teams now issues; Graph joins it with joinMeetingIdMeetingInfo) or the meetup-join
 * form (parseJoinUrl). Throws INVALID_JOIN_URL for anything else.
 */
export function parseMeetingLink(joinUrl: string): MeetingLink {
  let url: URL | undefined;
  try {
    url = new URL(joinUrl);
  } catch {
    url = undefined;
  }
  const parts = url?.pathname.split('/').filter(Boolean) ?? [];
  if (url && parts.length === 2 && parts[0] === 'meet') {
    const id = decodeURIComponent(parts[1]!).replace(/\s+/g, '');
    if (!/^\d{6,20}$/.test(id)) throw new BouncerError('INVALID_JOIN_URL', 'not a Teams meeting join link (the meeting id is not a number)');
    const passcode = url.searchParams.get('p') || undefined;
    if (passcode !== undefined && !/^[\x21-\x7e]{1,64}$/.test(passcode)) {
      throw new BouncerError('INVALID_JOIN_URL', 'not a Teams meeting join link (unreadable passcode)');
    }
    return { kind: 'meeting-id', joinMeetingId: id, ...(passcode !== undefined ? { passcode } : {}) };
  }
  return { kind: 'meetup', ...parseJoinUrl(joinUrl) };
}
