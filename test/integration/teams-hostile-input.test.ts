import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';

describe('a 200 KiB hostile message (issue 11, item 13)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const hostile = '<<\u2039'.repeat(40 * 1024); // 5 bytes of UTF-8 each: 200 KiB

  it('gets a plain answer, and no command runs', async () => {
    expect(Buffer.byteLength(hostile)).toBe(200 * 1024);
    expect(await h.send(PEOPLE.olivia, `/kick ${hostile}`, [])).toBe(200);
    expect(h.lastReply()).toBe('That message is too long to be a command (over 4096 characters), so I did nothing. Commands are short: try `/help`.');
    expect(h.cases()).toEqual([]);
  });

  it('is ignored in a group chat when it is not meant for Bouncer', async () => {
    const before = h.connector.activities.length;
    expect(await h.send(PEOPLE.olivia, `hello ${hostile}`, [], { mentionBot: false })).toBe(200);
    // A short message after it is answered, so the long one was handled (and not answered) first.
    expect(await h.send(PEOPLE.olivia, '/help', [])).toBe(200);
    expect(h.connector.activities.slice(before)).toHaveLength(1);
    expect(h.lastReply()).toContain('`/help`');
  });
});
