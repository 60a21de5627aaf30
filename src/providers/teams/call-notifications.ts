import { z } from 'zod';
import type { CallState } from '../../app/domain/participant.js';
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

const CALL_PATH = /^\/?(?:v1\.0\/|beta\/)?(?:app\/)?communications\/calls\/([^/]+)(\/participants)?\/?$/i;

/**
 * Applies Graph call notifications: call state (established, terminated ends the binding) and the
 * roster (participant deltas). Unknown resources are ignored; malformed ones are skipped, logged.
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
    const data = participantsResourceData.safeParse(n.resourceData);
    if (!data.success) return this.skip(callId, 'roster did not parse', data.error);
    if (this.deps.events.lastState(callId) === 'terminated') {
      // Notifications can arrive out of order; a late roster must not revive an ended call.
      this.deps.logger.debug({ callId }, 'roster for an ended call ignored');
      return true;
    }
    if (n.changeType === 'deleted') {
      const ids = data.data.map((p) => p.id).filter((id): id is string => !!id);
      await this.deps.store.roster.remove(callId, ids);
    } else {
      const participants = data.data.map((p) => toParticipant(callId, p)).filter((p) => p !== undefined);
      await this.deps.store.roster.upsert(callId, participants);
    }
    this.deps.logger.debug({ callId, changeType: n.changeType, count: data.data.length }, 'roster updated');
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
