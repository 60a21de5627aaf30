import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../src/app/commands/command.js';
import type { KickArgs } from '../../src/app/commands/kick.js';
import { runCommand } from '../../src/app/commands/run-command.js';
import { UpstreamError } from '../../src/app/domain/errors.js';
import type { Outcome } from '../../src/app/domain/outcome.js';
import type { Participant } from '../../src/app/domain/participant.js';
import { CallStateEvents } from '../../src/app/moderation/call-events.js';
import type { ModerationDeps } from '../../src/app/moderation/deps.js';
import { Moderation } from '../../src/app/moderation/moderation.js';
import type { Actor } from '../../src/app/moderation/requests.js';
import type { CallProvider } from '../../src/app/ports/call-provider.js';
import { NO_CHAT, type ChatDirectory, type MeetingRole } from '../../src/app/ports/chat-directory.js';
import type { Store } from '../../src/app/ports/store.js';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { commandRegistry } from '../support/commands.js';

const ORGANIZER = 'aaaaaaaa-0000-4000-8000-000000000001';
const TARGET = 'aaaaaaaa-0000-4000-8000-000000000002';
const CONV = '19:meeting_x@thread.v2';

/** A CallProvider over an in-memory call; records what it was asked, and what the store held then. */
class MemoryCallProvider implements CallProvider {
  readonly kind = 'teams';
  readonly capabilities = { removeByLabel: false, phoneCallers: false, meetingNotifications: false };
  readonly removed: string[] = [];
  casesSeenAtDelete: Array<{ status: string; outcome?: string }> = [];
  constructor(
    private readonly store: Store,
    private readonly events: CallStateEvents,
    public participants: Participant[],
  ) {}
  async joinMeeting() {
    setImmediate(() => this.events.emit('call-1', 'established'));
    return { callId: 'call-1', state: 'establishing' as const };
  }
  async listParticipants() {
    return this.participants;
  }
  async removeParticipant(_callId: string, participantId: string) {
    const cases = await this.store.cases.list({ limit: 10 });
    this.casesSeenAtDelete.push(...cases.map((c) => ({ status: c.status, outcome: c.outcome })));
    if (participantId === 'boom') throw new UpstreamError('graph', 'Graph DELETE failed: 500', { status: 500, requestId: 'r-1', retryable: true });
    if (participantId === 'garbled') throw new UpstreamError('graph', 'Graph answered garbage', { code: 'UPSTREAM_INVALID_RESPONSE' });
    this.removed.push(participantId);
    return 'removed' as const;
  }
}

