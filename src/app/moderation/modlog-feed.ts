import { performance } from 'node:perf_hooks';
import type { OutcomeKind } from '../domain/outcome.js';
import type { ChatNotifier, ModLogSummary } from '../ports/chat-notifier.js';
import type { Logger } from '../ports/runtime.js';
import type { AuditCase, Store } from '../ports/store.js';
import type { CompletedCase } from './completed-cases.js';

/** Cases shown one by one in a post; the rest since the last post are summed up. */
const SHOWN_PER_POST = 8;
/** Cases waiting at most; beyond, they are counted as dropped (the store still has each). */
const MAX_WAITING = 10_000;
/** How long the first case after a quiet spell waits for others to come with it. */
const GATHER_MS = 1_000;

/** What the feed has done since the start, for /healthz. */
export interface ModLogCounts {
  /** Posts that reached a mod-log channel. */
  posted: number;
  /** Posts that did not (the channel's answer, a deadline, or the store failing to give the cases). */
  failed: number;
  /** Cases never posted because too many were waiting. */
  dropped: number;
}

/**
 * Posts every case that completes in this instance to every mod-log channel (`/modlog here`), in
 * the background: nothing here is awaited by the action that completed the case, and a failed post
 * is logged and counted, never retried (the case is in the store; `/case <n>` shows it).
 *
 * Against a flood (a raid of 200 kicks), posts are coalesced and rate-limited per instance: at
 * most one post per `intervalMs` (MODLOG_INTERVAL_MS), each showing the first few cases since the
 * last post and summing up the rest (how many, their numbers, what they came to); the first case
 * after a quiet spell waits a moment (1 s at most) for others to come with it. At the default 5 s,
 * a channel gets at most 12 posts a minute from an instance, within what Teams allows a bot in one
 * conversation (60 per 30 s, 1800 an hour). One post at a time: a hung channel holds the next post
 * back for the notifier's deadline, while the cases wait (up to 10,000; more are counted as dropped).
 */
export class ModLogFeed {
  private waiting: CompletedCase[] = [];
  private timer?: NodeJS.Timeout;
  private posting?: Promise<void>;
  private lastPostAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  readonly counts: ModLogCounts = { posted: 0, failed: 0, dropped: 0 };

  constructor(
    private readonly deps: {
      /** The store itself (not the one that reports completed cases). */
      store: Pick<Store, 'cases' | 'modlog'>;
      notifier: ChatNotifier;
      logger: Logger;
      intervalMs: number;
    },
  ) {}

  /** A case reached its outcome: it will be posted with the next post. Never throws, never waits. */
  completed(c: CompletedCase): void {
    if (this.stopped) return;
    if (this.waiting.length >= MAX_WAITING) {
      this.counts.dropped++;
      return;
    }
    this.waiting.push(c);
    this.schedule();
  }

  /** Posts what is waiting (at shutdown) and stops; waits for the post in flight (each send has its deadline). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.posting;
    if (this.waiting.length > 0) await this.post();
  }

  private schedule(): void {
    if (this.timer || this.posting || this.stopped) return;
    const gather = Math.min(GATHER_MS, this.deps.intervalMs);
    const delay = Math.max(gather, this.lastPostAt + this.deps.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.posting = this.post().finally(() => {
        this.posting = undefined;
        if (this.waiting.length > 0) this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private async post(): Promise<void> {
    const batch = this.waiting.splice(0);
    if (batch.length === 0) return;
    this.lastPostAt = performance.now();
    try {
      const channels = await this.deps.store.modlog.list();
      if (channels.length === 0) return;
      const shown: AuditCase[] = [];
      const summed: CompletedCase[] = [];
      for (const c of batch) {
        const found = shown.length < SHOWN_PER_POST ? await this.deps.store.cases.get(c.id) : undefined;
        if (found) shown.push(found);
        else summed.push(c);
      }
      const notice = { kind: 'modlog' as const, cases: shown, ...(summed.length > 0 ? { more: summary(summed) } : {}) };
      const sent = await Promise.all(
        channels.map((ch) => this.deps.notifier.notify({ conversationId: ch.conversationId, replyAddress: ch.replyAddress, tenantId: ch.tenantId }, notice)),
      );
      for (const [i, ok] of sent.entries()) {
        if (ok) this.counts.posted++;
        else {
          this.counts.failed++;
          this.deps.logger.warn({ conversationId: channels[i]!.conversationId, cases: batch.length, failed: this.counts.failed }, 'a mod-log post failed');
        }
      }
    } catch (err) {
      this.counts.failed++;
      this.deps.logger.warn({ err, cases: batch.length, failed: this.counts.failed }, 'could not post to the mod-log channels');
    }
  }
}

function summary(cases: readonly CompletedCase[]): ModLogSummary {
  const outcomes: Partial<Record<OutcomeKind, number>> = {};
  for (const c of cases) outcomes[c.outcome] = (outcomes[c.outcome] ?? 0) + 1;
  const ids = cases.map((c) => c.id);
  return { count: cases.length, firstCaseId: Math.min(...ids), lastCaseId: Math.max(...ids), outcomes };
}
