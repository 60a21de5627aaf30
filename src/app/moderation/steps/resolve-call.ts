import { callBudgetMs } from '../../domain/deadline.js';
import { liveBinding, type CallBinding, type CallState, type ProviderKind } from '../../domain/participant.js';
import type { CallProvider, MeetingDetails } from '../../ports/call-provider.js';
import { meetingProviderEntry, now, providerOf, type ModerationDeps } from '../deps.js';
import type { CallRef, RequestBase, Unrecorded } from '../requests.js';
import type { Access } from './lookups.js';

export type Resolved = { provider: CallProvider; binding: CallBinding } | { outcome: Unrecorded };

/**
 * The provider and live call an action on a chat's call acts on: named directly, or the chat's
 * binding (joined on demand). `able` refuses a provider that cannot do the action, before anything
 * is asked of it (a join included).
 */
export async function resolveCall(
  deps: ModerationDeps,
  req: RequestBase & { call?: CallRef; expectedCallId?: string },
  access: Access,
  able?: (provider: CallProvider) => Unrecorded | undefined,
): Promise<Resolved> {
  let live: CallBinding | undefined;
  if (req.call) {
    // A webhook naming its chat: the binding the request's lookups read for that chat is the one.
    const own = req.call.kind === 'conversation' && req.call.conversationId === req.conversationId ? access : undefined;
    const explicit = await namedCall(deps, req.call, own);
    if ('outcome' in explicit) return explicit;
    live = explicit.binding;
  } else {
    live = liveBinding(access.binding);
    if (req.expectedCallId !== undefined && live?.callId !== req.expectedCallId) {
      return { outcome: { kind: 'not_bound', reason: 'card_stale' } };
    }
    // A chat whose call ended (or was unbound) is not silently switched to its meeting's call,
    // unless that call is what it was bound to.
    const ended = access.binding;
    if (!live && ended && !providerJoinsMeetings(deps, ended.provider)) return { outcome: { kind: 'not_bound', reason: 'no_binding' } };
  }
  const kind = live?.provider ?? meetingProviderEntry(deps)?.kind;
  if (kind === undefined) return { outcome: { kind: 'not_bound', reason: 'no_binding' } };
  const choice = providerOf(deps, kind);
  if ('missing' in choice) return { outcome: { kind: 'not_configured', missing: choice.missing } };
  const unable = able?.(choice.provider);
  if (unable) return { outcome: unable };
  const ensured = await ensureCall(deps, req, choice.provider, live, access.meeting);
  return 'outcome' in ensured ? ensured : { provider: choice.provider, binding: ensured.binding };
}

function providerJoinsMeetings(deps: ModerationDeps, kind: ProviderKind): boolean {
  return deps.providers.some((p) => p.kind === kind && p.joinsMeetings);
}

/**
 * A call named by a webhook: a bound chat, or a provider's call by id or name (its binding, or one
 * made up with no chat when a backend that needs no joining has the call but no chat is bound to it).
 */
export async function namedCall(
  deps: ModerationDeps,
  call: CallRef,
  /** The request's lookups, when they are of the chat `call` names: its binding is not read again. */
  own?: Pick<Access, 'binding'>,
): Promise<{ binding: CallBinding } | { outcome: Unrecorded }> {
  const { store } = deps;
  switch (call.kind) {
    case 'conversation': {
      const bound = liveBinding(own ? own.binding : await store.bindings.get(call.conversationId));
      return bound ? { binding: bound } : { outcome: { kind: 'not_bound', reason: 'no_binding' } };
    }
    case 'call': {
      const choice = providerOf(deps, call.provider);
      if ('missing' in choice) return { outcome: { kind: 'not_configured', missing: choice.missing } };
      const { provider } = choice;
      if (!provider.findCall) return { outcome: { kind: 'unsupported', provider: provider.kind, capability: 'find call' } };
      const found = await provider.findCall(call.idOrName);
      if (found.kind !== 'found') {
        const reason = found.kind === 'not_found' ? 'conference_not_found' : 'conference_not_in_progress';
        return { outcome: { kind: 'not_bound', reason, provider: provider.kind } };
      }
      const bound = liveBinding(await store.bindings.findByCallId(found.callId));
      // A provider that joins meetings acts only in calls Bouncer joined, and each of those has a
      // binding; its findCall takes the id on trust. An id no live binding holds is no call of ours:
      // not found, rather than a Graph 404 reported as an upstream failure (or a false "already gone").
      if (!bound && providerJoinsMeetings(deps, provider.kind)) return { outcome: { kind: 'not_bound', reason: 'conference_not_found', provider: provider.kind } };
      const at = now(deps);
      return {
        binding: bound ?? {
          conversationId: '',
          provider: provider.kind,
          callId: found.callId,
          callName: found.callName,
          state: 'established',
          createdAt: at,
          updatedAt: at,
        },
      };
    }
  }
}

