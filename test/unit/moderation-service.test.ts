import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallStateEvents } from '../../src/core/call-events.js';
import { UpstreamError } from '../../src/core/errors.js';
import { ModerationService, type KickRequest } from '../../src/core/moderation-service.js';
import type { Participant } from '../../src/core/participant.js';
import type { CallProvider, ChatDirectory, MeetingRole, Store } from '../../src/core/ports.js';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const ORGANIZER = 'aaaaaaaa-0000-4000-8000-000000000001';
const TARGET = 'aaaaaaaa-0000-4000-8000-000000000002';
const CONV = '19:meeting_x@thread.v2';

/** A CallProvider over an in-memory call; records what it was asked, and what the store held then. */
class MemoryCallProvider implements CallProvider {
  readonly kind = 'teams' as const;
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
    const cases = await this.store.listCases({ limit: 10 });
    this.casesSeenAtDelete.push(...cases.map((c) => ({ status: c.status, outcome: c.outcome })));
    if (participantId === 'boom') throw new UpstreamError('graph', 'Graph DELETE failed: 500', { status: 500, requestId: 'r-1', retryable: true });
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
  };
}

describe('ModerationService', () => {
  let store: SqliteStore;
  let events: CallStateEvents;
  let provider: MemoryCallProvider;
  let service: ModerationService;

  const kick = (): KickRequest => ({
    action: 'kick',
    source: 'chat',
    requestId: 'req-1',
    conversationId: CONV,
    botChatId: '28:bot',
    actor: { chatId: '29:olivia', userId: ORGANIZER, displayName: 'Olivia' },
    target: { kind: 'mention', chatId: '29:mallory', displayName: 'Mallory' },
    reason: 'spam',
  });

  beforeEach(() => {
    store = SqliteStore.open(':memory:');
    events = new CallStateEvents();
    provider = new MemoryCallProvider(store, events, [
      { callId: 'call-1', participantId: 'p-target', kind: 'user', identityId: TARGET, isInLobby: false },
      { callId: 'call-1', participantId: 'p-other', kind: 'user', identityId: ORGANIZER, isInLobby: false },
    ]);
    service = new ModerationService({
      store,
      providers: { teams: provider },
      missingConfig: {},
      events,
      clock: { now: () => new Date('2026-11-23T10:00:00Z') },
      logger: createLogger('silent'),
      adminUserIds: new Set(),
      callbackUrl: 'https://bouncer.example/api/calls',
      joinTimeoutMs: 1000,
    });
  });
  afterEach(async () => {
    await store.close();
  });

  it('runs the target, role, meeting and binding lookups concurrently', async () => {
    const directory = barrierDirectory('organizer', 3);
    const outcome = await service.execute(kick(), directory);
    expect(directory.started.sort()).toEqual(['getActorMeetingRole', 'getMeeting', 'getUser']);
    expect(outcome).toMatchObject({ kind: 'removed', participantIds: ['p-target'] });
  });

  it('writes the case as pending before the DELETE and completes it after', async () => {
    const outcome = await service.execute(kick(), barrierDirectory('organizer', 3));
    expect(provider.casesSeenAtDelete).toEqual([{ status: 'pending', outcome: undefined }]);
    const stored = await store.getCase(outcome.caseId);
    expect(stored).toMatchObject({ status: 'completed', outcome: 'removed', reason: 'spam', targetUserId: TARGET });
  });

  it('removes every endpoint of the same person', async () => {
    provider.participants.push({ callId: 'call-1', participantId: 'p-target-phone', kind: 'user', identityId: TARGET, isInLobby: false });
    const outcome = await service.execute(kick(), barrierDirectory('presenter', 3));
    expect(provider.removed.sort()).toEqual(['p-target', 'p-target-phone']);
    expect(outcome.kind).toBe('removed');
  });

  it('an outage during the DELETE completes the case as upstream_failed and keeps the request id', async () => {
    provider.participants = [{ callId: 'call-1', participantId: 'boom', kind: 'user', identityId: TARGET, isInLobby: false }];
    const outcome = await service.execute(kick(), barrierDirectory('organizer', 3));
    expect(outcome).toMatchObject({ kind: 'upstream_failed', service: 'graph', requestId: 'r-1', retryable: true });
    expect(await store.getCase(outcome.caseId)).toMatchObject({ status: 'completed', outcome: 'upstream_failed' });
  });

  it('an unknown meeting role is a denial, unless the actor is a configured admin', async () => {
    const denied = await service.execute(kick(), barrierDirectory('unknown', 3));
    expect(denied).toMatchObject({ kind: 'denied', reason: 'unknown_role' });
    expect(provider.removed).toEqual([]);

    const asAdmin = new ModerationService({
      store,
      providers: { teams: provider },
      missingConfig: {},
      events,
      clock: { now: () => new Date() },
      logger: createLogger('silent'),
      adminUserIds: new Set([ORGANIZER]),
      callbackUrl: 'https://bouncer.example/api/calls',
      joinTimeoutMs: 1000,
    });
    expect(await asAdmin.execute(kick(), barrierDirectory('unknown', 3))).toMatchObject({ kind: 'removed' });
    expect(provider.removed).toEqual(['p-target']);
  });

  it("answers not_bound when the backend cannot read the meeting's join link, without joining", async () => {
    let joined = false;
    provider.joinMeeting = async () => {
      joined = true;
      return { callId: 'call-1', state: 'establishing' as const };
    };
    (provider as CallProvider).meetingFromJoinUrl = () => undefined;
    const outcome = await service.execute(kick(), barrierDirectory('organizer', 3));
    expect(outcome).toMatchObject({ kind: 'not_bound', reason: 'invalid_join_link' });
    expect(joined).toBe(false);
  });

  it('times out with not_bound when the join is never established', async () => {
    provider.joinMeeting = async () => ({ callId: 'call-never', state: 'establishing' as const });
    const outcome = await service.execute(kick(), barrierDirectory('organizer', 3));
    expect(outcome).toMatchObject({ kind: 'not_bound', reason: 'join_timeout' });
    expect(provider.removed).toEqual([]);
  });
});
