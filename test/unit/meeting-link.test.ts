import { describe, expect, it } from 'vitest';
import { parseMeetingLink } from '../../src/providers/teams/join-url.js';

// Issue 11, item 16: the short meeting links Teams now issues, beside the meetup-join form.
describe('parseMeetingLink', () => {
  it('reads the meeting id and passcode of a short link', () => {
    expect(parseMeetingLink('https://teams.microsoft.com/meet/3567890123456?p=Xy7pQ2')).toEqual({ kind: 'meeting-id', joinMeetingId: '3567890123456', passcode: 'Xy7pQ2' });
    expect(parseMeetingLink('https://teams.microsoft.com/meet/3567890123456')).toEqual({ kind: 'meeting-id', joinMeetingId: '3567890123456' });
    expect(parseMeetingLink('https://teams.microsoft.com/meet/356%20789%20012%20345?p=a')).toMatchObject({ joinMeetingId: '356789012345' });
  });

  it('still reads meetup-join links', () => {
    const link = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent('19:meeting_x@thread.v2')}/0?context=${encodeURIComponent('{"Tid":"t","Oid":"o"}')}`;
    expect(parseMeetingLink(link)).toEqual({ kind: 'meetup', threadId: '19:meeting_x@thread.v2', messageId: '0', organizerId: 'o', tenantId: 't' });
  });

  it.each([
    'https://teams.microsoft.com/meet/abc?p=1',
    'https://teams.microsoft.com/meet/123?p=1',
    'https://teams.microsoft.com/meet/3567890123456?p=%20bad%20',
    'https://teams.microsoft.com/meet/',
    'not a url',
  ])('refuses %s', (link) => {
    expect(() => parseMeetingLink(link)).toThrow(expect.objectContaining({ code: 'INVALID_JOIN_URL' }));
  });
});