/** Joins in flight, by provider, chat and meeting: per store, so per running Bouncer. */
const joinsInFlight = new WeakMap<object, Map<string, Promise<CallBinding>>>();

/** Runs `join` once for all concurrent callers with the same key; later callers share its result. */
function joinOnce(deps: Pick<ModerationDeps, 'store'>, key: string, join: () => Promise<CallBinding>): Promise<CallBinding> {
  let flights = joinsInFlight.get(deps.store);
  if (!flights) joinsInFlight.set(deps.store, (flights = new Map()));
  const running = flights.get(key);
  if (running) return running;
  const started = join().finally(() => flights.delete(key));
  flights.set(key, started);
  return started;
}

/**
 * Joins the meeting's call and binds the chat to it. Another instance may have bound the chat to
 * the same meeting's call meanwhile: then that binding is kept and this call leg is left, not
 * orphaned.
 */
async function join(
  deps: ModerationDeps,
  req: RequestBase,
  provider: CallProvider,
  conversationId: string,
  meeting: MeetingDetails,
  callbackUrl: string,
): Promise<CallBinding> {
  const { store, clock } = deps;
  const sameMeeting = (b: CallBinding | undefined) => (b && b.provider === provider.kind && b.joinUrl === meeting.joinUrl ? b : undefined);
  // Bound since this request read the chat's binding (a join that finished just before): use it.
  const current = sameMeeting(liveBinding(await store.bindings.get(conversationId)));
  if (current) return current;
  // Across instances: whoever claims the chat's join lease joins; the others wait for its binding.
  const lease = `join:${provider.kind}|${conversationId}|${meeting.joinUrl}`;
  const at = clock.now();
  const held = await store.idempotency.claim(lease, 'join', at.toISOString(), new Date(at.getTime() + JOIN_LEASE_MS).toISOString());
  if (held) {
    const bound = await pollUntil(() => store.bindings.get(conversationId).then((b) => sameMeeting(liveBinding(b))), callBudgetMs(JOIN_LEASE_MS));
    if (bound) return bound;
    // The other instance did not bind in time: join here. If it binds after all, one of the two
    // call legs loses the race below and is left.
  }
  try {
    if (!held) {
      // Claimed, but perhaps only because the instance that joined has just bound the chat and
      // released the lease (after this request's read above): use its binding, do not join again.
      const boundMeanwhile = sameMeeting(liveBinding(await store.bindings.get(conversationId)));
      if (boundMeanwhile) return boundMeanwhile;
    }
    return await joinAndBind(deps, req, provider, conversationId, meeting, callbackUrl);
  } finally {
    if (!held) await store.idempotency.release(lease).catch((err: unknown) => deps.logger.warn({ err, conversationId }, 'could not release the join lease'));
  }
}

/** How long an instance's claim to join a chat's meeting holds others back. */
const JOIN_LEASE_MS = 20_000;
/** How often a wait that another instance may end reads the store. */
const POLL_MS = 200;

/** Resolves with the first value `read` gives, reading every POLL_MS, or undefined after `timeoutMs`. */
async function pollUntil<T>(read: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
  }
}

/**
 * A call state the call's backend notified, to this instance (in memory, at once) or to another
 * one on the same database (its binding's state, read every POLL_MS): whichever comes first.
 */
