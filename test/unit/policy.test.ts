import { describe, expect, it } from 'vitest';
import type { MeetingRole } from '../../src/app/ports/chat-directory.js';
import { authorityOf, decide, type Authority, type Decision, type TargetFacts } from '../../src/app/moderation/policy.js';

/** MODERATOR_ROLES by default, and with presenters added. */
const DEFAULT_ROLES: ReadonlySet<MeetingRole> = new Set(['organizer', 'coorganizer']);
const WITH_PRESENTERS: ReadonlySet<MeetingRole> = new Set(['organizer', 'coorganizer', 'presenter']);

/** An ordinary removal: a member of the meeting removing someone else who is not the organizer. */
interface RemovalCase {
  actorRole: Authority['role'];
  actorIsAdmin: boolean;
  actorIsNamed?: boolean;
  presentersModerate?: boolean;
  targetIsActor: boolean;
  targetIsBot: boolean;
  targetIsOrganizer: boolean;
}
const base: RemovalCase = { actorRole: 'attendee', actorIsAdmin: false, targetIsActor: false, targetIsBot: false, targetIsOrganizer: false };

const allowed: Decision = { allowed: true };
const denied = (reason: Extract<Decision, { allowed: false }>['reason']): Decision => ({ allowed: false, reason });

const remove = (c: RemovalCase): Decision => {
  const target: TargetFacts = { isActor: c.targetIsActor, isBot: c.targetIsBot, isOrganizer: c.targetIsOrganizer };
  const authority: Authority = {
    admin: c.actorIsAdmin,
    role: c.actorRole,
    moderatorRoles: c.presentersModerate ? WITH_PRESENTERS : DEFAULT_ROLES,
    named: c.actorIsNamed ?? false,
    userId: 'actor',
  };
  return decide({ kind: 'remove', authority, target });
};

describe('decide: remove', () => {
  it.each<[string, Partial<RemovalCase>, Decision]>([
    ['an organizer kicks an attendee', { actorRole: 'organizer' }, allowed],
    ['a co-organizer kicks an attendee', { actorRole: 'coorganizer' }, allowed],
    // Teams' default "Who can present: Everyone" makes every attendee a presenter: not a moderator by default.
    ['a presenter kicks an attendee (default MODERATOR_ROLES)', { actorRole: 'presenter' }, denied('not_permitted')],
    ['a presenter kicks an attendee (MODERATOR_ROLES with presenter)', { actorRole: 'presenter', presentersModerate: true }, allowed],
    ['a named moderator who is an attendee kicks an attendee', { actorRole: 'attendee', actorIsNamed: true }, allowed],
    ['a named moderator whose role is unknown kicks someone', { actorRole: 'unknown', actorIsNamed: true }, allowed],
    ['a named moderator kicks the organizer', { actorRole: 'attendee', actorIsNamed: true, targetIsOrganizer: true }, denied('organizer')],
    ['an attendee kicks someone', { actorRole: 'attendee' }, denied('not_permitted')],
    ['an actor whose role is unknown kicks someone', { actorRole: 'unknown' }, denied('unknown_role')],
    ['an admin whose role is unknown kicks someone', { actorRole: 'unknown', actorIsAdmin: true }, allowed],
    ['an admin who is only an attendee kicks someone', { actorRole: 'attendee', actorIsAdmin: true }, allowed],
    ['an organizer kicks themselves', { actorRole: 'organizer', targetIsActor: true }, denied('self')],
    ['an admin kicks themselves', { actorIsAdmin: true, targetIsActor: true }, denied('self')],
    ['an organizer kicks the bot', { actorRole: 'organizer', targetIsBot: true }, denied('bot')],
    ['an admin kicks the bot', { actorIsAdmin: true, targetIsBot: true }, denied('bot')],
    ['a presenter who moderates kicks the organizer', { actorRole: 'presenter', presentersModerate: true, targetIsOrganizer: true }, denied('organizer')],
    ['a co-organizer kicks the organizer', { actorRole: 'coorganizer', targetIsOrganizer: true }, denied('organizer')],
    ['an admin presenter kicks the organizer', { actorRole: 'presenter', actorIsAdmin: true, targetIsOrganizer: true }, allowed],
    ['an admin with no role kicks the organizer', { actorRole: 'unknown', actorIsAdmin: true, targetIsOrganizer: true }, allowed],
    ['an attendee kicks the organizer', { actorRole: 'attendee', targetIsOrganizer: true }, denied('not_permitted')],
    // "Nobody kicks the bot or themselves" comes before any role check, so the reply names the real reason.
    ['an attendee kicks the bot', { actorRole: 'attendee', targetIsBot: true }, denied('bot')],
    ['an unknown-role actor kicks themselves', { actorRole: 'unknown', targetIsActor: true }, denied('self')],
  ])('%s', (_case, overrides, expected) => {
    expect(remove({ ...base, ...overrides })).toEqual(expected);
  });
});

