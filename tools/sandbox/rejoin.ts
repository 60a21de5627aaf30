import type { SandboxGraph } from './protocol/graph-server.js';
import type { SandboxTwilio } from './protocol/twilio-server.js';

/**
 * Removed people trying to come back, for the sandbox's state page: Teams' "Rejoin" (Graph's roster
 * notification naming the same identity as a new participant) and a caller dialling in again
 * (Twilio's participant-join callback for a new call from the same number, under the same label).
 * Both go to Bouncer exactly as the real events do, signed, through the protocol servers.
 */

export interface RemovedPerson {
  /** What the state page's Rejoin button posts: `teams:<participant id>` or `twilio:<CallSid>` of their last removal. */
  id: string;
  name: string;
  where: 'teams' | 'twilio';
}

export interface RejoinResult {
  name: string;
  where: 'teams' | 'twilio';
  /** Their new participant id (Graph) or CallSid (Twilio). */
  participantId: string;
  /** Bouncer's HTTP answer to the roster notification or status callback. */
  status: number;
  /** Whether they are still in the call once Bouncer answered (and a moment later): false when it removed them again. */
  inCall: boolean;
  /** When removed again: milliseconds from the rejoin to the removal. */
  removedAfterMs?: number;
}

/** How long a rejoin waits after Bouncer's answer for a removal that comes later. */
const SETTLE_MS = 1000;

export class Rejoins {
  constructor(
    private readonly graph: SandboxGraph,
    private readonly twilio: SandboxTwilio,
    /** The sandbox's phone conference. */
    private readonly conferenceSid: string,
    /** The sandbox's Teams call, once Bouncer joined it. */
    private readonly teamsCallId: () => string | undefined,
  ) {}

  /** Everyone removed from the call or the conference who is not back in it: their last removal each. */
  removed(): RemovedPerson[] {
    const out: RemovedPerson[] = [];
    const callId = this.teamsCallId();
    const call = callId ? this.graph.call(callId) : undefined;
    if (call) {
      const present = new Set([...call.participants.values()].map((p) => identityKey(p)));
      const last = new Map<string, RemovedPerson>();
      for (const r of this.graph.removals) {
        if (r.callId !== call.id) continue;
        const key = r.userId ? `user:${r.userId.toLowerCase()}` : r.phone ? `phone:${r.phone}` : `participant:${r.participantId}`;
        if (present.has(key)) continue;
        last.delete(key);
        last.set(key, { id: `teams:${r.participantId}`, name: r.displayName ?? r.phone ?? 'someone', where: 'teams' });
      }
      out.push(...last.values());
    }
    const conference = this.twilio.conference(this.conferenceSid);
    if (conference && conference.status !== 'completed') {
      const present = new Set([...conference.participants.values()].map((p) => p.from));
      const last = new Map<string, RemovedPerson>();
      for (const k of this.twilio.kicked) {
        if (k.conferenceSid !== conference.sid || present.has(k.from)) continue;
        last.delete(k.from);
        last.set(k.from, { id: `twilio:${k.callSid}`, name: k.label ? `${k.label} (${k.from})` : k.from, where: 'twilio' });
      }
      out.push(...last.values());
    }
    return out;
  }

  /** Makes that removed person try to come back; undefined when nobody removed has that id. */
  async rejoin(id: string): Promise<RejoinResult | undefined> {
    const person = this.removed().find((p) => p.id === id);
    if (!person) return undefined;
    const started = Date.now();
    if (person.where === 'teams') {
      const callId = this.teamsCallId()!;
      const before = id.slice('teams:'.length);
      const { participantId, status } = await this.graph.rejoin(callId, before);
      const removal = await within(SETTLE_MS, () => this.graph.removals.find((r) => r.participantId === participantId));
      return { name: person.name, where: 'teams', participantId, status, ...settled(started, removal?.at) };
    }
    const { participant, status } = await this.twilio.rejoin(id.slice('twilio:'.length));
    const removal = await within(SETTLE_MS, () => this.twilio.kicked.find((k) => k.callSid === participant.callSid));
    return { name: person.name, where: 'twilio', participantId: participant.callSid, status, ...settled(started, removal?.at) };
  }
}

function settled(started: number, removedAt: number | undefined): Pick<RejoinResult, 'inCall' | 'removedAfterMs'> {
  return removedAt === undefined ? { inCall: true } : { inCall: false, removedAfterMs: Math.max(0, removedAt - started) };
}

/** A Graph participant's lasting identity, as the removals name it. */
function identityKey(p: Record<string, unknown>): string {
  const identity = (p.info as { identity?: { user?: { id?: string }; phone?: { id?: string } } } | undefined)?.identity;
  if (identity?.user?.id) return `user:${identity.user.id.toLowerCase()}`;
  if (identity?.phone?.id) return `phone:${identity.phone.id}`;
  return `participant:${String(p.id)}`;
}

/** `found()` as soon as it is defined, or undefined after `ms`. */
async function within<T>(ms: number, found: () => T | undefined): Promise<T | undefined> {
  for (const end = Date.now() + ms; ; ) {
    const value = found();
    if (value !== undefined || Date.now() >= end) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