async function waitForCallState(deps: ModerationDeps, callId: string, wanted: readonly CallState[], timeoutMs: number): Promise<CallState | undefined> {
  const done = new AbortController();
  const fromStore = pollUntil(async () => {
    if (done.signal.aborted) return 'stop' as const;
    const state = (await deps.store.bindings.findByCallId(callId))?.state;
    return state && wanted.includes(state) ? state : undefined;
  }, timeoutMs);
  try {
    const first = await Promise.race([deps.events.waitFor(callId, wanted, timeoutMs), fromStore]);
    return first === 'stop' ? undefined : first;
  } finally {
    done.abort();
  }
}

async function joinAndBind(
  deps: ModerationDeps,
  req: RequestBase,
  provider: CallProvider,
  conversationId: string,
  meeting: MeetingDetails,
  callbackUrl: string,
): Promise<CallBinding> {
  const { events, store } = deps;
  const joined = await provider.joinMeeting!({ joinUrl: meeting.joinUrl, tenantId: meeting.tenantId, organizerUserId: meeting.organizerUserId, callbackUrl });
  const rival = liveBinding(await store.bindings.get(conversationId));
  if (rival && rival.provider === provider.kind && rival.joinUrl === meeting.joinUrl && rival.callId !== joined.callId) {
    deps.logger.info({ callId: joined.callId, keptCallId: rival.callId, conversationId }, 'the chat was bound to this meeting meanwhile; leaving the extra call leg');
    await provider.leaveCall?.(joined.callId).catch((err: unknown) => deps.logger.warn({ err, callId: joined.callId }, 'could not leave the extra call leg'));
    return rival;
  }
  const at = now(deps);
  const binding: CallBinding = {
    conversationId,
    provider: provider.kind,
    callId: joined.callId,
    state: events.lastState(joined.callId) ?? joined.state,
    meetingId: meeting.meetingId,
    joinUrl: meeting.joinUrl,
    tenantId: meeting.tenantId,
    organizerUserId: meeting.organizerUserId,
    replyAddress: req.replyAddress,
    createdAt: at,
    updatedAt: at,
  };
  await store.bindings.save(binding);
  deps.logger.info({ callId: binding.callId, conversationId }, 'joined meeting call');
  return binding;
}

/**
 * The chat's live call. Where there is none yet and the provider can join meetings, joins the
 * chat's meeting (or `meeting`, for a bind by link) and waits for the call to be established.
 */
export async function ensureCall(
  deps: ModerationDeps,
  req: RequestBase,
  provider: CallProvider,
  live: CallBinding | undefined,
  meeting: MeetingDetails | undefined,
): Promise<{ binding: CallBinding } | { outcome: Unrecorded }> {
  const { callbackUrl, joinTimeoutMs } = deps;
  if (live && live.state === 'established') return { binding: live };
  let binding = live && live.state === 'establishing' ? live : undefined;
  if (!binding) {
    const conversationId = req.conversationId;
    if (!meeting || conversationId === undefined) return { outcome: { kind: 'not_bound', reason: 'not_a_meeting' } };
    if (!provider.joinMeeting) return { outcome: { kind: 'unsupported', provider: provider.kind, capability: 'join' } };
    // A link the backend cannot read (e.g. a newer short link) is an answer, not a crash.
    if (provider.meetingFromJoinUrl && !provider.meetingFromJoinUrl(meeting.joinUrl)) {
      return { outcome: { kind: 'not_bound', reason: 'invalid_join_link' } };
    }
    if (!callbackUrl) return { outcome: { kind: 'not_configured', missing: ['PUBLIC_BASE_URL'] } };
    // Concurrent first kicks in one chat share a single join.
    binding = await joinOnce(deps, `${provider.kind}|${conversationId}|${meeting.joinUrl}`, () =>
      join(deps, req, provider, conversationId, meeting, callbackUrl),
    );
  }
  if (binding.state === 'established') return { binding };
  // No longer than the command's deadline allows.
  const state = await waitForCallState(deps, binding.callId, ['established', 'terminated'], callBudgetMs(joinTimeoutMs));
  if (state === 'established') return { binding: { ...binding, state } };
  return { outcome: { kind: 'not_bound', reason: state === 'terminated' ? 'call_ended' : 'join_timeout' } };
}