describe('decide: mute, unmute and warn a person (act_on_person)', () => {
  const actOn = (action: 'mute' | 'unmute' | 'warn', c: RemovalCase): Decision => {
    const target: TargetFacts = { isActor: c.targetIsActor, isBot: c.targetIsBot, isOrganizer: c.targetIsOrganizer };
    const authority: Authority = { admin: c.actorIsAdmin, role: c.actorRole, moderatorRoles: DEFAULT_ROLES, named: c.actorIsNamed ?? false, userId: 'actor' };
    return decide({ kind: 'act_on_person', action, authority, target });
  };

  it.each<[string, Partial<RemovalCase>, Decision]>([
    ['an organizer acts on an attendee', { actorRole: 'organizer' }, allowed],
    ['a named moderator acts on an attendee', { actorRole: 'attendee', actorIsNamed: true }, allowed],
    ['an attendee acts on someone', { actorRole: 'attendee' }, denied('not_permitted')],
    ['a presenter acts on someone (default MODERATOR_ROLES)', { actorRole: 'presenter' }, denied('not_permitted')],
    ['an unknown role acts on someone', { actorRole: 'unknown' }, denied('unknown_role')],
    ['a named moderator acts on the organizer', { actorRole: 'attendee', actorIsNamed: true, targetIsOrganizer: true }, denied('organizer')],
    ['a co-organizer acts on the organizer', { actorRole: 'coorganizer', targetIsOrganizer: true }, denied('organizer')],
    ['an admin acts on the organizer', { actorRole: 'attendee', actorIsAdmin: true, targetIsOrganizer: true }, allowed],
    ['an organizer acts on the bot', { actorRole: 'organizer', targetIsBot: true }, denied('bot')],
    ['an admin acts on the bot', { actorIsAdmin: true, targetIsBot: true }, denied('bot')],
    ['an organizer acts on themselves', { actorRole: 'organizer', targetIsActor: true }, denied('self')],
  ])('%s: the same answer for mute, unmute and warn, and as for a removal', (_case, overrides, expected) => {
    const c = { ...base, ...overrides };
    for (const action of ['mute', 'unmute', 'warn'] as const) expect(actOn(action, c)).toEqual(expected);
    expect(remove(c)).toEqual(expected);
  });
});

describe('decide: use a command', () => {
  const authority = (role: Authority['role'], admin = false): Authority => ({ admin, role, moderatorRoles: DEFAULT_ROLES, named: false, userId: 'actor' });

  it.each<[Authority['role'], boolean, Decision]>([
    ['organizer', false, allowed],
    ['coorganizer', false, allowed],
    ['presenter', false, denied('not_permitted')],
    ['attendee', false, denied('not_permitted')],
    ['unknown', false, denied('unknown_role')],
    ['attendee', true, allowed],
    ['unknown', true, allowed],
  ])('a moderator command for role %s (admin %s)', (role, admin, expected) => {
    expect(decide({ kind: 'use', permission: 'moderator', authority: authority(role, admin) })).toEqual(expected);
  });

  it('lets anyone use an "anyone" command, whatever the role', () => {
    for (const role of ['organizer', 'presenter', 'attendee', 'unknown'] as const) {
      expect(decide({ kind: 'use', permission: 'anyone', authority: authority(role) })).toEqual(allowed);
    }
  });
});

