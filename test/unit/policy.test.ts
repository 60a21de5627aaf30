import { describe, expect, it } from 'vitest';
import { decideKick, type KickPolicyInput } from '../../src/core/policy.js';

/** An ordinary kick: a member of the meeting removing someone else who is not the organizer. */
const base: KickPolicyInput = {
  actorRole: 'attendee',
  actorIsAdmin: false,
  targetIsActor: false,
  targetIsBot: false,
  targetIsOrganizer: false,
};

type Decision = ReturnType<typeof decideKick>;
const allowed: Decision = { allowed: true };
const denied = (reason: Extract<Decision, { allowed: false }>['reason']): Decision => ({ allowed: false, reason });

describe('decideKick', () => {
  it.each<[string, Partial<KickPolicyInput>, Decision]>([
    ['an organizer kicks an attendee', { actorRole: 'organizer' }, allowed],
    ['a presenter kicks an attendee', { actorRole: 'presenter' }, allowed],
    ['an attendee kicks someone', { actorRole: 'attendee' }, denied('not_permitted')],
    ['an actor whose role is unknown kicks someone', { actorRole: 'unknown' }, denied('unknown_role')],
    ['an admin whose role is unknown kicks someone', { actorRole: 'unknown', actorIsAdmin: true }, allowed],
    ['an admin who is only an attendee kicks someone', { actorRole: 'attendee', actorIsAdmin: true }, allowed],
    ['an organizer kicks themselves', { actorRole: 'organizer', targetIsActor: true }, denied('self')],
    ['an admin kicks themselves', { actorIsAdmin: true, targetIsActor: true }, denied('self')],
    ['an organizer kicks the bot', { actorRole: 'organizer', targetIsBot: true }, denied('bot')],
    ['an admin kicks the bot', { actorIsAdmin: true, targetIsBot: true }, denied('bot')],
    ['a presenter kicks the organizer', { actorRole: 'presenter', targetIsOrganizer: true }, denied('organizer')],
    ['an organizer kicks another organizer', { actorRole: 'organizer', targetIsOrganizer: true }, allowed],
    ['an admin presenter kicks the organizer', { actorRole: 'presenter', actorIsAdmin: true, targetIsOrganizer: true }, allowed],
    ['an admin with no role kicks the organizer', { actorRole: 'unknown', actorIsAdmin: true, targetIsOrganizer: true }, allowed],
    ['an attendee kicks the organizer', { actorRole: 'attendee', targetIsOrganizer: true }, denied('not_permitted')],
    // "Nobody kicks the bot or themselves" comes before any role check, so the reply names the real reason.
    ['an attendee kicks the bot', { actorRole: 'attendee', targetIsBot: true }, denied('bot')],
    ['an unknown-role actor kicks themselves', { actorRole: 'unknown', targetIsActor: true }, denied('self')],
  ])('%s', (_case, overrides, expected) => {
    expect(decideKick({ ...base, ...overrides })).toEqual(expected);
  });
});
