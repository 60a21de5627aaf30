import { afterEach, beforeEach } from 'vitest';
import type { CallBinding, Participant } from '../../../src/app/domain/participant.js';
import type { NewCase, Store } from '../../../src/app/ports/store.js';

/** The Teams channel's reply address of the fixtures' chat. */
export const REPLY_ADDRESS = '{"serviceUrl":"https://smba.trafficmanager.net/amer/"}';

/** A binding with sensible values; override what the test is about. */
export function binding(overrides: Partial<CallBinding> = {}): CallBinding {
  return {
    conversationId: '19:meeting_abc@thread.v2',
    provider: 'teams',
    callId: 'call-1',
    state: 'establishing',
    meetingId: 'meeting-1',
    joinUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0',
    tenantId: 'tenant-1',
    replyAddress: REPLY_ADDRESS,
    createdAt: '2026-11-22T10:00:00.000Z',
    updatedAt: '2026-11-22T10:00:00.000Z',
    ...overrides,
  };
}

/** A roster participant with sensible values. */
export function participant(participantId: string, overrides: Partial<Participant> = {}): Participant {
  return {
    callId: 'call-1',
    participantId,
    kind: 'user',
    identityId: `user-${participantId}`,
    displayName: `Person ${participantId}`,
    tenantId: 'tenant-1',
    isInLobby: false,
    phoneNumbers: [],
    ...overrides,
  };
}

/** A kick request as the moderation service would open it. */
export function newCase(overrides: Partial<NewCase> = {}): NewCase {
  return {
    createdAt: '2026-11-22T10:00:00.000Z',
    source: 'chat',
    action: 'kick',
    requestId: 'request-1',
    conversationId: '19:meeting_abc@thread.v2',
    actorUserId: 'actor-user',
    actorChatId: '29:actor',
    actorName: 'Alice',
    targetChatId: '29:mallory',
    targetName: 'Mallory',
    reason: 'spam',
    ...overrides,
  };
}

/** The participant ids of a roster, sorted. */
export const ids = (list: Participant[]): string[] => list.map((p) => p.participantId).sort();

/**
 * A fresh store for each test of the enclosing describe, closed afterwards. Call the returned
 * function inside a test to get it.
 */
export function freshStore(open: () => Promise<Store>): () => Store {
  let store: Store | undefined;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  return () => {
    if (!store) throw new Error('the store is only open inside a test');
    return store;
  };
}
