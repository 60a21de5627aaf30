import http from 'node:http';
import { people } from './bench-world.js';
import { until, type BenchContext } from './context.js';
import { bind, countBy } from './kicks.js';
import { send } from './load.js';
import type { Check } from './report.js';

export const RAIDERS = 200;
export const REMOVALS_PER_SECOND = 20;
/** The least time the limit allows for every removal: 200 at 20 per second. */
export const RAID_FLOOR_MS = (RAIDERS / REMOVALS_PER_SECOND) * 1000;

export interface RaidResult {
  /** From the first kick sent to the last case completed, milliseconds. */
  completionMs: number;
  removed: number;
  answered: number;
  statuses: string;
  /** DELETEs the local Graph answered 429. */
  throttled: number;
  checks: Check[];
}

/**
 * A raid: RAIDERS people in one call, as many signed webhook kicks sent at once, and the local
 * Graph allowing REMOVALS_PER_SECOND removals a second (429 with Retry-After beyond). Measures the
 * time until every case is completed, and whether every caller got an answer.
 */
export async function raid(ctx: BenchContext): Promise<RaidResult> {
  const { graph } = ctx.world;
  const raiders = people('Raider', RAIDERS);
  const meeting = ctx.world.addMeeting('raid', raiders);
  const callId = await bind(ctx, meeting);
  await graph.settle();
  const lastCase = await ctx.ledger.lastId();
  const throttledBefore = graph.throttled;
  const removalsBefore = graph.removals.length;
  const agent = new http.Agent({ keepAlive: true, maxSockets: RAIDERS });
  graph.removalLimit = REMOVALS_PER_SECOND;
  const startedAt = Date.now();
  let answers: Array<{ status: number } | { error: string }>;
  try {
    answers = await Promise.all(
      raiders.map((r, i) =>
        send(new URL(ctx.urls[i % ctx.urls.length]!), agent, ctx.world.webhookKick(meeting.chatId, r.userId), 120_000).then(
          (a) => ({ status: a.status }),
          (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
        ),
      ),
    );
    // Answers may come before the removals do (a 202 while a removal is still queued).
    await until(async () => (await ctx.ledger.casesAfter(lastCase)).filter((c) => c.status === 'completed').length >= RAIDERS, 60_000, 100);
  } finally {
    graph.removalLimit = undefined;
    agent.destroy();
  }
  await graph.settle();

  const cases = (await ctx.ledger.casesAfter(lastCase)).filter((c) => c.callId === callId);
  const completed = cases.filter((c) => c.status === 'completed' && c.outcome === 'removed');
  const removals = graph.removals.slice(removalsBefore).filter((r) => r.callId === callId);
  const lastCompleted = Math.max(...completed.map((c) => Date.parse(c.completedAt ?? '')));
  const answered = answers.filter((a) => 'status' in a);
  const left = [...(graph.call(callId)?.participants.values() ?? [])].filter((p) =>
    raiders.some((r) => r.userId === (p.info as { identity?: { user?: { id?: string } } } | undefined)?.identity?.user?.id),
  ).length;
  return {
    completionMs: lastCompleted - startedAt,
    removed: removals.length,
    answered: answered.length,
    statuses: countBy(answers.map((a) => ('status' in a ? String(a.status) : 'no answer'))),
    throttled: graph.throttled - throttledBefore,
    checks: [
      {
        what: 'raid: every raider removed, once',
        ok: removals.length === RAIDERS && new Set(removals.map((r) => r.participantId)).size === RAIDERS && left === 0,
        detail: `${removals.length} removals for ${RAIDERS} raiders; ${left} raider(s) still in the call`,
      },
      {
        what: 'raid: one completed case per raider',
        ok: completed.length === RAIDERS && cases.length === RAIDERS,
        detail: `${cases.length} cases, ${completed.length} completed as removals`,
      },
    ],
  };
}
