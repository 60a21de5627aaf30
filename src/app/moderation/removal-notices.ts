import type { ChatNotice, ChatNotifier, SystemRemoval } from '../ports/chat-notifier.js';
import type { Logger } from '../ports/runtime.js';
import type { BindingStore } from '../ports/store.js';

/** Removals named in one chat message at most (a Teams message holds about 28 KB). */
export const REMOVALS_PER_NOTICE = 50;

interface Window {
  /** Removals since the window opened, not told yet, in the order they were made. */
  removals: SystemRemoval[];
  timer: NodeJS.Timeout;
}

/**
 * Tells the chat bound to a call of the removals automated systems made in it (webhook kicks),
 * without a message per kick and without leaving one out: the first removal in a call at once;
 * those that follow within `windowMs` together when the window ends, in one message naming each
 * (at most REMOVALS_PER_NOTICE a message), and a new window opens for as long as removals keep
 * coming. A quiet window closes: the next removal is told at once again. Per call, in this
 * process; the chat is looked up once per message. `windowMs` 0: every removal at once, alone.
 * Off the request path: a failed message is logged, never thrown.
 */
export class RemovalNotices {
  private readonly windows = new Map<string, Window>();
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      bindings: Pick<BindingStore, 'findByCallId'>;
      notifier: ChatNotifier;
      windowMs: number;
      logger: Logger;
    },
  ) {}

  /** One removal to tell the call's chat of: at once, or with the others at the end of the window. */
  removed(removal: SystemRemoval): void {
    const callId = removal.outcome.callId;
    const open = this.windows.get(callId);
    if (open) {
      open.removals.push(removal);
      return;
    }
    this.send(callId, [removal]);
    if (this.deps.windowMs > 0) this.open(callId);
  }

  /** Tells what is still waiting (at shutdown), stops every timer, and waits for the messages to go. */
  async flush(): Promise<void> {
    for (const [callId, w] of this.windows) {
      clearTimeout(w.timer);
      this.windows.delete(callId);
      if (w.removals.length > 0) this.send(callId, w.removals);
    }
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  private open(callId: string): void {
    const timer = setTimeout(() => this.close(callId), this.deps.windowMs);
    timer.unref();
    this.windows.set(callId, { removals: [], timer });
  }

  private close(callId: string): void {
    const w = this.windows.get(callId);
    if (!w) return;
    this.windows.delete(callId);
    if (w.removals.length === 0) return;
    this.send(callId, w.removals);
    // Removals may still be coming: the next message waits a whole window.
    this.open(callId);
  }

  private send(callId: string, removals: readonly SystemRemoval[]): void {
    const p = this.tell(callId, removals)
      .catch((err: unknown) => this.deps.logger.warn({ err, callId, removals: removals.length }, 'could not notify the bound chat'))
      .finally(() => this.sending.delete(p));
    this.sending.add(p);
  }

  private async tell(callId: string, removals: readonly SystemRemoval[]): Promise<void> {
    const binding = await this.deps.bindings.findByCallId(callId);
    if (!binding?.conversationId || !binding.replyAddress) return;
    const to = { conversationId: binding.conversationId, replyAddress: binding.replyAddress, tenantId: binding.tenantId };
    for (let i = 0; i < removals.length; i += REMOVALS_PER_NOTICE) {
      const part = removals.slice(i, i + REMOVALS_PER_NOTICE);
      const notice: ChatNotice = part.length === 1 ? { kind: 'system_removal', ...part[0]! } : { kind: 'system_removals', removals: part };
      await this.deps.notifier.notify(to, notice);
    }
  }
}
