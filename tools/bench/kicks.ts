import { people, type BenchMeeting } from './bench-world.js';
import type { BenchContext } from './context.js';
import { until } from './context.js';
import { percentile, runLoad } from './load.js';
import { meterCpu, type CpuShare } from './processes.js';
import type { Check } from './report.js';
import { profileBench } from './self-profile.js';

/** Whom one webhook kick removes: a person in a call, named by the chat bound to that call. */
export interface KickTarget {
  conversationId: string;
  callId: string;
  userId: string;
}

/** A bound call of the bench's and the people in it. */
export interface SeededCall {
  meeting: BenchMeeting;
  callId: string;
  /** The people the bench put in it (the organizer and Bouncer's own leg aside). */
  people: Array<{ userId: string }>;
}

/** Binds the meeting's chat (/bind from its organizer) and returns its call. */
export async function bind(ctx: BenchContext, meeting: BenchMeeting): Promise<string> {
  const { answer } = await ctx.world.chatCommand(ctx.urls[0]!, meeting, '/bind');
  const callId = ctx.world.callOf(meeting);
  if (answer.status !== 200 || !callId) throw new Error(`could not bind ${meeting.name}: HTTP ${answer.status}, ${ctx.world.joinsOf(meeting).length} joins`);
  return callId;
}

/**
 * `count` calls of `size` people each, bound to their chats: the join's own roster notification
 * tells Bouncer who is in each (`size` people in one notification).
 */
export async function seedSmallCalls(ctx: BenchContext, name: string, count: number, size: number): Promise<SeededCall[]> {
  const calls: SeededCall[] = [];
  const pending = Array.from({ length: count }, (_, i) => i);
  const sentBefore = ctx.world.graph.notificationsSent.length;
  // A few binds at a time, as several meetings start at once.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = pending.shift(); i !== undefined; i = pending.shift()) {
        const inCall = people(`${name} ${i + 1} guest`, size);
        const meeting = ctx.world.addMeeting(`${name}-${i + 1}`, inCall);
        calls[i] = { meeting, callId: await bind(ctx, meeting), people: inCall };
      }
    }),
  );
  await ctx.world.graph.settle();
  refusedNotifications(ctx, sentBefore);
  return calls;
}

/**
 * One call of `size` people: bound while nearly empty, then filled as Graph tells Bouncer, by one
 * roster notification that holds the whole roster.
 */
export async function seedBigCall(ctx: BenchContext, name: string, size: number): Promise<SeededCall & { filledBy: string }> {
  const { graph } = ctx.world;
  const meeting = ctx.world.addMeeting(name, []);
  const callId = await bind(ctx, meeting);
  await graph.settle();
  const inCall = people(`${name} guest`, size);
  graph.joinQuietly(callId, inCall);
  const roster = graph.prepareRosterNotification(callId);
  const status = await roster.send();
  if (status < 200 || status > 299) {
    throw new Error(`Bouncer answered ${status} to a roster notification of ${roster.count} participants (${(roster.bytes / 2 ** 20).toFixed(1)} MiB)`);
  }
  return { meeting, callId, people: inCall, filledBy: `one roster notification of ${roster.count.toLocaleString('en-US')} participants (${(roster.bytes / 2 ** 20).toFixed(1)} MiB)` };
}

function refusedNotifications(ctx: BenchContext, sentBefore: number): void {
  const refused = ctx.world.graph.notificationsSent.slice(sentBefore).filter((n) => n.status < 200 || n.status > 299);
  if (refused.length > 0) {
    const statuses = [...new Set(refused.map((n) => n.status))].join(', ');
    throw new Error(
      `Bouncer refused ${refused.length} roster notification(s) (HTTP ${statuses})`,
    );
  }
}

/** `perCall` targets from each call, interleaved (the i-th kick goes to call i mod n). */
export function interleavedTargets(calls: readonly SeededCall[], perCall: number): KickTarget[] {
  const targets: KickTarget[] = [];
  for (let k = 0; k < perCall; k++) {
    for (const c of calls) {
      const person = c.people[k];
      if (person) targets.push({ conversationId: c.meeting.chatId, callId: c.callId, userId: person.userId });
    }
  }
  return targets;
}

