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
