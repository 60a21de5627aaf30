import { EventEmitter } from 'node:events';
import type { CallState } from '../domain/participant.js';

const REMEMBERED_CALLS = 1000;

/**
 * In-process signal that a call changed state, so a request that just joined a call can wait for
 * the "established" notification instead of polling. The last state of recent calls is remembered,
 * because Graph may notify before the join request's own response has been handled.
 * (With several instances the notification may land on another one: waiters then time out.)
 */
export class CallStateEvents {
  private readonly emitter = new EventEmitter();
  private readonly last = new Map<string, CallState>();

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
