import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';
import { findSubmit } from '../support/cards.js';

/** A guest's display name (or a conference's friendly name) that is Markdown: bold, and a link with text of its own. */
const HOSTILE = 'Eve **X** [clickme](https://evil.example)';
/** The same name as it must appear in Markdown text: every Markdown character escaped. */
const ESCAPED = 'Eve \\*\\*X\\*\\* \\[clickme\\]\\(https://evil.example\\)';

type Json = Record<string, unknown>;

/**
 * The strings of an Adaptive Card that are rendered as Markdown (TextBlock text, FactSet titles and
 * values, and the fallback text, which is the chat reply), and those shown as plain text (action titles).
 */
function cardStrings(card: unknown): { markdown: string[]; plain: string[] } {
  const markdown: string[] = [];
  const plain: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Json;
    if (o.type === 'TextBlock') markdown.push(String(o.text));
    if (o.type === 'FactSet') for (const f of o.facts as Array<{ title: string; value: string }>) markdown.push(f.title, f.value);
    if (o.type === 'AdaptiveCard' && typeof o.fallbackText === 'string') markdown.push(o.fallbackText);
    if (typeof o.type === 'string' && o.type.startsWith('Action.') && typeof o.title === 'string') plain.push(o.title);
    for (const [key, value] of Object.entries(o)) if (key !== 'data') walk(value);
  };
  walk(card);
  return { markdown, plain };
}

/** What Markdown would interpret in a string: the text with every backslash-escaped character removed. */
const live = (markdown: string) => markdown.replace(/\\[\s\S]/g, '');

/** No Markdown string of the card lets the hostile name render as bold or as a link; its escaped form is there. */
function expectNameEscaped(card: unknown) {
  const { markdown } = cardStrings(card);
  for (const text of markdown) {
    expect(live(text), text).not.toContain('**X**');
    expect(live(text), text).not.toMatch(/\[[^\]]*\]\(/);
    expect(live(text), text).not.toContain('[clickme]');
  }
  expect(markdown.some((text) => text.includes(ESCAPED))).toBe(true);
}

describe('hostile names in Teams cards (issue 11, item 12)', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('a guest named with Markdown shows escaped in the /participants card, its confirmation, the result card and /modlog', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    await h.graph.addPerson(callId!, { userId: randomUUID(), displayName: HOSTILE, tenantId: TENANT_ID });
    await h.graph.settle();

    await h.send(PEOPLE.olivia, '/participants', []);
    const roster = h.lastCard();
    expectNameEscaped(roster);
    // Button titles are plain text: the name as it is, without backslashes.
    expect(cardStrings(roster).plain).toContain(`Yes, remove ${HOSTILE}`);
    // The confirmation's Submit, as Teams posts it back.
    const submit = findSubmit(roster, `Yes, remove ${HOSTILE}`);
    await h.submit(PEOPLE.olivia, submit.data);
    // Not a member of the chat, so no meeting notification could tell them why first.
    expect(h.lastReply()).toBe(`Removed **${ESCAPED}** from the call. I couldn't tell them why first: the notice didn't reach them. Case #2.`);
    expectNameEscaped(h.lastCard());

    await h.send(PEOPLE.olivia, '/modlog', []);
    expectNameEscaped(h.lastCard());
  });

  it("a conference's friendly name with Markdown shows escaped in the /status card", async () => {
    // Olivia is an admin: binding by a conference's name may be for admins only.
    h = await startHarness({ ADMIN_USER_IDS: PEOPLE.olivia.aadObjectId }, { twilio: true });
    h.twilio!.fake.addConference({ friendlyName: HOSTILE, status: 'in-progress' });
    await h.send(PEOPLE.olivia, `/bind twilio ${HOSTILE}`, []);
    expect(h.lastReply()).toBe(`Connected to the phone conference **${ESCAPED}**; /kick works here now. Case #1.`);
    await h.send(PEOPLE.olivia, '/status', []);
    const status = h.lastCard();
    expectNameEscaped(status);
    const facts = cardStrings(status).markdown;
    expect(facts).toContain(`Twilio: ${ESCAPED}`);
  });
});