/**
 * `count` people of one call, spread over its roster (every `length / count`-th, from `offset`: a
 * small offset picks people the same count from offset 0 does not, while the step is above it).
 */
export function spreadTargets(call: SeededCall, count: number, offset = 0): KickTarget[] {
  const step = Math.max(1, Math.floor(call.people.length / count));
  return Array.from({ length: Math.min(count, call.people.length) }, (_, i) => ({
    conversationId: call.meeting.chatId,
    callId: call.callId,
    userId: call.people[(offset + i * step) % call.people.length]!.userId,
  }));
}

export interface KickRun {
  label: string;
  sent: number;
  accepted: number;
  perSecond: number;
  p50: number;
  p99: number;
  elapsedMs: number;
  /** Graph DELETE requests made during the run, and those that removed someone. */
  deletes: number;
  removals: number;
  /** Graph list calls (GET …/participants) during the run: kicks that found a cold roster. */
  listCalls: number;
  /** Cases the run created, and those completed as removals. */
  cases: number;
  completedRemovals: number;
  /** Answers other than an accepted kick, e.g. "503 upstream-failure×1" ("" when every kick was accepted). */
  refused: string;
  /** Kicks that left no case (refused because the store was unavailable). */
  withoutCase: number;
  /** Graph notifications Bouncer answered 503 (busy) during the run. */
  busyNotifications: number;
  /** Who used the CPU during the run: Bouncer's processes (children), this one, and others. */
  cpu: CpuShare;
  checks: Check[];
}

/**
 * Signed webhook kicks, `concurrency` connections, until `durationMs` or the targets run out;
 * then checks that every accepted kick made one DELETE and one completed case.
 */
