import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { contractFile } from '../support/protocol/openapi-contract.js';
import { MEETING_CHAT_ID, MEETING_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { until } from '../support/until.js';

// Issue 12, item 7: a warm first kick. When Teams says a chat's meeting started, Bouncer joins its
// call then, and the first kick costs what a warm one does: no join, no wait.

/** The documented meeting start payloads (../shared/contracts/fixtures), read at test time; undefined without the contracts. */
function fixture(name: string): Record<string, unknown> | undefined {
  const file = contractFile(`fixtures/${name}`);
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined;
}

const joins = (h: Harness) => h.graph.requests.filter((r) => r.method === 'POST' && r.path === '/communications/calls');

describe('the meeting start event', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  // Both documented casings: PascalCase (what botbuilder's own handler requires) and the 2023
  // camelCase one with a stray space in its name (on which botbuilder's handler throws).
  const payloads: Array<[string, Record<string, unknown>]> = [
    ['the PascalCase payload', { name: 'application/vnd.microsoft.meetingStart', value: { Id: MEETING_ID, JoinUrl: 'url', Title: 'Weekly', MeetingType: 'Scheduled', StartTime: new Date().toISOString() } }],
    ['the 2023 camelCase payload', { name: ' application/vnd.microsoft.meetingStart', value: { id: MEETING_ID, joinUrl: 'join_url', title: 'Weekly', meetingType: 'Scheduled', startTime: new Date().toISOString() } }],
  ];

  it.each(payloads)('joins the chat’s meeting call at once (%s); the first kick then joins nothing', async (_what, event) => {
    h = await startHarness();
    expect(await h.event(PEOPLE.olivia, event)).toBe(200);
    await until(() => joins(h).length === 1);
    await h.graph.settle();
    await until(() => h.logs.some((l) => l.includes('joined ahead of the first kick')));
    const binding = await h.bouncer.store.bindings.get(MEETING_CHAT_ID);
    expect(binding).toMatchObject({ provider: 'teams', state: 'established' });
    // Nothing said in the chat, nothing audited: nobody was acted on.
    expect(h.cases()).toEqual([]);

    const before = h.graph.requests.length;
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
    expect(joins(h)).toHaveLength(1);
    // The warm path: the DELETE is the only Graph request the kick made.
    expect(h.graph.requests.slice(before).map((r) => r.method)).toEqual(['DELETE']);
  });

  it('the documented fixtures reach the same handler', async () => {
    const pascal = fixture('teams-event.meeting-start.pascalcase.docs.json');
    const camel = fixture('teams-event.meeting-start.docs.json');
    if (!pascal || !camel) {
      console.warn('../shared/contracts not found: the documented meeting start payloads were not tried.');
      return;
    }
    h = await startHarness();
    // Their names and values as documented; the chat, meeting and sender are the test meeting's.
    for (const doc of [pascal, camel]) {
      expect(await h.event(PEOPLE.olivia, { name: doc.name, value: doc.value })).toBe(200);
    }
    await until(() => h.logs.filter((l) => l.includes('"msg":"meeting started"')).length === 2);
    await until(() => joins(h).length === 1);
    await h.graph.settle();
    expect(joins(h)).toHaveLength(1);
  });

  it('JOIN_ON_MEETING_START=false leaves the join to the first kick', async () => {
    h = await startHarness({ JOIN_ON_MEETING_START: 'false' });
    const [, event] = payloads[0]!;
    expect(await h.event(PEOPLE.olivia, event)).toBe(200);
    await until(() => h.logs.some((l) => l.includes('"msg":"meeting started"')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(joins(h)).toHaveLength(0);
  });

  it('a chat bound to a phone conference is left alone', async () => {
    h = await startHarness({}, { twilio: true });
    h.twilio!.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
    await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
    const [, event] = payloads[0]!;
    expect(await h.event(PEOPLE.olivia, event)).toBe(200);
    await until(() => h.logs.some((l) => l.includes('joined ahead of the first kick')));
    expect(h.logs.find((l) => l.includes('joined ahead of the first kick'))).toContain('bound_elsewhere');
    expect(joins(h)).toHaveLength(0);
    expect(await h.bouncer.store.bindings.get(MEETING_CHAT_ID)).toMatchObject({ provider: 'twilio' });
  });
});
