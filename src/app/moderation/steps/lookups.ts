import { liveBinding, type CallBinding } from '../../domain/participant.js';
import type { MeetingDetails } from '../../ports/call-provider.js';
import type { ChatDirectory, ChatUser, MeetingRole } from '../../ports/chat-directory.js';
import type { ModerationDeps } from '../deps.js';
import { authorityOf, type Authority } from '../policy.js';
import type { RequestBase } from '../requests.js';

/** What the chat and the store say about a request's actor and call, looked up together. */
export interface Access {
  /** The actor's effective role in the chat's meeting. */
  role: MeetingRole;
  authority: Authority;
  /** The meeting's organizer: from the meeting, else from the binding (a chat bound by link). */
  organizerUserId?: string;
  meeting?: MeetingDetails;
  binding?: CallBinding;
}

/**
 * One request's lookups, each made at most once however many steps ask (the command runner's
 * permission check and the action share them). Independent lookups run together.
 */
export class RequestScope {
  private accessPromise?: Promise<Access>;
  private readonly users = new Map<string, Promise<ChatUser | undefined>>();
  private readonly elsewhere = new Map<string, Promise<Authority>>();

  constructor(
    readonly deps: ModerationDeps,
    readonly request: RequestBase,
    readonly directory: ChatDirectory,
    /** The scope of the whole request, when this is the scope of one of its parts: its lookups are shared. */
    private readonly whole?: RequestScope,
  ) {}

  /**
   * The scope of one part of a bulk request (one target of `/kick @a @b`, one entry of a bulk
   * webhook): the same actor and chat, so the same lookups, made once for every part; `changes`
   * are the part's own (its request id, idempotency keys, case hooks).
   */
  part(changes: Pick<RequestBase, 'requestId' | 'idempotencyKeys' | 'onCaseOpened' | 'keptAnswer'>): RequestScope {
    return new RequestScope(this.deps, { ...this.request, ...changes }, this.directory, this.whole ?? this);
  }

  /** The actor's role, the chat's meeting and the chat's binding (three lookups at once). */
  access(): Promise<Access> {
    if (this.whole) return this.whole.access();
    this.accessPromise ??= quiet(this.lookUp());
    return this.accessPromise;
  }

  /**
   * The actor's authority in a chat, which may not be the one the request came from (a case of
   * another chat): there, whether they were named its moderator, and their role in its meeting
   * (its binding's organizer, else the meeting asked about the actor). Admins need no lookup.
   * `undefined`: no chat (a case of a call named directly), where only an admin's authority counts.
   * Each chat is looked up once per request.
   */
  authorityIn(conversationId: string | undefined): Promise<Authority> {
    if (this.whole) return this.whole.authorityIn(conversationId);
    if (conversationId !== undefined && conversationId === this.request.conversationId) return this.access().then((a) => a.authority);
    const key = conversationId ?? '';
    let found = this.elsewhere.get(key);
    if (!found) {
      found = quiet(this.lookUpElsewhere(conversationId));
      this.elsewhere.set(key, found);
    }
    return found;
  }

  private async lookUpElsewhere(conversationId: string | undefined): Promise<Authority> {
    const { request, directory, deps } = this;
    const rules = { adminUserIds: deps.adminUserIds, moderatorRoles: deps.moderatorRoles };
    const bare = authorityOf(request.actor, 'unknown', rules);
    const actorId = request.actor.kind === 'member' ? request.actor.userId?.toLowerCase() : undefined;
    if (bare.admin || conversationId === undefined || actorId === undefined) return bare;
    const [binding, named] = await Promise.all([deps.store.bindings.get(conversationId), deps.store.moderators.has(conversationId, actorId)]);
    let role: MeetingRole = 'unknown';
    if (binding?.organizerUserId?.toLowerCase() === actorId) role = 'organizer';
    else if (binding?.meetingId && directory.getActorRoleInMeeting) role = await directory.getActorRoleInMeeting(binding.meetingId, binding.tenantId);
    return authorityOf(request.actor, role, { ...rules, named });
  }

  /** A chat member's directory identity (cached by the directory too). */
  user(chatId: string): Promise<ChatUser | undefined> {
    if (this.whole) return this.whole.user(chatId);
    let found = this.users.get(chatId);
    if (!found) {
      found = quiet(this.directory.getUser(chatId));
      this.users.set(chatId, found);
    }
    return found;
  }

  private async lookUp(): Promise<Access> {
    const { request, directory, deps } = this;
    const actorId = request.actor.kind === 'member' ? request.actor.userId?.toLowerCase() : undefined;
    const bound = request.conversationId === undefined ? Promise.resolve(undefined) : deps.store.bindings.get(request.conversationId);
    const [role, meeting, binding, named] = await Promise.all([
      // After the store's answer (no upstream call): the binding may say who the meeting's
      // organizer is, and the organizer's role needs no lookup. The meeting lookup does not wait.
      bound.then((b) => directory.getActorMeetingRole(b?.meetingId && b.organizerUserId ? { meetingId: b.meetingId, userId: b.organizerUserId } : undefined)),
      directory.getMeeting(),
      bound,
      request.conversationId === undefined || actorId === undefined ? false : deps.store.moderators.has(request.conversationId, actorId),
    ]);
    // In a chat bound to a meeting by its link there is no meeting role to read: the meeting's
    // organizer is known from the link, and is the organizer here too.
    const organizerUserId = meeting?.organizerUserId ?? liveBinding(binding)?.organizerUserId;
    const effective: MeetingRole =
      role === 'unknown' && !meeting && !!actorId && actorId === organizerUserId?.toLowerCase() ? 'organizer' : role;
    return {
      role: effective,
      authority: authorityOf(request.actor, effective, { adminUserIds: deps.adminUserIds, moderatorRoles: deps.moderatorRoles, named }),
      organizerUserId,
      meeting,
      binding,
    };
  }
}

/** A shared promise whose rejection is handled by whoever awaits it, never reported as unhandled. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
