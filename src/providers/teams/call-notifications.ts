import { z } from 'zod';
import { TurnBudget } from '../../app/domain/event-loop.js';
import type { CallState, Participant } from '../../app/domain/participant.js';
import type { CallStateEvents } from '../../app/moderation/call-events.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { Store } from '../../app/ports/store.js';
import { callStateSchema, graphParticipantSchema, toParticipant } from './graph-schemas.js';

// https://learn.microsoft.com/graph/api/resources/commsnotifications
const notificationSchema = z
  .object({
    changeType: z.enum(['created', 'updated', 'deleted']),
    resourceUrl: z.string().nullish(),
    resource: z.string().nullish(),
    resourceData: z.unknown(),
  })
  .loose();

export const commsNotificationsSchema = z.object({ value: z.array(notificationSchema) }).loose();

const callResourceData = z.object({ state: callStateSchema.nullish() }).loose();
const participantsResourceData = z.array(graphParticipantSchema);

/**
 * A roster notification's participants, checked one by one in turns of a few milliseconds (a
 * 10,000-participant roster takes some 50 ms to check): the ids Graph gave, and the participants
 * Bouncer can act on (those with an id). Graph's parsed objects are not kept, so that a large
 * roster does not stay in memory twice. One that does not fit fails the whole notification, as it
 * always has.
 */
async function participantsOf(
  callId: string,
  resourceData: unknown,
): Promise<{ success: true; ids: string[]; participants: Participant[] } | { success: false; error: z.ZodError }> {
  if (!Array.isArray(resourceData)) {
    const parsed = participantsResourceData.safeParse(resourceData);
    return parsed.success ? { success: true, ids: [], participants: [] } : { success: false, error: parsed.error };
  }
  const ids: string[] = [];
  const participants: Participant[] = [];
  const budget = new TurnBudget();
  for (const item of resourceData as unknown[]) {
    const parsed = graphParticipantSchema.safeParse(item);
    if (!parsed.success) return { success: false, error: parsed.error };
    if (parsed.data.id) ids.push(parsed.data.id);
    const p = toParticipant(callId, parsed.data);
    if (p) participants.push(p);
    await budget.next();
  }
  return { success: true, ids, participants };
}

const CALL_PATH = /^\/?(?:v1\.0\/|beta\/)?(?:app\/)?communications\/calls\/([^/]+)(\/participants)?\/?$/i;

/**
 * Applies Graph call notifications: call state (established, terminated ends the binding) and the
 * roster. Unknown resources are ignored; malformed ones are skipped, logged.
 *
 * How Graph reports the roster (a call joined without `callOptions.isDeltaRosterEnabled`, as
 * Bouncer joins): an `updated` notification on `/communications/calls/{id}/participants` carries
 * the call's whole roster, so whoever it leaves out has left, even without a `deleted`
 * notification; a `deleted` one carries participants who left. Seen in Graph's own payloads (the
 * join example's roster holds every participant, the bot included; the comms SDK raises
 * added/removed participants by comparing one roster with the next, as in the recorded
 * `graph-participants.sdk-events` fixture) and in Graph's documentation, where only delta roster
 * (`deltaParticipants`, opted into) sends "participants that were updated since the last roster
 * update". A `created` notification, which Graph does not document for participants, only adds.
 */
export class CallNotificationHandler {
  constructor(
    private readonly deps: { store: Store; events: CallStateEvents; clock: Clock; logger: Logger },
  ) {}

  /** Returns how many notifications were applied. */
  async handle(payload: z.infer<typeof commsNotificationsSchema>): Promise<number> {
    let applied = 0;
    for (const n of payload.value) {
      const path = n.resourceUrl ?? n.resource ?? '';
      const match = CALL_PATH.exec(path);
      if (!match) {
        this.deps.logger.debug({ resource: path }, 'ignored notification for an unknown resource');
        continue;
      }
      const callId = decodedSegment(match[1]!);
      if (callId === undefined) {
        this.deps.logger.warn({ resource: path.slice(0, 200) }, 'skipped notification: its call id does not decode');
        continue;
      }
      const ok = match[2] ? await this.roster(callId, n) : await this.callState(callId, n);
      if (ok) applied++;
    }
    return applied;
  }

  private async callState(callId: string, n: z.infer<typeof notificationSchema>): Promise<boolean> {
    let state: CallState | undefined;
    if (n.changeType === 'deleted') state = 'terminated';
    else {
      const data = callResourceData.safeParse(n.resourceData);
      if (!data.success) return this.skip(callId, 'call state did not parse', data.error);
      const s = data.data.state;
      state = s === 'established' ? 'established' : s === 'terminated' ? 'terminated' : undefined;
    }
    if (!state) return true;
    const binding = await this.deps.store.bindings.setCallState(callId, state, this.deps.clock.now().toISOString());
    this.deps.events.emit(callId, state);
    this.deps.logger.info({ callId, state, conversationId: binding?.conversationId }, 'call state changed');
    return true;
  }

  private async roster(callId: string, n: z.infer<typeof notificationSchema>): Promise<boolean> {
    const data = await participantsOf(callId, n.resourceData);
    if (!data.success) return this.skip(callId, 'roster did not parse', data.error);
    if (this.deps.events.lastState(callId) === 'terminated') {
      // Notifications can arrive out of order; a late roster must not revive an ended call.
      this.deps.logger.debug({ callId }, 'roster for an ended call ignored');
      return true;
    }
    const { roster } = this.deps.store;
    switch (n.changeType) {
      case 'deleted':
        await roster.remove(callId, data.ids);
        break;
      case 'updated':
        // The whole roster: whoever is not in it has left.
        await roster.sync(callId, data.participants);
        // The call ended while a large roster was being written: its roster goes again.
        if (this.deps.events.lastState(callId) === 'terminated') await roster.replace(callId, []);
        break;
      case 'created':
        await roster.upsert(callId, data.participants);
        break;
    }
    if (n.changeType !== 'deleted' && this.deps.events.lastState(callId) !== 'terminated') {
      // Answered once what they set off is done (a banned person in the call, lobby included, is removed).
      await this.deps.events.participantsSeen({ provider: 'teams', callId, participants: data.participants, complete: n.changeType === 'updated' });
    }
    this.deps.logger.debug({ callId, changeType: n.changeType, count: data.participants.length }, 'roster updated');
    return true;
  }

  private skip(callId: string, why: string, err: unknown): boolean {
    this.deps.logger.warn({ callId, err }, `skipped notification: ${why}`);
    return false;
  }
}

/** A percent-encoded path segment, or undefined when it does not decode (a malformed escape). */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
