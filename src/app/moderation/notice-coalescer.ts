import type { ChatNotice, ChatNotifier, NoticeAddress } from '../ports/chat-notifier.js';
import type { Logger } from '../ports/runtime.js';

interface Window {
  to: NoticeAddress;
  /** Removals since the window opened, not told one by one. */
  count: number;
  timer: NodeJS.Timeout;
}

/**
 * Tells a chat about automatic removals without flooding it in a raid: the first removal at once,
 * then at most one summary per `intervalMs` ("removed 14 more banned people in the last 10 s")
 * for as long as removals keep coming. A quiet interval closes the window: the next removal is
 * told at once again. Per chat, in this process.
 */
export class NoticeCoalescer {
  private readonly windows = new Map<string, Window>();
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly notifier: ChatNotifier,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** One removal to tell `to` of: at once, or counted into the next summary. */
  removal(to: NoticeAddress, notice: ChatNotice): void {
    const open = this.windows.get(to.conversationId);
    if (open) {
      open.count++;
      open.to = to;
      return;
    }
    this.send(to, notice);
    this.open(to);
  }

  /** Sends the summaries still due (at shutdown) and stops every timer. */
  async flush(): Promise<void> {
    for (const [conversationId, w] of this.windows) {
      clearTimeout(w.timer);
      this.windows.delete(conversationId);
      if (w.count > 0) this.send(w.to, this.summary(w.count));
    }
    await Promise.allSettled([...this.sending]);
  }

  private open(to: NoticeAddress): void {
    const timer = setTimeout(() => this.close(to.conversationId), this.intervalMs);
    timer.unref();
    this.windows.set(to.conversationId, { to, count: 0, timer });
  }

  private close(conversationId: string): void {
    const w = this.windows.get(conversationId);
    if (!w) return;
    this.windows.delete(conversationId);
    if (w.count === 0) return;
    this.send(w.to, this.summary(w.count));
    // Removals may still be coming: the next summary waits a whole interval.
    this.open(w.to);
  }

  private summary(count: number): ChatNotice {
    return { kind: 'ban_enforced_summary', count, seconds: Math.round(this.intervalMs / 100) / 10 };
  }

  private send(to: NoticeAddress, notice: ChatNotice): void {
    const p: Promise<void> = this.notifier
      .notify(to, notice)
      .then(() => undefined)
      .catch((err: unknown) => this.logger.warn({ err, conversationId: to.conversationId }, 'could not notify the chat'))
      .finally(() => this.sending.delete(p));
    this.sending.add(p);
  }
}