/** A ChatDirectory whose lookups only finish once all of them have started (so sequential calls would hang). */
function barrierDirectory(role: MeetingRole, expected: number): ChatDirectory & { started: string[] } {
  const started: string[] = [];
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  const enter = async (name: string) => {
    started.push(name);
    if (started.length >= expected) release();
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} ran alone`)), 500))]);
  };
  return {
    started,
    async getUser() {
      await enter('getUser');
      return { userId: TARGET, displayName: 'Mallory' };
    },
    async getActorMeetingRole() {
      await enter('getActorMeetingRole');
      return role;
    },
    async getMeeting() {
      await enter('getMeeting');
      return { meetingId: 'm-1', joinUrl: 'https://teams.microsoft.com/l/meetup-join/x/0', organizerUserId: ORGANIZER };
    },
    isBot: (chatId) => chatId === '28:bot',
  };
}

describe('Moderation through the command runner', () => {
  let store: SqliteStore;
  let events: CallStateEvents;
  let provider: MemoryCallProvider;
  let deps: ModerationDeps;

  const kick = commandRegistry.find((c) => c.name === 'kick')!;
  const status = commandRegistry.find((c) => c.name === 'status')!;
  const mention: KickArgs = { target: { kind: 'mention', chatId: '29:mallory', displayName: 'Mallory' }, reason: 'spam', dryRun: false };
  const olivia: Actor = { kind: 'member', chatId: '29:olivia', userId: ORGANIZER, displayName: 'Olivia' };

  async function run(
    args: KickArgs,
    directory: ChatDirectory,
    options: { actor?: Actor; source?: 'chat' | 'card' | 'webhook'; moderation?: Moderation; command?: typeof kick } = {},
  ): Promise<CommandResult> {
    const moderation = options.moderation ?? new Moderation(deps);
    const scope = moderation.scope(
      { source: options.source ?? 'chat', requestId: 'req-1', conversationId: CONV, actor: options.actor ?? olivia },
      directory,
    );
    return runCommand({ command: options.command ?? kick, args }, { moderation, scope }, commandRegistry);
  }
  const outcomeOf = (result: CommandResult): Outcome => {
    if (result.type !== 'outcome') throw new Error(`expected an outcome, got ${result.type}`);
    return result.outcome;
  };

  beforeEach(() => {
    store = SqliteStore.open(':memory:');
    events = new CallStateEvents();
    provider = new MemoryCallProvider(store, events, [
      { callId: 'call-1', participantId: 'p-target', kind: 'user', identityId: TARGET, isInLobby: false },
      { callId: 'call-1', participantId: 'p-other', kind: 'user', identityId: ORGANIZER, isInLobby: false },
    ]);
    deps = {
      store,
      providers: [{ kind: 'teams', joinsMeetings: true, provider, missing: [] }],
      events,
      clock: { now: () => new Date('2026-11-23T10:00:00Z') },
      logger: createLogger('silent'),
      adminUserIds: new Set(),
      callbackUrl: 'https://bouncer.example/api/calls',
      joinTimeoutMs: 1000,
      commandDeadlineMs: 60_000,
      notifyRemoved: false,
      moderatorRoles: new Set(['organizer', 'coorganizer']),
    };
  });
  afterEach(async () => {
    await store.close();
  });

  it('runs the target, role, meeting and binding lookups concurrently, the permission check included', async () => {
    const directory = barrierDirectory('organizer', 3);
    const outcome = outcomeOf(await run(mention, directory));
    expect(directory.started.sort()).toEqual(['getActorMeetingRole', 'getMeeting', 'getUser']);
    expect(outcome).toMatchObject({ kind: 'removed', participantIds: ['p-target'] });
  });

  it("tells the directory the meeting's organizer the chat's binding knows (its role lookup may be spared); the policy still decides", async () => {
    await store.bindings.save({
      conversationId: CONV,
      provider: 'teams',
      callId: 'call-1',
      state: 'established',
      meetingId: 'm-1',
      organizerUserId: ORGANIZER,
      createdAt: '2026-11-23T09:00:00.000Z',
      updatedAt: '2026-11-23T09:00:00.000Z',
    });
    const asked: unknown[] = [];
    const directory: ChatDirectory = {
      ...barrierDirectory('organizer', 0),
      getActorMeetingRole: async (known) => {
        asked.push(known);
        return 'attendee';
      },
    };
    // The directory answered "attendee": the kick is refused, whatever the binding said.
    const outcome = outcomeOf(await run(mention, directory));
    expect(asked).toEqual([{ meetingId: 'm-1', userId: ORGANIZER }]);
    expect(outcome).toMatchObject({ kind: 'denied' });
  });

  it('writes the case as pending before the DELETE and completes it after', async () => {
    const outcome = outcomeOf(await run(mention, barrierDirectory('organizer', 3)));
    expect(provider.casesSeenAtDelete).toEqual([{ status: 'pending', outcome: undefined }]);
    const stored = await store.cases.get(outcome.caseId);
    expect(stored).toMatchObject({ status: 'completed', outcome: 'removed', reason: 'spam', targetUserId: TARGET });
  });

  it('removes every endpoint of the same person', async () => {
    provider.participants.push({ callId: 'call-1', participantId: 'p-target-phone', kind: 'user', identityId: TARGET, isInLobby: false });
    const outcome = outcomeOf(await run(mention, barrierDirectory('organizer', 3)));
    expect(provider.removed.sort()).toEqual(['p-target', 'p-target-phone']);
    expect(outcome.kind).toBe('removed');
  });

  it('an outage during the DELETE completes the case as upstream_failed and keeps the request id', async () => {
    provider.participants = [{ callId: 'call-1', participantId: 'boom', kind: 'user', identityId: TARGET, isInLobby: false }];
    const outcome = outcomeOf(await run(mention, barrierDirectory('organizer', 3)));
    expect(outcome).toMatchObject({ kind: 'upstream_failed', service: 'graph', requestId: 'r-1', retryable: true });
    expect(await store.cases.get(outcome.caseId)).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
  });

  it('a malformed upstream answer is an audited upstream_failed case, recognised by its code', async () => {
    provider.participants = [{ callId: 'call-1', participantId: 'garbled', kind: 'user', identityId: TARGET, isInLobby: false }];
    const outcome = outcomeOf(await run(mention, barrierDirectory('organizer', 3)));
    expect(outcome).toMatchObject({ kind: 'upstream_failed', service: 'graph', retryable: false });
    expect(await store.cases.get(outcome.caseId)).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
  });

  it('an unknown meeting role is an audited denial, unless the actor is a configured admin', async () => {
    const denied = outcomeOf(await run(mention, barrierDirectory('unknown', 3)));
    expect(denied).toMatchObject({ kind: 'denied', reason: 'unknown_role' });
    // Refused by the runner before the action, and still recorded, naming the target as the directory knows it.
    expect(await store.cases.get(denied.caseId)).toMatchObject({ outcome: 'denied', targetUserId: TARGET, targetName: 'Mallory' });
    expect(provider.removed).toEqual([]);

    const asAdmin = new Moderation({ ...deps, adminUserIds: new Set([ORGANIZER]), clock: { now: () => new Date() } });
    expect(outcomeOf(await run(mention, barrierDirectory('unknown', 3), { moderation: asAdmin }))).toMatchObject({ kind: 'removed' });
    expect(provider.removed).toEqual(['p-target']);
  });

  it('enforces the permission for card buttons exactly as for typed commands', async () => {
    const card: KickArgs = { target: { kind: 'participant', participantId: 'p-target', displayName: 'Mallory' }, expectedCallId: 'call-1', dryRun: false };
    const attendee: Actor = { kind: 'member', chatId: '29:ann', userId: 'aaaaaaaa-0000-4000-8000-000000000009', displayName: 'Ann' };
    const outcome = outcomeOf(await run(card, barrierDirectory('attendee', 2), { actor: attendee, source: 'card' }));
    expect(outcome).toMatchObject({ kind: 'denied', reason: 'not_permitted' });
    expect(await store.cases.get(outcome.caseId)).toMatchObject({ source: 'card', action: 'kick', outcome: 'denied' });
    expect(provider.removed).toEqual([]);
  });

  it('refuses a read command to an attendee without recording a case', async () => {
    const attendee: Actor = { kind: 'member', chatId: '29:ann', userId: 'aaaaaaaa-0000-4000-8000-000000000009' };
    const result = await run({} as KickArgs, barrierDirectory('attendee', 2), { actor: attendee, command: status });
    expect(result).toEqual({ type: 'read', result: { kind: 'denied', reason: 'not_permitted' } });
    expect(await store.cases.list({ limit: 10 })).toEqual([]);
  });

  it('a system acts with the authority its verified credential gives, with no chat and no role', async () => {
    await store.bindings.save({
      conversationId: CONV,
      provider: 'teams',
      callId: 'call-1',
      state: 'established',
      createdAt: '2026-11-23T09:00:00.000Z',
      updatedAt: '2026-11-23T09:00:00.000Z',
    });
    const system: Actor = { kind: 'system', displayName: 'classifier', credential: { scheme: 'standard-webhooks', secretIndex: 0 } };
    const args: KickArgs = { target: { kind: 'user', userId: TARGET }, call: { kind: 'conversation', conversationId: CONV }, dryRun: false };
    const outcome = outcomeOf(await run(args, NO_CHAT, { actor: system, source: 'webhook' }));
    expect(outcome).toMatchObject({ kind: 'removed', participantIds: ['p-target'] });
    expect(await store.cases.get(outcome.caseId)).toMatchObject({ source: 'webhook', actorName: 'classifier' });
  });

  it("answers not_bound when the backend cannot read the meeting's join link, without joining", async () => {
    let joined = false;
    provider.joinMeeting = async () => {
      joined = true;
      return { callId: 'call-1', state: 'establishing' as const };
    };
    (provider as CallProvider).meetingFromJoinUrl = () => undefined;
    const outcome = outcomeOf(await run(mention, barrierDirectory('organizer', 3)));
    expect(outcome).toMatchObject({ kind: 'not_bound', reason: 'invalid_join_link' });
    expect(joined).toBe(false);
  });

  /** A directory that answers at once, as an organizer in the meeting. */
  const organizerDirectory = (): ChatDirectory => ({
    getUser: async (chatId) => (chatId === '29:mallory' ? { userId: TARGET, displayName: 'Mallory' } : undefined),
    getActorMeetingRole: async () => 'organizer',
    getMeeting: async () => ({ meetingId: 'm-1', joinUrl: 'https://teams.microsoft.com/l/meetup-join/x/0', organizerUserId: ORGANIZER }),
    isBot: (chatId) => chatId === '28:bot',
  });

  it('concurrent first kicks in one chat share a single join', async () => {
    let joins = 0;
    const join = provider.joinMeeting.bind(provider);
    provider.joinMeeting = async () => {
      joins++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return join();
    };
    const moderation = new Moderation(deps);
    const outcomes = (await Promise.all(Array.from({ length: 10 }, () => run(mention, organizerDirectory(), { moderation })))).map(outcomeOf);

    expect(joins).toBe(1);
    // Every kick waited for the one join and then acted on its call.
    expect(outcomes.map((o) => [o.kind, 'callId' in o ? o.callId : undefined])).toEqual(outcomes.map(() => ['removed', 'call-1']));
    expect(await store.bindings.get(CONV)).toMatchObject({ callId: 'call-1' });
  });

  it('a call leg that lost the race to bind the chat is left, and the binding that won is used', async () => {
    const left: string[] = [];
    (provider as CallProvider).leaveCall = async (callId: string) => void left.push(callId);
    provider.joinMeeting = async () => {
      // Another instance bound the chat to the same meeting's call while this join was in flight.
      await store.bindings.save({
        conversationId: CONV,
        provider: 'teams',
        callId: 'call-1',
        state: 'established',
        joinUrl: 'https://teams.microsoft.com/l/meetup-join/x/0',
        createdAt: '2026-11-23T10:00:00.000Z',
        updatedAt: '2026-11-23T10:00:00.000Z',
      });
      return { callId: 'call-extra', state: 'establishing' as const };
    };
    const outcome = outcomeOf(await run(mention, organizerDirectory()));

    expect(left).toEqual(['call-extra']);
    expect(outcome).toMatchObject({ kind: 'removed', callId: 'call-1' });
    expect(await store.bindings.get(CONV)).toMatchObject({ callId: 'call-1' });
  });

  it('times out with not_bound when the join is never established', async () => {
    provider.joinMeeting = async () => ({ callId: 'call-never', state: 'establishing' as const });
    const outcome = outcomeOf(await run(mention, barrierDirectory('organizer', 3)));
    expect(outcome).toMatchObject({ kind: 'not_bound', reason: 'join_timeout' });
    expect(provider.removed).toEqual([]);
  });
});
