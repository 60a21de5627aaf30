import { z } from 'zod';
import type { ConfirmedOrganizer } from '../../app/ports/call-provider.js';
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