export async function measureKicks(ctx: BenchContext, label: string, targets: readonly KickTarget[], durationMs?: number): Promise<KickRun> {
  const { graph } = ctx.world;
  const requestsBefore = graph.requests.length;
  const notificationsBefore = graph.notificationsSent.length;
  const removalsBefore = graph.removals.length;
  const lastCase = await ctx.ledger.lastId();
  // Every kick built and signed before the clock (and the CPU meter) starts: each has a webhook-id
  // of its own and a timestamp Bouncer accepts for 5 minutes, and is verified as any other.
  const kicks = targets.map((t) => ctx.world.webhookKick(t.conversationId, t.userId));
  let stopMeter: (() => CpuShare) | undefined;
  let cpuShare: CpuShare | undefined;

  const load = await profileBench(ctx.benchCpuProfDir, label, () => runLoad({
    targets: ctx.urls,
    concurrency: ctx.concurrency,
    requests: kicks,
    durationMs,
    onStart: () => (stopMeter = meterCpu(ctx.bouncers)),
    onStop: () => (cpuShare = stopMeter?.()),
    read: (answer, i) => {
      let body: { caseId?: number; outcome?: string; type?: string } = {};
      try {
        body = JSON.parse(answer.body) as typeof body;
      } catch {
        // Not JSON: counted as not accepted below.
      }
      // A problem (RFC 9457) names itself by its type, urn:bouncer:problem:<name>.
      return { i, status: answer.status, caseId: body.caseId, outcome: body.outcome ?? body.type?.split(':').pop() };
    },
  }));
  if (!cpuShare) throw new Error(`${label}: the load generator never started its clock`);

  // Graph's "deleted" notifications, and any case still finishing (a 202 answer), settle first.
  await graph.settle();
  const answers = Array.from({ length: load.sent }, (_, i) => load.answers[i]);
  const accepted = answers.filter((a) => !!a && (a.status === 202 || (a.status === 200 && a.outcome === 'removed')));
  let cases = await ctx.ledger.casesAfter(lastCase);
  if (cases.some((c) => c.status === 'pending')) {
    await until(async () => (cases = await ctx.ledger.casesAfter(lastCase)).every((c) => c.status === 'completed'), 30_000, 100);
  }

  const sentTargets = targets.slice(0, load.sent);
  const runCalls = new Set(sentTargets.map((t) => t.callId));
  const requests = graph.requests.slice(requestsBefore);
  const deletes = requests.filter((r) => r.method === 'DELETE').length;
  const listCalls = requests.filter((r) => r.method === 'GET' && /\/participants(\?|$)/.test(r.path)).length;
  const removals = graph.removals.slice(removalsBefore).filter((r) => runCalls.has(r.callId));
  const uniqueRemovals = new Set(removals.map((r) => `${r.callId} ${r.participantId}`)).size;
  const completedRemovals = cases.filter((c) => c.status === 'completed' && c.outcome === 'removed');
  const completedIds = new Set(completedRemovals.map((c) => c.id));
  const acceptedWithoutCase = accepted.filter((a) => a?.caseId === undefined || !completedIds.has(a.caseId)).length;
  const targetsSent = new Set(sentTargets.map((t) => t.userId));

  const refused = answers.filter((a) => !accepted.includes(a));
  // A refused kick must have removed nobody: the caller was told it failed.
  const refusedTargets = new Set(refused.flatMap((a) => (a ? [sentTargets[a.i]!.userId] : [])));
  const removedAnyway = removals.filter((r) => r.userId !== undefined && refusedTargets.has(r.userId)).length;
  const notifications = graph.notificationsSent.slice(notificationsBefore);
  // 503 is Bouncer saying it is busy (its store), for the sender to retry: counted, not a failure.
  const busyNotifications = notifications.filter((n) => n.status === 503).length;
  const untaken = notifications.filter((n) => (n.status < 200 || n.status > 299) && n.status !== 503);
  const checks: Check[] = [
    {
      // A refusal is an answer (the sender may retry); a kick left without one is lost to its sender.
      what: `${label}: every kick answered`,
      ok: load.failures.length === 0,
      detail: `${load.sent - load.failures.length} of ${load.sent} answered${load.failures.length ? `; ${load.failures.length} without an answer: ${load.failures[0]!.error}` : ''}`,
    },
    {
      what: `${label}: one DELETE per accepted kick, none for a refused one`,
      ok: deletes === accepted.length && removals.length === accepted.length && uniqueRemovals === removals.length,
      detail:
        `${accepted.length} accepted, ${deletes} DELETEs, ${removals.length} removals (${uniqueRemovals} distinct participants)` +
        (removedAnyway ? `; ${removedAnyway} refused kick(s) removed their target anyway` : ''),
    },
    {
      // A kick refused because the store itself was unavailable may leave no case: it did nothing.
      what: `${label}: one completed case per accepted kick, no case left pending`,
      ok:
        acceptedWithoutCase === 0 &&
        completedRemovals.length === accepted.length &&
        cases.length <= load.sent &&
        cases.every((c) => c.status === 'completed') &&
        completedRemovals.every((c) => c.source === 'webhook' && !!c.targetUserId && targetsSent.has(c.targetUserId)),
      detail: `${cases.length} cases for ${load.sent} kicks (${cases.filter((c) => c.status !== 'completed').length} not completed), ${completedRemovals.length} completed as removals, ${acceptedWithoutCase} accepted kicks without a completed case`,
    },
    {
      what: `${label}: every Graph notification taken, or refused as busy (503)`,
      ok: untaken.length === 0,
      detail:
        `${notifications.length - untaken.length - busyNotifications} of ${notifications.length} answered 2xx, ${busyNotifications} 503` +
        `${untaken[0] ? `; first other: ${untaken[0].status || untaken[0].error}` : ''}`,
    },
  ];
  return {
    label,
    sent: load.sent,
    accepted: accepted.length,
    perSecond: load.perSecond,
    p50: percentile(load.latenciesMs, 50),
    p99: percentile(load.latenciesMs, 99),
    elapsedMs: load.elapsedMs,
    deletes,
    removals: removals.length,
    listCalls,
    cases: cases.length,
    completedRemovals: completedRemovals.length,
    refused: countBy(refused.map((a) => (a ? `${a.status}${a.outcome ? ` ${a.outcome}` : ''}` : 'no answer'))),
    withoutCase: Math.max(0, load.sent - cases.length),
    busyNotifications,
    cpu: cpuShare,
    checks,
  };
}

export function countBy(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${v}×${n}`).join(', ');
}
