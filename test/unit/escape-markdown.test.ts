import { describe, expect, it } from 'vitest';
import { escapeMarkdown } from '../../src/channels/teams/render-reply.js';

/** What Markdown would interpret: the text with every backslash-escaped character removed. */
const live = (markdown: string) => markdown.replace(/\\[\s\S]/g, '');

/** Issue 11, item 12: one escape for names in chat text and in cards. */
describe('escapeMarkdown', () => {
  it.each([
    ['a link', '[clickme](https://evil.example)', '\\[clickme\\]\\(https://evil.example\\)'],
    ['an image', '![x](https://evil.example/x.png)', '\\!\\[x\\]\\(https://evil.example/x.png\\)'],
    ['bold and italics', 'Eve **X** _y_', 'Eve \\*\\*X\\*\\* \\_y\\_'],
    ['code', '`rm -rf`', '\\`rm -rf\\`'],
    ['strikethrough', '~~gone~~', '\\~\\~gone\\~\\~'],
    ['a table cell', 'a | b', 'a \\| b'],
    ['HTML', '<b>x</b>', '\\<b\\>x\\</b\\>'],
    ['a heading', '# Title', '\\# Title'],
    ['a bullet at the start', '- item', '\\- item'],
    ['a plus bullet at the start', '+ item', '\\+ item'],
    ['a numbered item at the start', '1. item', '1\\. item'],
    ['line breaks', 'a\n# b\r\n- c', 'a \\# b - c'],
    ['a bullet alone', '-', '\\-'],
    ['a backslash', 'a\\b', 'a\\\\b'],
  ])('escapes %s', (_label, input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });

  it.each(['Olivia Organizer', 'Zoë ☎', 'Anne-Marie O’Neil', 'J. Smith', '-dash', '2.5 people'])('leaves %s as it is', (name) => {
    expect(escapeMarkdown(name)).toBe(name);
  });

  it('leaves a phone number as it is (a + without a space after it starts no list)', () => {
    expect(escapeMarkdown('+15551234567')).toBe('+15551234567');
  });

  it('leaves no link, emphasis or line break live in a hostile name', () => {
    const out = escapeMarkdown('Eve **X** [clickme](https://evil.example)\n\n# owned');
    expect(live(out)).not.toMatch(/[*[\]()#\n]/);
  });
});