describe('decide: bind a meeting by its link', () => {
  it("allows the link's organizer and admins, nobody else (whatever their role in this chat)", () => {
    const base = { moderatorRoles: DEFAULT_ROLES, named: false };
    const organizer: Authority = { ...base, admin: false, role: 'unknown', userId: 'olivia' };
    expect(decide({ kind: 'bind_link', authority: organizer, confirmedOrganizerUserId: 'OLIVIA' })).toEqual(allowed);
    expect(decide({ kind: 'bind_link', authority: { ...base, admin: false, role: 'presenter', userId: 'pete' }, confirmedOrganizerUserId: 'olivia' })).toEqual(denied('not_permitted'));
    expect(decide({ kind: 'bind_link', authority: { ...base, admin: true, role: 'unknown' }, confirmedOrganizerUserId: 'olivia' })).toEqual(allowed);
    expect(decide({ kind: 'bind_link', authority: organizer })).toEqual(denied('not_permitted'));
  });
});

describe('decide: bind a call named by id or name (a Twilio conference)', () => {
  it("allows admins anywhere, and the chat's moderators only where the call is configured for the chat", () => {
    const bindCall = (authority: Authority, configuredForChat: boolean) => decide({ kind: 'bind_call', authority, configuredForChat });
    const authority = (role: Authority['role']): Authority => ({ admin: false, role, moderatorRoles: WITH_PRESENTERS, named: false, userId: 'actor' });
    for (const configured of [true, false]) expect(bindCall({ admin: true, role: 'unknown', moderatorRoles: DEFAULT_ROLES, named: false }, configured)).toEqual(allowed);
    for (const role of ['organizer', 'presenter'] as const) {
      expect(bindCall(authority(role), true)).toEqual(allowed);
      expect(bindCall(authority(role), false)).toEqual(denied('call_not_for_chat'));
    }
    // Not a moderator of this chat: configured or not, the usual answer.
    for (const configured of [true, false]) {
      expect(bindCall(authority('attendee'), configured)).toEqual(denied('not_permitted'));
      expect(bindCall(authority('unknown'), configured)).toEqual(denied('unknown_role'));
    }
  });
});

describe('decide: name moderators', () => {
  it("is for the meeting's organizer and co-organizers, and admins: never for a moderator who is neither", () => {
    const who = (role: Authority['role'], extra: Partial<Authority> = {}): Authority => ({ admin: false, role, moderatorRoles: WITH_PRESENTERS, named: false, userId: 'actor', ...extra });
    expect(decide({ kind: 'name_moderators', authority: who('organizer') })).toEqual(allowed);
    expect(decide({ kind: 'name_moderators', authority: who('coorganizer') })).toEqual(allowed);
    expect(decide({ kind: 'name_moderators', authority: who('unknown', { admin: true }) })).toEqual(allowed);
    expect(decide({ kind: 'name_moderators', authority: who('presenter') })).toEqual(denied('not_organizer'));
    expect(decide({ kind: 'name_moderators', authority: who('attendee', { named: true }) })).toEqual(denied('not_organizer'));
    expect(decide({ kind: 'name_moderators', authority: who('attendee') })).toEqual(denied('not_organizer'));
  });
});

describe('decide: ban everywhere (issue 13, item 2)', () => {
  it('is for admins only: never for the organizer or a named moderator, who still ban in their own chat', () => {
    const who = (role: Authority['role'], extra: Partial<Authority> = {}): Authority => ({ admin: false, role, moderatorRoles: WITH_PRESENTERS, named: false, userId: 'actor', ...extra });
    expect(decide({ kind: 'ban_everywhere', authority: who('attendee', { admin: true }) })).toEqual(allowed);
    expect(decide({ kind: 'ban_everywhere', authority: who('organizer') })).toEqual(denied('not_admin'));
    expect(decide({ kind: 'ban_everywhere', authority: who('attendee', { named: true }) })).toEqual(denied('not_admin'));
    expect(decide({ kind: 'use', permission: 'moderator', authority: who('organizer') })).toEqual(allowed);
  });
});

