import { z } from 'zod';
import { UpstreamError } from '../../app/domain/errors.js';
import { isE164 } from '../../app/domain/ids.js';
import type { Participant } from '../../app/domain/participant.js';
import type { GraphResponse } from './graph-client.js';

// https://learn.microsoft.com/graph/api/resources/identity
const identity = z
  .object({ id: z.string().nullish(), displayName: z.string().nullish(), tenantId: z.string().nullish() })
  .loose();

// https://learn.microsoft.com/graph/api/resources/identityset (Teams adds guest/phone/applicationInstance)
const identitySet = z
  .object({
    user: identity.nullish(),
    guest: identity.nullish(),
    phone: identity.nullish(),
    application: identity.nullish(),
    applicationInstance: identity.nullish(),
  })
  .loose();

// https://learn.microsoft.com/graph/api/resources/participant
export const graphParticipantSchema = z
  .object({
    id: z.string().nullish(),
    info: z.object({ identity: identitySet.nullish() }).loose().nullish(),
    isInLobby: z.boolean().nullish(),
    isMuted: z.boolean().nullish(),
  })
  .loose();

export type GraphParticipant = z.infer<typeof graphParticipantSchema>;

// https://learn.microsoft.com/graph/api/call-list-participants
export const participantListSchema = z
  .object({ value: z.array(graphParticipantSchema), '@odata.nextLink': z.string().nullish() })
  .loose();

// https://learn.microsoft.com/graph/api/resources/call (callState)
export const callStateSchema = z.enum([
  'incoming',
  'establishing',
  'established',
  'hold',
  'transferring',
  'transferAccepted',
  'redirecting',
  'terminating',
  'terminated',
  'unknownFutureValue',
]);

// https://learn.microsoft.com/graph/api/participant-mute (response: a muteParticipantOperation,
// https://learn.microsoft.com/graph/api/resources/mutesparticipantoperation)
export const muteOperationSchema = z
  .object({
    id: z.string().nullish(),
    status: z.string().nullish(),
    clientContext: z.string().nullish(),
    resultInfo: z.object({ code: z.number().nullish(), subcode: z.number().nullish(), message: z.string().nullish() }).loose().nullish(),
  })
  .loose();

// https://learn.microsoft.com/graph/api/application-post-calls (response)
export const createdCallSchema = z.object({ id: z.string().min(1), state: callStateSchema.nullish() }).loose();

/** A Graph participant in Bouncer's terms, or undefined when it has no id to act on. */
export function toParticipant(callId: string, p: GraphParticipant): Participant | undefined {
  if (!p.id) return undefined;
  const ids = p.info?.identity ?? {};
  const [kind, who] = ids.user
    ? (['user', ids.user] as const)
    : ids.guest
      ? (['guest', ids.guest] as const)
      : ids.phone
        ? (['phone', ids.phone] as const)
        : (ids.application ?? ids.applicationInstance)
          ? (['application', ids.application ?? ids.applicationInstance] as const)
          : (['unknown', undefined] as const);
  return {
    callId,
    participantId: p.id,
    kind,
    identityId: who?.id?.toLowerCase() ?? undefined,
    displayName: who?.displayName ?? undefined,
    tenantId: who?.tenantId ?? undefined,
    isInLobby: p.isInLobby ?? false,
    // PSTN dial-ins carry their number as the phone identity's id.
    phoneNumbers: kind === 'phone' && who?.id && isE164(who.id) ? [who.id] : undefined,
  };
}

/**
 * A Graph answer's body in the shape its schema promises, or an UPSTREAM_INVALID_RESPONSE outage
 * (audited as `upstream_failed`) naming `what` and keeping Graph's request-id.
 */
export function parseGraphBody<S extends z.ZodType>(res: GraphResponse, schema: S, what: string): z.output<S> {
  const parsed = schema.safeParse(res.body);
  if (parsed.success) return parsed.data;
  throw new UpstreamError('graph', `Graph ${what} did not parse`, {
    code: 'UPSTREAM_INVALID_RESPONSE',
    status: res.status,
    requestId: res.requestId,
    cause: parsed.error,
  });
}
