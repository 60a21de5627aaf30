import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BouncerError } from '../../src/app/domain/errors.js';
import { CallStateEvents } from '../../src/app/moderation/call-events.js';
import { TtlCache } from '../../src/channels/teams/ttl-cache.js';
import { retryDelay } from '../../src/providers/retry.js';
import { graphParticipantSchema, toParticipant, type GraphParticipant } from '../../src/providers/teams/graph-schemas.js';
import { parseJoinUrl } from '../../src/providers/teams/join-url.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixturesDir = path.resolve(repoRoot, '../shared/contracts/fixtures');
const haveFixtures = existsSync(fixturesDir);
if (!haveFixtures) {
  console.warn(`[graph-helpers.test] ${fixturesDir} is absent: the recorded Graph notification tests are skipped.`);
}

describe('parseJoinUrl', () => {
  const joinUrl =
    'https://teams.microsoft.com/l/meetup-join/19%3ameeting_Win6Ydo4wsMijFjZS00ZGVjLTk5MGUtOTRjNWY2NmNkYTFm%40thread.v2/0' +
    '?context=%7b%22Tid%22%3a%2286dc81db-c112-4228-9222-63f3esaa1edb%22%2c%22Oid%22%3a%225810cede-f3cc-42eb-b2c1-e9bd5d53ec96%22%7d';

  it('reads thread, message, organizer and tenant from a real-shaped link', () => {
    expect(parseJoinUrl(joinUrl)).toEqual({
      threadId: '19:meeting_Win6Ydo4wsMijFjZS00ZGVjLTk5MGUtOTRjNWY2NmNkYTFm@thread.v2',
      messageId: '0',
      organizerId: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96',
      tenantId: '86dc81db-c112-4228-9222-63f3esaa1edb',
    });
  });

  it('accepts a context with extra fields', () => {
    const context = encodeURIComponent(JSON.stringify({ Tid: 'tenant', Oid: 'organizer', MessageId: '1' }));
    const url = `https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/1700000000000?context=${context}`;
    expect(parseJoinUrl(url)).toEqual({
      threadId: '19:meeting_abc@thread.v2',
      messageId: '1700000000000',
      organizerId: 'organizer',
      tenantId: 'tenant',
    });
  });

  const context = encodeURIComponent(JSON.stringify({ Tid: 'tenant', Oid: 'organizer' }));
  it.each([
    ['not a URL', 'meetup-join/19:x/0'],
    ['no meetup-join path', `https://teams.microsoft.com/l/channel/19%3ax/0?context=${context}`],
    ['no message id', `https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2?context=${context}`],
    ['no context', 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0'],
    ['a context that is not JSON', 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7bnope'],
    [
      'a context without an organizer',
      `https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=${encodeURIComponent('{"Tid":"t"}')}`,
    ],
    [
      'a context with an empty tenant',
      `https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=${encodeURIComponent('{"Tid":"","Oid":"o"}')}`,
    ],
  ])('rejects a link with %s as INVALID_JOIN_URL', (_label, url) => {
    let thrown: unknown;
    try {
      parseJoinUrl(url);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BouncerError);
    expect((thrown as BouncerError).code).toBe('INVALID_JOIN_URL');
  });
});

describe('retryDelay', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');

  it.each([
    ['0', 0],
    ['1', 1000],
    ['2.5', 2500],
    ['0.0001', 1],
  ])('reads Retry-After: %s seconds as %i ms', (header, ms) => {
    expect(retryDelay(header, 0, now)).toBe(ms);
  });

  it('reads an HTTP date relative to now', () => {
    expect(retryDelay('Sun, 22 Nov 2026 10:00:07 GMT', 0, now)).toBe(7000);
  });

  it('never returns a negative delay for a date in the past', () => {
    expect(retryDelay('Sun, 22 Nov 2026 09:59:00 GMT', 0, now)).toBe(0);
  });

  it.each([
    [null, 0, 500],
    [null, 1, 1000],
    [null, 3, 4000],
    ['', 2, 2000],
    ['soon', 1, 1000],
  ])('falls back to exponential backoff for Retry-After %j on attempt %i', (header, attempt, ms) => {
    expect(retryDelay(header, attempt, now)).toBe(ms);
  });

  // Neither is a number of seconds (>= 0) nor an HTTP date, but V8's lenient Date.parse reads both
  // as dates in 2001; the contract says they fall back to backoff, not to an immediate retry.
  it.each(['-5', 'abc 12'])('treats the malformed Retry-After %j as absent', (header) => {
    expect(retryDelay(header, 2, now)).toBe(2000);
  });
});

describe.skipIf(!haveFixtures)('toParticipant with documented Graph notifications', () => {
  function resourceData(name: string): { callId: string; participants: GraphParticipant[] } {
    const body = JSON.parse(readFileSync(path.join(fixturesDir, name), 'utf8')) as {
      value: Array<{ resourceUrl: string; resourceData: unknown[] }>;
    };
    const notification = body.value[0]!;
    const callId = /\/calls\/([^/]+)\//.exec(notification.resourceUrl)![1]!;
    return { callId, participants: notification.resourceData.map((p) => graphParticipantSchema.parse(p)) };
  }

  it('turns a user into kind user, and the bot into kind application (join-meeting roster)', () => {
    const { callId, participants } = resourceData('graph-notification.roster.join-meeting.docs.json');

    expect(participants.map((p) => toParticipant(callId, p))).toEqual([
      {
        callId: '2f1a1100-b174-40a0-aba7-0b405e01ed92',
        participantId: '0d7664b6-6432-43ed-8d27-d9e7adec188c',
        kind: 'user',
        identityId: '112f7296-5fa4-42ca-bae8-6a692b15d4b8',
        displayName: 'John',
        tenantId: undefined,
        isInLobby: false,
      },
      {
        callId: '2f1a1100-b174-40a0-aba7-0b405e01ed92',
        participantId: '05491616-385f-44a8-9974-18cc5f9933c1',
        kind: 'application',
        identityId: '2891555a-92ff-42e6-80fa-6e1300c6b5c6',
        displayName: 'Calling Bot',
        tenantId: undefined,
        isInLobby: false,
      },
    ]);
  });

  it('lower-cases the Entra object id of a user', () => {
    const { callId, participants } = resourceData('graph-notification.roster.join-meeting.docs.json');
    const user = structuredClone(participants[0]!);
    user.info!.identity!.user!.id = '112F7296-5FA4-42CA-BAE8-6A692B15D4B8';

    expect(toParticipant(callId, user)?.identityId).toBe('112f7296-5fa4-42ca-bae8-6a692b15d4b8');
  });

  it('returns undefined for a participant whose id is null (roster updated, user added)', () => {
    const { callId, participants } = resourceData('graph-notification.roster-updated.user-added.docs.json');

    expect(participants).toHaveLength(1);
    expect(participants[0]!.id).toBeNull();
    expect(toParticipant(callId, participants[0]!)).toBeUndefined();
  });

  it('keeps the tenant of a user when Graph gives it', () => {
    const { callId, participants } = resourceData('graph-notification.roster-updated.user-added.docs.json');
    const withId = { ...participants[0]!, id: 'participant-1' };

    expect(toParticipant(callId, withId)).toEqual({
      callId: 'a7ebfb2d-871e-419c-87af-27290b22e8db',
      participantId: 'participant-1',
      kind: 'user',
      identityId: '7e1b4346-85a6-4bdd-abe3-d11c5d420efe',
      displayName: undefined,
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      isInLobby: false,
    });
  });
});

describe('toParticipant with other identities', () => {
  it.each([
    ['guest', 'guest', { guest: { id: 'guest-1', displayName: 'Visitor' } }],
    ['phone', 'phone', { phone: { id: '+15555550100' } }],
    ['applicationInstance', 'application', { applicationInstance: { id: 'APP-INSTANCE' } }],
    ['no identity', 'unknown', {}],
  ] as const)('maps %s to kind %s', (_label, kind, identity) => {
    const p = toParticipant('call-1', { id: 'p-1', info: { identity }, isInLobby: true });
    expect(p?.kind).toBe(kind);
    expect(p?.isInLobby).toBe(true);
  });

  it('treats a null application identity as absent (docs payloads carry it)', () => {
    const p = toParticipant('call-1', { id: 'p-1', info: { identity: { application: null, user: { id: 'U' } } } });
    expect(p).toMatchObject({ kind: 'user', identityId: 'u', isInLobby: false });
  });
});

describe('TtlCache', () => {
  function clock(start = 1_000) {
    let t = start;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  }

  it('returns a value until its time to live has passed', () => {
    const c = clock();
    const cache = new TtlCache<string>(100, 10, c.now);
    cache.set('a', 'alpha');

    c.advance(99);
    expect(cache.get('a')).toBe('alpha');
    c.advance(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('restarts the time to live when a key is set again', () => {
    const c = clock();
    const cache = new TtlCache<string>(100, 10, c.now);
    cache.set('a', 'one');
    c.advance(80);
    cache.set('a', 'two');
    c.advance(80);

    expect(cache.get('a')).toBe('two');
  });

  it('drops the oldest entries beyond its size bound', () => {
    const cache = new TtlCache<number>(1_000, 2, clock().now);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 10); // re-setting makes "a" the newest
    cache.set('c', 3);

    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(10);
    expect(cache.get('c')).toBe(3);
  });

  it('given weights, bounds the sum of the weights: the oldest go until the rest fit, the newest stays', () => {
    const cache = new TtlCache<Set<string>>(1_000, 5, clock().now, (ids) => ids.size);
    cache.set('small', new Set(['x']));
    cache.set('middle', new Set(['a', 'b']));
    cache.set('big', new Set(['p', 'q', 'r']));
    // 1 + 2 + 3 > 5: only "small" has to go.
    expect(cache.get('small')).toBeUndefined();
    expect(cache.get('middle')?.size).toBe(2);
    expect(cache.get('big')?.size).toBe(3);

    cache.set('huge', new Set(['1', '2', '3', '4', '5', '6']));
    expect(cache.get('middle')).toBeUndefined();
    expect(cache.get('big')).toBeUndefined();
    expect(cache.get('huge')?.size).toBe(6);

    cache.delete('huge');
    cache.set('one', new Set(['1']));
    cache.set('two', new Set(['1', '2']));
    expect(cache.get('one')?.size).toBe(1);
    expect(cache.get('two')?.size).toBe(2);
  });

  it('getOrLoad loads once and serves the cached value afterwards', async () => {
    const c = clock();
    const cache = new TtlCache<string>(100, 10, c.now);
    let loads = 0;
    const load = async () => `value-${++loads}`;

    expect(await cache.getOrLoad('k', load)).toBe('value-1');
    expect(await cache.getOrLoad('k', load)).toBe('value-1');
    c.advance(100);
    expect(await cache.getOrLoad('k', load)).toBe('value-2');
    expect(loads).toBe(2);
  });

  it('getOrLoad caches null (a known "does not exist")', async () => {
    const cache = new TtlCache<string | null>(100, 10, clock().now);
    let loads = 0;
    const load = async () => {
      loads++;
      return null;
    };

    await cache.getOrLoad('k', load);
    expect(await cache.getOrLoad('k', load)).toBeNull();
    expect(loads).toBe(1);
  });

  it('getOrLoad does not cache failures', async () => {
    const cache = new TtlCache<string>(100, 10, clock().now);
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls === 1) throw new Error('outage');
      return 'recovered';
    };

    await expect(cache.getOrLoad('k', flaky)).rejects.toThrow('outage');
    expect(cache.get('k')).toBeUndefined();
    expect(await cache.getOrLoad('k', flaky)).toBe('recovered');
    expect(calls).toBe(2);
  });
});

describe('CallStateEvents', () => {
  it('resolves waitFor with the first wanted state', async () => {
    const events = new CallStateEvents();
    const waiting = events.waitFor('call-1', ['established', 'terminated'], 1_000);
    events.emit('call-1', 'established');

    await expect(waiting).resolves.toBe('established');
  });

  it('ignores unwanted states and other calls', async () => {
    const events = new CallStateEvents();
    const waiting = events.waitFor('call-1', ['established'], 1_000);
    events.emit('call-1', 'establishing');
    events.emit('call-2', 'established');
    events.emit('call-1', 'terminated');
    events.emit('call-1', 'established');

    await expect(waiting).resolves.toBe('established');
  });

  it('resolves undefined when the timeout passes first', async () => {
    const events = new CallStateEvents();
    const started = Date.now();
    const waiting = events.waitFor('call-1', ['established'], 20);
    events.emit('call-1', 'establishing');

    await expect(waiting).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('resolves at once when the wanted state was emitted before waitFor', async () => {
    const events = new CallStateEvents();
    events.emit('call-1', 'established');

    await expect(events.waitFor('call-1', ['established'], 10_000)).resolves.toBe('established');
    expect(events.lastState('call-1')).toBe('established');
  });

  it('does not resolve early from a remembered state that is not wanted', async () => {
    const events = new CallStateEvents();
    events.emit('call-1', 'establishing');

    await expect(events.waitFor('call-1', ['established'], 20)).resolves.toBeUndefined();
  });

  it('wakes every waiter of the call', async () => {
    const events = new CallStateEvents();
    const first = events.waitFor('call-1', ['terminated'], 1_000);
    const second = events.waitFor('call-1', ['established', 'terminated'], 1_000);
    events.emit('call-1', 'terminated');

    await expect(Promise.all([first, second])).resolves.toEqual(['terminated', 'terminated']);
  });
});
