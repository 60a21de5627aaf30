import { describe, expect, it } from 'vitest';
import type { Lockdown, Store } from '../../../src/app/ports/store.js';
import { freshStore } from './fixtures.js';

const JOIN_URL = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0';
const lockdown = (overrides: Partial<Lockdown> = {}): Lockdown => ({
  provider: 'teams',
  callKey: JOIN_URL,
  callId: 'call-1',
  conversationId: '19:meeting_abc@thread.v2',
  caseId: 7,
  source: 'chat',
  chat: false,
  mute: false,
  meeting: { organizerUserId: 'org-1', meetingId: 'MSpkYzE3' },
  saved: { lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: true }, allowAttendeeToEnableMic: true, allowMeetingChat: 'enabled' },
  startedAt: '2026-11-23T10:00:00.000Z',
  startedBy: 'user-1',
  ...overrides,
});

/** The behaviour of every LockdownStore. `open` returns a fresh, empty store for each test. */
export function runLockdownsContract(name: string, open: () => Promise<Store>): void {
  describe(`LockdownStore contract: ${name}`, () => {
    const store = freshStore(open);
    const lockdowns = () => store().lockdowns;

    it('starts a lockdown and finds it by any of its keys, as it was stored', async () => {
      expect(await lockdowns().begin(lockdown())).toEqual({ started: true, lockdown: lockdown() });
      expect(await lockdowns().find('teams', ['call-1', JOIN_URL])).toEqual(lockdown());
      expect(await lockdowns().find('teams', ['other'])).toBeUndefined();
      expect(await lockdowns().find('twilio', [JOIN_URL])).toBeUndefined();
    });

    it('a second lockdown keeps the first one (its saved options, case and start), adding only chat and mute', async () => {
      await lockdowns().begin(lockdown());
      const again = await lockdowns().begin(
        lockdown({ caseId: 9, chat: true, saved: { allowAttendeeToEnableMic: false }, startedAt: '2026-11-23T11:00:00.000Z', startedBy: 'user-2' }),
      );
      expect(again).toEqual({ started: false, lockdown: lockdown({ chat: true }) });
      // Asked without chat now, chat stays on.
      expect((await lockdowns().begin(lockdown({ caseId: 10 }))).lockdown.chat).toBe(true);
    });

    it('ends a lockdown once, giving it back as it was', async () => {
      await lockdowns().begin(lockdown({ provider: 'twilio', callKey: 'Support bridge', meeting: undefined, saved: undefined, mute: true, startedBy: undefined }));
      const ended = await lockdowns().end('twilio', 'Support bridge');
      expect(ended).toEqual(lockdown({ provider: 'twilio', callKey: 'Support bridge', meeting: undefined, saved: undefined, mute: true, startedBy: undefined }));
      expect(await lockdowns().end('twilio', 'Support bridge')).toBeUndefined();
      expect(await lockdowns().find('twilio', ['Support bridge'])).toBeUndefined();
      // Ended, a new lockdown saves afresh.
      expect((await lockdowns().begin(lockdown({ provider: 'twilio', callKey: 'Support bridge', caseId: 12 }))).started).toBe(true);
    });

    it('keeps each provider and call apart, and user ids lower case', async () => {
      await lockdowns().begin(lockdown({ startedBy: 'USER-X' }));
      await lockdowns().begin(lockdown({ callKey: 'other-meeting', caseId: 8 }));
      expect((await lockdowns().find('teams', [JOIN_URL]))?.startedBy).toBe('user-x');
      expect((await lockdowns().end('teams', 'other-meeting'))?.caseId).toBe(8);
      expect(await lockdowns().find('teams', [JOIN_URL])).toBeDefined();
    });
  });
}