describe('decide: the mod-log channel and case tools (issue 14, items 4 and 5)', () => {
  const who = (role: Authority['role'], extra: Partial<Authority> = {}): Authority => ({ admin: false, role, moderatorRoles: DEFAULT_ROLES, named: false, userId: 'actor', ...extra });

  it('configuring the mod-log channel is for admins only, not even the organizer', () => {
    expect(decide({ kind: 'configure_modlog', authority: who('unknown', { admin: true }) })).toEqual(allowed);
    expect(decide({ kind: 'configure_modlog', authority: who('organizer') })).toEqual(denied('admins_only'));
    expect(decide({ kind: 'configure_modlog', authority: who('attendee', { named: true }) })).toEqual(denied('admins_only'));
  });

  it.each(['read_case', 'edit_reason'] as const)("%s: whoever moderates the case's chat, and admins", (kind) => {
    expect(decide({ kind, authority: who('organizer') })).toEqual(allowed);
    expect(decide({ kind, authority: who('coorganizer') })).toEqual(allowed);
    expect(decide({ kind, authority: who('attendee', { named: true }) })).toEqual(allowed);
    expect(decide({ kind, authority: who('unknown', { admin: true }) })).toEqual(allowed);
    expect(decide({ kind, authority: who('presenter') })).toEqual(denied('not_case_moderator'));
    expect(decide({ kind, authority: who('attendee') })).toEqual(denied('not_case_moderator'));
    // No chat, or a chat with no meeting and nobody named: only admins.
    expect(decide({ kind, authority: who('unknown') })).toEqual(denied('not_case_moderator'));
  });
});

describe('authorityOf', () => {
  const adminUserIds = new Set(['aaaaaaaa-0000-4000-8000-000000000001']);
  const rules = { adminUserIds, moderatorRoles: DEFAULT_ROLES };

  it('makes configured admins admins, matching their id in any case', () => {
    expect(authorityOf({ kind: 'member', userId: 'AAAAAAAA-0000-4000-8000-000000000001' }, 'attendee', rules)).toEqual({
      admin: true,
      role: 'attendee',
      moderatorRoles: DEFAULT_ROLES,
      named: false,
      userId: 'aaaaaaaa-0000-4000-8000-000000000001',
    });
    expect(authorityOf({ kind: 'member', userId: 'bbbbbbbb-0000-4000-8000-000000000002' }, 'presenter', rules).admin).toBe(false);
    expect(authorityOf({ kind: 'member' }, 'unknown', rules).admin).toBe(false);
    expect(authorityOf({ kind: 'member', userId: 'x' }, 'attendee', { ...rules, named: true }).named).toBe(true);
  });

  it('gives a system admin rights from its verified credential, not from where the request came', () => {
    const system = authorityOf(
      { kind: 'system', displayName: 'classifier', credential: { scheme: 'standard-webhooks', secretIndex: 0 } },
      'unknown',
      rules,
    );
    expect(system).toEqual({ admin: true, role: 'unknown', moderatorRoles: DEFAULT_ROLES, named: false });
  });

  it("gives Bouncer's own standing orders (a ban's enforcement) no authority", () => {
    expect(authorityOf({ kind: 'bouncer', displayName: 'Bouncer' }, 'unknown', rules)).toEqual({ admin: false, role: 'unknown', moderatorRoles: DEFAULT_ROLES, named: false });
  });
});

