import { EventEmitter } from 'node:events';
import type { CallState, Participant, ProviderKind } from '../domain/participant.js';

const REMEMBERED_CALLS = 1000;

/**
 * Participants a backend reported in a call: someone joined (or waits in the lobby), or a roster
 * listed them. The same person may be reported again.
 */
export interface ParticipantsSeen {
  provider: ProviderKind;
  callId: string;
  /** The call's name, when the backend gives one (Twilio: the conference's friendly name). */
  callName?: string;
  participants: Participant[];
  /** The call's whole roster (a Graph roster notification), rather than who just joined (a participant-join). */
  complete?: boolean;
}

/** Reacts to participants seen; handles (logs) its own failures. */
export type ParticipantsListener = (seen: ParticipantsSeen) => Promise<void>;

/**
 * In-process signals from the backends' notifications: who is in a call (for the ban enforcer),
 * and that a call changed state, so a request that just joined a call can wait for
 * the "established" notification instead of polling. The last state of recent calls is remembered,
 * because Graph may notify before the join request's own response has been handled.
 * (With several instances the notification may land on another one: waiters then time out.)
 */
export class CallStateEvents {
  private readonly emitter = new EventEmitter();
  private readonly last = new Map<string, CallState>();
  private readonly participantListeners = new Set<ParticipantsListener>();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(callId: string, state: CallState): void {
    this.last.delete(callId);
    this.last.set(callId, state);
    if (this.last.size > REMEMBERED_CALLS) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    this.emitter.emit(callId, state);
  }

  /** Calls `listener` for every report of participants in a call; returns what stops it. */
  onParticipants(listener: ParticipantsListener): () => void {
    this.participantListeners.add(listener);
    return () => this.participantListeners.delete(listener);
  }

  /**
   * Tells every participants listener, and resolves once they all have finished, so that a
   * backend's notification is answered after what it set off (a banned person's removal).
   */
  async participantsSeen(seen: ParticipantsSeen): Promise<void> {
    if (seen.participants.length === 0) return;
    await Promise.allSettled([...this.participantListeners].map((listener) => listener(seen)));
  }

  /** The last state notified for the call, if it is recent enough to be remembered. */
  lastState(callId: string): CallState | undefined {
    return this.last.get(callId);
  }

  /** Resolves with the first state in `wanted` seen for the call, or undefined after `timeoutMs`. */
  waitFor(callId: string, wanted: readonly CallState[], timeoutMs: number): Promise<CallState | undefined> {
    const known = this.last.get(callId);
    if (known && wanted.includes(known)) return Promise.resolve(known);
    return new Promise((resolve) => {
      const onState = (state: CallState) => {
        if (!wanted.includes(state)) return;
        cleanup();
        resolve(state);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(undefined);
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.emitter.off(callId, onState);
      };
      this.emitter.on(callId, onState);
    });
  }
}
