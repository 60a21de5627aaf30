import { randomUUID } from 'node:crypto';
import { TENANT_ID, type BenchMeeting, type ChatPerson } from './bench-world.js';
import { follow, until, type BenchContext } from './context.js';
import { bind } from './kicks.js';
import type { Check } from './report.js';

/** Latency the local Graph and Bot Connector add to every request while round trips are counted. */
export const INJECTED_LATENCY_MS = 250;

export interface RoundTrips {
  /** Sequential upstream round trips: elapsed ÷ latency, rounded. */
  trips: number;
  elapsedMs: number;
  /** The upstream requests made before the reply, in order, e.g. "Graph join, Graph DELETE, 2 Bot Connector lookups". */
  requests: string;
}

/** A person in the meeting's call who is also a member of its chat (a chat /kick can mention them). */
function member(meeting: string, i: number): ChatPerson {
  return { chatId: `29:bench-${meeting}-${i}`, name: `${meeting} member ${i}`, aadObjectId: randomUUID() };
}

function chatMeeting(ctx: BenchContext, name: string, members: number): { meeting: BenchMeeting; members: ChatPerson[] } {
  const list = Array.from({ length: members }, (_, i) => member(name, i + 1));
  const inCall = list.map((m) => ({ userId: m.aadObjectId, displayName: m.name, tenantId: TENANT_ID }));
  return { meeting: ctx.world.addMeeting(name, inCall, list), members: list };
}

/**
 * Times a chat /kick from the moment the activity is sent to the moment Bouncer's reply reaches
 * the Bot Connector: the upstream calls made before the reply, each costing the injected latency.
 */
async function timedKick(ctx: BenchContext, meeting: BenchMeeting, target: ChatPerson, checks: Check[], what: string): Promise<RoundTrips> {
  const { graph, connector } = ctx.world;
  const graphBefore = graph.requests.length;
  const connectorBefore = connector.calls.length;
  const sentAt = Date.now();
  const { id, answer } = await ctx.world.chatCommand(ctx.urls[0]!, meeting, '/kick @', target);
  const reply = ctx.world.connector.activities.find((a) => a.replyToId === id);
  const text = String(reply?.activity.text ?? (reply?.activity.attachments as Array<{ content?: { fallbackText?: string } }> | undefined)?.[0]?.content?.fallbackText ?? '');
  const ok = answer.status === 200 && !!reply?.receivedAt && text.startsWith('Removed');
  checks.push({ what: `${what}: the kick removed the person`, ok, detail: `HTTP ${answer.status}, reply: ${text.slice(0, 80) || '(none)'}` });
  const elapsedMs = (reply?.receivedAt ?? Date.now()) - sentAt;
  const graphCalls = graph.requests.slice(graphBefore).map((r) => graphRequestName(r.method, r.path));
  // The Bot Connector's calls before the reply: the lookups (the reply itself and later posts aside).
  const lookups = connector.calls.slice(connectorBefore).filter((c) => c.method === 'GET').length;
  const requests = [...graphCalls.map((n) => `Graph ${n}`), `${lookups} Bot Connector lookup${lookups === 1 ? '' : 's'}`].join(', ');
  return { trips: Math.round(elapsedMs / INJECTED_LATENCY_MS), elapsedMs, requests };
}

function graphRequestName(method: string, path: string): string {
  if (method === 'POST' && path === '/communications/calls') return 'join';
  if (method === 'GET' && /\/participants(\?|$)/.test(path)) return 'list';
  if (method === 'DELETE') return 'DELETE';
  return `${method} ${path.split('?')[0]!.replace(/[0-9a-f-]{36}/g, '{id}')}`;
}

/**
 * Sequential upstream round trips of a chat /kick at injected latency: (a) warm (the call joined
 * and established, one kick already made there), (b) the first kick in an unbound meeting chat,
 * (c) the first kick after Teams' meeting start event made Bouncer join ahead.
 */
export async function roundTrips(ctx: BenchContext): Promise<{ warm: RoundTrips; first: RoundTrips; prejoined: RoundTrips; checks: Check[] }> {
  const { graph, connector } = ctx.world;
  const checks: Check[] = [];
  const warmChat = chatMeeting(ctx, 'rt-warm', 2);
  const firstChat = chatMeeting(ctx, 'rt-first', 1);
  const preChat = chatMeeting(ctx, 'rt-prejoined', 1);

  // (a) Bound, and one kick made, before the latency is on.
  await bind(ctx, warmChat.meeting);
  await graph.settle();
  await timedKick(ctx, warmChat.meeting, warmChat.members[0]!, checks, 'round trips, warm-up kick');
  await graph.settle();

  graph.latencyMs = INJECTED_LATENCY_MS;
  connector.latencyMs = INJECTED_LATENCY_MS;
  try {
    const warm = await timedKick(ctx, warmChat.meeting, warmChat.members[1]!, checks, 'round trips, warm kick');
    await graph.settle();
    const first = await timedKick(ctx, firstChat.meeting, firstChat.members[0]!, checks, 'round trips, first kick');
    await graph.settle();

    // (c) The meeting starts; Bouncer joins after the event's turn. Its log says when that is done.
    const log = follow(ctx.bouncers[0]!.logFile);
    const started = await ctx.world.meetingStarted(ctx.urls[0]!, preChat.meeting);
    const joined = await until(
      () => log.lines().some((l) => l.includes('joined ahead of the first kick') && l.includes(preChat.meeting.chatId)),
      15_000,
    );
    await graph.settle();
    checks.push({
      what: 'round trips: the meeting start event joined the call',
      ok: started.answer.status === 200 && joined && ctx.world.joinsOf(preChat.meeting).length === 1,
      detail: `HTTP ${started.answer.status}, ${ctx.world.joinsOf(preChat.meeting).length} join(s), ${joined ? 'logged' : 'not logged within 15 s'}`,
    });
    const prejoined = await timedKick(ctx, preChat.meeting, preChat.members[0]!, checks, 'round trips, pre-joined first kick');
    return { warm, first, prejoined, checks };
  } finally {
    graph.latencyMs = 0;
    connector.latencyMs = 0;
    await graph.settle();
  }
}

/** Joins made by `kicks` concurrent first /kicks in one unbound meeting chat (the target: 1). */
export async function concurrentFirstKicks(ctx: BenchContext, kicks: number): Promise<{ joins: number; checks: Check[] }> {
  const { meeting, members } = chatMeeting(ctx, 'first-kicks', 1);
  const target = members[0]!;
  // Spread over the instances, when there are several: they too must make one join between them.
  const answers = await Promise.all(Array.from({ length: kicks }, (_, i) => ctx.world.chatCommand(ctx.urls[i % ctx.urls.length]!, meeting, '/kick @', target)));
  await ctx.world.graph.settle();
  const joins = ctx.world.joinsOf(meeting).length;
  const calls = new Set(ctx.world.graph.callIds.filter((id) => ctx.world.graph.call(id)?.threadId === meeting.chatId));
  const removals = ctx.world.graph.removals.filter((r) => calls.has(r.callId)).length;
  const ok = answers.filter((a) => a.answer.status === 200).length;
  return {
    joins,
    checks: [
      { what: `${kicks} concurrent first kicks: every turn answered`, ok: ok === kicks, detail: `${ok} of ${kicks} answered 200` },
      { what: `${kicks} concurrent first kicks: the person removed once`, ok: removals === 1, detail: `${removals} removal(s) in ${calls.size} call leg(s)` },
    ],
  };
}
