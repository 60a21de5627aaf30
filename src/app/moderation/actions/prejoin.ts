import { liveBinding } from '../../domain/participant.js';
import { meetingProviderEntry, providerOf } from '../deps.js';
import type { RequestScope } from '../steps/lookups.js';
import { ensureCall } from '../steps/resolve-call.js';

/** What a meeting-start join came to (for the log: nothing is said in the chat, nothing audited). */
export type PrejoinResult =
  | { kind: 'joined'; callId: string }
  | { kind: 'skipped'; reason: 'already_joined' | 'bound_elsewhere' | 'not_a_meeting' | 'not_configured' | 'not_joined' };

/**
 * The chat's meeting has started: join its call now, as the chat's first kick would, so that the
 * first kick costs what a warm one does. Only where that kick would join: a chat bound to another
 * call (a phone conference) is left alone. Not a moderation action (nobody is acted on), so not
 * audited; it is logged.
 */
export async function prejoin(scope: RequestScope): Promise<PrejoinResult> {
  const { deps, request } = scope;
  const entry = meetingProviderEntry(deps);
  if (!entry) return { kind: 'skipped', reason: 'not_configured' };
  const choice = providerOf(deps, entry.kind);
  if ('missing' in choice) return { kind: 'skipped', reason: 'not_configured' };
  const [meeting, binding] = await Promise.all([
    scope.directory.getMeeting(),
    request.conversationId === undefined ? undefined : deps.store.bindings.get(request.conversationId),
  ]);
  if (!meeting) return { kind: 'skipped', reason: 'not_a_meeting' };
  const live = liveBinding(binding);
  if (live && live.provider !== entry.kind) return { kind: 'skipped', reason: 'bound_elsewhere' };
  // A chat whose other kind of call ended is not switched to its meeting's call (as resolveCall).
  if (!live && binding && binding.provider !== entry.kind) return { kind: 'skipped', reason: 'bound_elsewhere' };
  if (live?.state === 'established' && live.joinUrl === meeting.joinUrl) return { kind: 'skipped', reason: 'already_joined' };
  const sameMeeting = live && live.joinUrl === meeting.joinUrl ? live : undefined;
  const ensured = await ensureCall(deps, request, choice.provider, sameMeeting, meeting);
  return 'outcome' in ensured ? { kind: 'skipped', reason: 'not_joined' } : { kind: 'joined', callId: ensured.binding.callId };
}
