import { describe, expect, it } from 'vitest';
import { noticeWords, NOTICE_REASON_MAX_CHARS } from '../../src/app/domain/notice.js';
import { speechMs } from '../../src/providers/twilio/announcements.js';
import { twimlSay } from '../../src/providers/twilio/twilio-announce-route.js';

describe('private notices: their words, and the TwiML that says them', () => {
  it('words a warning and a removal, with the reason on one line and bounded', () => {
    expect(noticeWords({ kind: 'warning', reason: 'stop\nshouting' })).toEqual({
      title: 'A warning from the moderators',
      text: 'A moderator of this call warns you: stop shouting',
    });
    expect(noticeWords({ kind: 'removal' }).text).toBe('A moderator is removing you from this call.');
    expect(noticeWords({ kind: 'removal', reason: 'spam' }).text).toBe('A moderator is removing you from this call. Reason: spam');
    const long = noticeWords({ kind: 'warning', reason: 'x'.repeat(1000) }).text;
    expect(long.length).toBe('A moderator of this call warns you: '.length + NOTICE_REASON_MAX_CHARS);
  });

  it('escapes the five XML characters and drops characters XML cannot hold', () => {
    expect(twimlSay(`a <b> & "c" 'd'\u0000\u0007e\uD800f 😀`)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;ef 😀</Say></Response>',
    );
  });

  it('estimates the time to say a notice, about 150 words a minute, at most 20 s', () => {
    expect(speechMs('one two three four five')).toBe(3000);
    expect(speechMs('word '.repeat(500))).toBe(20_000);
  });
});