describe('decide: a webhook moderating the call it names (issue 11, item 5)', () => {
  const conference = { kind: 'call', provider: 'twilio', idOrName: `CF${'a'.repeat(32)}` } as const;
  const chat = { kind: 'conversation', conversationId: '19:meeting_x@thread.v2' } as const;
  const system = (callScope?: Authority['callScope']): Authority => ({ admin: true, role: 'unknown', moderatorRoles: DEFAULT_ROLES, named: false, callScope });

  it('an unscoped credential may act on any call', () => {
    expect(decide({ kind: 'moderate_call', authority: system(), call: conference })).toEqual(allowed);
  });

  it('a scoped credential may act only on the calls its scope names, as the request names them', () => {
    const scoped = system([conference, { kind: 'call', provider: 'twilio', idOrName: 'Support bridge' }]);
    expect(decide({ kind: 'moderate_call', authority: scoped, call: conference })).toEqual(allowed);
    expect(decide({ kind: 'moderate_call', authority: scoped, call: { ...conference, idOrName: conference.idOrName.toUpperCase().replace(/^CF/, 'cf') } })).toEqual(allowed);
    expect(decide({ kind: 'moderate_call', authority: scoped, call: { kind: 'call', provider: 'twilio', idOrName: 'Support bridge' } })).toEqual(allowed);
    expect(decide({ kind: 'moderate_call', authority: scoped, call: { kind: 'call', provider: 'twilio', idOrName: 'support bridge' } })).toEqual(denied('not_permitted'));
    expect(decide({ kind: 'moderate_call', authority: scoped, call: { kind: 'call', provider: 'teams', idOrName: conference.idOrName } })).toEqual(denied('not_permitted'));
    expect(decide({ kind: 'moderate_call', authority: scoped, call: chat })).toEqual(denied('not_permitted'));
    expect(decide({ kind: 'moderate_call', authority: system([chat]), call: chat })).toEqual(allowed);
    expect(decide({ kind: 'moderate_call', authority: scoped })).toEqual(denied('not_permitted'));
  });

  it("a system's authority carries its credential's scope", () => {
    const authority = authorityOf(
      { kind: 'system', displayName: 'classifier', credential: { scheme: 'standard-webhooks', secretIndex: 0, scope: [chat] } },
      'unknown',
      { adminUserIds: new Set(), moderatorRoles: DEFAULT_ROLES },
    );
    expect(authority.callScope).toEqual([chat]);
  });
});

describe('decide: lock a call down (issue 14, item 1)', () => {
  const who = (role: Authority['role'], extra: Partial<Authority> = {}): Authority => ({ admin: false, role, moderatorRoles: WITH_PRESENTERS, named: false, userId: 'actor', ...extra });
  it('is for organizers, co-organizers, named moderators and admins; never presenters, even where presenters moderate', () => {
    expect(decide({ kind: 'lockdown', authority: who('organizer') })).toEqual(allowed);
    expect(decide({ kind: 'lockdown', authority: who('coorganizer') })).toEqual(allowed);
    expect(decide({ kind: 'lockdown', authority: who('attendee', { named: true }) })).toEqual(allowed);
    expect(decide({ kind: 'lockdown', authority: who('unknown', { admin: true }) })).toEqual(allowed);
    expect(decide({ kind: 'lockdown', authority: who('presenter') })).toEqual(denied('not_permitted'));
    expect(decide({ kind: 'lockdown', authority: who('attendee') })).toEqual(denied('not_permitted'));
    expect(decide({ kind: 'lockdown', authority: who('unknown') })).toEqual(denied('unknown_role'));
  });
  it("asks a system's scope about the call its request names; raid mode is Bouncer's own", () => {
    const call = { kind: 'call' as const, provider: 'twilio', idOrName: 'Support bridge' };
    const scoped = who('unknown', { admin: true, callScope: [call] });
    expect(decide({ kind: 'lockdown', authority: scoped, call })).toEqual(allowed);
    expect(decide({ kind: 'lockdown', authority: scoped, call: { ...call, idOrName: 'Other' } })).toEqual(denied('not_permitted'));
    expect(decide({ kind: 'lockdown', authority: who('unknown'), raidMode: true })).toEqual(allowed);
  });
});
