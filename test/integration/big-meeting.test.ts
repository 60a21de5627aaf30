import { afterEach, describe, expect, it } from 'vitest';
import type { SeedPerson } from '../../tools/sandbox/protocol/graph-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';

/** The harness's people in the call, plus `extra` others, as the sandbox Graph seeds a meeting. */
function meetingOf(extra: number): SeedPerson[] {
  const known = Object.values(PEOPLE)
    .filter((p) => p.inCall)
    .map((p) => ({ userId: p.aadObjectId, displayName: p.name, tenantId: TENANT_ID }));
  const others = Array.from({ length: extra }, (_, i) => ({
    userId: `0b0b0b0b-0000-4000-8000-${String(i).padStart(12, '0')}`,
    displayName: `Zz Attendee ${String(i).padStart(5, '0')}`,
    tenantId: TENANT_ID,
  }));
  return [...known, ...others];
}

type Card = Record<string, unknown> & { body: Array<Record<string, unknown>> };

describe('big meetings through the real server', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.graph.settle();
    await h?.close();
    h = undefined;
  });

  it('/participants shows the first 25 by name and says how many there are; /status counts everyone', async () => {
    h = await startHarness();
    h.graph.seedMeeting(MEETING_CHAT_ID, meetingOf(56));
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();

    await h.send(PEOPLE.olivia, '/participants', []);
    const lines = h.lastReply().split('\n');
    expect(lines[0]).toBe("In this meeting's call (60 people):");
    expect(lines.slice(1, 26)).toEqual([
      '- Ann Attendee',
      '- Mallory',
      '- Olivia Organizer',
      '- Pete Presenter',
      ...Array.from({ length: 21 }, (_, i) => `- Zz Attendee ${String(i).padStart(5, '0')}`),
    ]);
    expect(lines.slice(26)).toEqual(['Showing the first 25 of 60, by name. Use /kick @person for anyone else.']);

    const card = h.lastCard() as Card;
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: '60 in the call' });
    expect(card.body[1]).toMatchObject({ type: 'TextBlock', text: 'Showing the first 25 of 60, by name. Use /kick @person for anyone else.' });
    expect(card.body.filter((i) => i.type === 'Container')).toHaveLength(25);

    await h.send(PEOPLE.olivia, '/status', []);
    expect(h.lastReply()).toMatch(/^Connected to this meeting's call \(established\), 60 people in it\./);
  });

  it('a small meeting is listed whole, with its size', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();

    await h.send(PEOPLE.olivia, '/participants', []);
    expect(h.lastReply()).toBe("In this meeting's call (4 people):\n- Ann Attendee\n- Mallory\n- Olivia Organizer\n- Pete Presenter");
    expect((h.lastCard() as Card).body[0]).toMatchObject({ text: '4 in the call' });
  });
});
