import type { CommandResult, ParseProblem } from '../../app/commands/command.js';
import type { UpstreamHint } from '../../app/domain/errors.js';
import type { LockdownDoor, NonRemovalAction, Outcome, StampedAction, TargetSummary } from '../../app/domain/outcome.js';
import type { Participant, ProviderKind } from '../../app/domain/participant.js';
import type { ProviderLabels } from '../../app/domain/provider-labels.js';
import { unreachable } from '../../app/domain/unreachable.js';
import type { ReadResult } from '../../app/moderation/requests.js';
import type { ChatNotice, ModLogSummary } from '../../app/ports/chat-notifier.js';
import type { MeetingRole } from '../../app/ports/chat-directory.js';
import { BAN_EVERYWHERE, type AuditCase, type Ban, type Lockdown, type ReasonEdit } from '../../app/ports/store.js';

/** What /status says first in sandbox mode (npm run playground). */
export const SANDBOX_NOTICE = 'Sandbox mode: calls and phone conferences are simulated on this machine.';

/** What renderers need to know beyond the result: how providers name their calls, and sandbox mode. */
export interface RenderContext {
  labels(kind: ProviderKind): ProviderLabels;
  /** Calls and conferences are simulated by the local sandbox (BOUNCER_SANDBOX). */
  sandbox: boolean;
}

const SERVICE_NAMES: Record<string, string> = { graph: 'Microsoft Graph', teams: 'Teams', twilio: 'Twilio', entra: 'Microsoft Entra ID' };

/** Chat text for every result. One mapper for the chat transport (DESIGN.md: rendering). */
export class Renderer {
  constructor(readonly context: RenderContext) {}

  result(result: CommandResult): string {
    switch (result.type) {
      case 'help': {
        const lines = result.commands.map((c) => `- \`${c.usage}\`: ${c.summary}`);
        const more = result.hidden > 0 ? ['', `${result.hidden} more commands are for meeting moderators (the organizer, named moderators) and Bouncer admins.`] : [];
        return ['**Bouncer** removes disruptive people from calls.', '', ...lines, ...more].join('\n');
      }
      case 'outcome':
        return this.outcome(result.outcome);
      case 'read':
        return this.read(result.result);
      case 'batch':
        return [this.batchHeading(result.results), ...result.results.map((r) => listItem(this.result(r)))].join('\n');
      default:
        return unreachable(result, 'command result');
    }
  }

  /** The first line of a bulk command's reply: how many people, how many removed. */
  batchHeading(results: readonly CommandResult[]): string {
    const removed = results.filter((r) => r.type === 'outcome' && r.outcome.kind === 'removed').length;
    return `${results.length} people named, ${removed} removed:`;
  }

  /** Chat text for /status, /participants and /modlog (also the cards' fallback text). */
  read(r: ReadResult): string {
    switch (r.kind) {
      case 'denied':
        return denial(r.reason);
      case 'upstream_failed':
        return `${serviceName(r.service)} didn't answer${r.requestId ? ` (request-id ${r.requestId})` : ''}. Please try again in a moment.`;
      case 'status': {
        const b = r.binding;
        const connected = !b
          ? 'Not connected to a call. Use `/bind`.'
          : r.live
            ? `Connected to ${this.callName(b)} (${b.state}), ${r.rosterSize} ${r.rosterSize === 1 ? 'person' : 'people'} in it.`
            : `Was connected to ${this.callName(b)}; that has ended.`;
        const configured = r.providers
          .map((p) => `${this.context.labels(p.kind).product}: ${p.configured ? 'configured' : 'not configured'}.`)
          .join(' ');
        const setup = r.setupHints.map((hint) => `Setup needed: ${hintText(hint)}`);
        const lockdown = r.lockdown ? [lockdownBanner(r.lockdown)] : [];
        return [...(this.context.sandbox ? [SANDBOX_NOTICE] : []), connected, ...lockdown, configured, ...setup].join('\n');
      }
      case 'roster': {
        if (!r.binding) return "This chat isn't connected to a call. Use `/bind` first.";
        if (r.total === 0) return `Nobody else is in ${this.callName(r.binding)}.`;
        const partial = rosterShowing(r);
        return [
          ...(r.lockdown ? [lockdownBanner(r.lockdown)] : []),
          `In ${this.callName(r.binding)} (${peopleCount(r.total)}):`,
          ...r.participants.map((p) => `- ${escapeMarkdown(participantName(p))}`),
          ...(partial ? [partial] : []),
        ].join('\n');
      }
      case 'moderators': {
        const roles = r.roles.length > 0 ? r.roles.map(roleName).join(', ') : 'none';
        const named = r.named.length > 0 ? r.named.map((m) => `- ${escapeMarkdown(m.displayName ?? m.userId)}`).join('\n') : 'Nobody has been named yet.';
        return `Moderators of this meeting: Bouncer admins; by role: ${roles}; and the people named by the organizer (\`/moderators add @person\`):\n${named}`;
      }
      case 'bans':
        if (r.bans.length === 0) return 'Nobody is banned here. `/ban @person [for 2h] [reason]` removes someone and keeps them out.';
        return ['Banned (lift with `/unban <case number>`):', ...r.bans.map((b) => `- ${banLine(b)}`)].join('\n');
      case 'modlog':
        if (r.cases.length === 0) return 'No cases in this chat yet.';
        return ['Recent cases:', ...r.cases.map((c) => `- ${caseLine(c)}`)].join('\n');
      case 'case':
        return caseDetails(r.case, r.edits).join('\n');
      case 'no_case':
        return r.hidden
          ? `Case #${r.caseId} belongs to a chat you don't moderate: only that chat's moderators and Bouncer admins can see it.`
          : `There is no case #${r.caseId}.`;
      case 'cases_against': {
        const name = who(r.target);
        if (r.cases.length === 0) return `No cases against ${name} in the chats you moderate.`;
        const more = r.more ? ['Older cases are not shown.'] : [];
        return [`Cases against ${name} in the chats you moderate (newest first):`, ...r.cases.map((c) => `- ${caseLine(c)}${chatNote(c)}`), ...more].join('\n');
      }
      default:
        return unreachable(r, 'read result');
    }
  }

  /** The call in a sentence, as its provider names it. */
  callName(call: { provider: ProviderKind; callName?: string }): string {
    return this.context.labels(call.provider).callInSentence(call, escapeMarkdown);
  }

  /** Chat text for one moderation outcome; always names the case. */
  outcome(o: Outcome): string {
    const ref = `Case #${o.caseId}.`;
    const done = doneWords(o.action);
    switch (o.kind) {
      case 'removed': {
        if (o.recorded === false) {
          return `Removed ${who(o.target)} from the call, but I could not record it in the audit log (case #${o.caseId} stays pending). Please tell your Bouncer administrator.`;
        }
        const notice = o.notice === 'failed' ? " I couldn't tell them why first: the notice didn't reach them." : '';
        return `Removed ${who(o.target)} from the call.${notice} ${ref}`;
      }
      case 'muted':
        return `Muted ${who(o.target)} for everyone in the call. ${ref}`;
      case 'unmuted':
        return `Unmuted ${who(o.target)}. ${ref}`;
      case 'warned':
        return `Warned ${who(o.target)} privately: only they got the warning. ${ref}`;
      case 'not_reachable':
        return `I couldn't warn ${who(o.target)} privately: they aren't a member of this meeting's chat (guests and dial-in callers often aren't), so Teams can't show them a notice. Nothing was sent. ${ref}`;
      case 'already_gone':
        return `${who(o.target)} had already left the call. ${ref}`;
      case 'interrupted':
        return `A removal was cut off (Bouncer stopped) before it happened, so nobody was removed. ${ref}`;
      case 'dry_run':
        return `Dry run: I would remove ${who(o.target)} (${o.participantIds.join(', ')}) from the call. Nobody was removed. ${ref}`;
      case 'bound':
        return o.alreadyBound
          ? `I'm already connected to ${this.callName(o)}; /kick works here. ${ref}`
          : `Connected to ${this.callName(o)}; /kick works here now. ${ref}`;
      case 'unbound':
        return `Disconnected from ${this.callName(o)}. ${ref}`;
      case 'moderator_added':
        return o.already
          ? `${who(o.target)} is already a moderator of this meeting. ${ref}`
          : `${who(o.target)} is now a moderator of this meeting: they can use Bouncer's moderator commands here. ${ref}`;
      case 'moderator_removed':
        return o.wasNamed ? `${who(o.target)} is no longer a named moderator of this meeting. ${ref}` : `${who(o.target)} was not a named moderator of this meeting. ${ref}`;
      case 'banned': {
        const where = o.everywhere ? 'from every call Bouncer moderates' : "from this chat's calls";
        const until = o.expiresAt ? `until ${utcTime(o.expiresAt)}` : 'until `/unban`';
        const notice = o.notice === 'failed' ? " I couldn't tell them why first: the notice didn't reach them." : '';
        return o.removed
          ? `Removed ${who(o.target)} from the call and banned them ${where} ${until}.${notice} ${ref}`
          : `Banned ${who(o.target)} ${where} ${until}. They are not in the call right now; if they join, I'll remove them. ${ref}`;
      }
      case 'unbanned': {
        const named = o.target.displayName || o.target.phoneNumber || o.target.label ? who(o.target) : undefined;
        if (o.banCaseIds.length > 0) {
          const bans = o.banCaseIds.map((id) => `#${id}`).join(', ');
          return `Lifted the ban${o.banCaseIds.length > 1 ? 's' : ''} ${bans}${named ? ` on ${named}` : ''}: they can join again. ${ref}`;
        }
        return o.asked !== undefined
          ? `There is no active ban #${o.asked} here, so nothing changed. ${ref}`
          : `${named ?? 'That person'} is not banned here, so nothing changed. ${ref}`;
      }
      case 'reason_edited': {
        const was = o.previous === undefined ? 'it had none' : `it was "${escapeMarkdown(o.previous)}"`;
        return `Case #${o.editedCaseId}'s reason is now "${escapeMarkdown(o.reason)}" (${was}; \`/case ${o.editedCaseId}\` shows its history). ${ref}`;
      }
      case 'case_not_found':
        return `There is no case #${o.asked}, so nothing changed. ${ref}`;
      case 'modlog_set':
        if (o.enabled) {
          return o.changed
            ? `This chat is now a mod-log channel: every case from every chat will be posted here as it completes. \`/modlog off\` stops it. ${ref}`
            : `This chat already is a mod-log channel. ${ref}`;
        }
        return o.changed ? `This chat is no longer a mod-log channel. ${ref}` : `This chat wasn't a mod-log channel, so nothing changed. ${ref}`;
      case 'locked':
        return this.locked(o);
      case 'unlocked':
        if (!o.wasLocked) return `This call wasn't locked down, so nothing changed. ${ref}`;
        return o.door === 'lobby'
          ? `Lockdown over: the meeting's lobby, mic, camera and chat settings are back as they were before it${o.lockdownCaseId !== undefined ? ` (case #${o.lockdownCaseId})` : ''}. ${ref}`
          : `Lockdown over: new callers can join again${o.lockdownCaseId !== undefined ? ` (lockdown case #${o.lockdownCaseId})` : ''}. ${ref}`;
      case 'ambiguous_target': {
        const list = o.candidates.map((c) => `- ${who(c)}${c.participantId ? ` (${c.participantId})` : ''}`).join('\n');
        const personAction = onPerson(o.action);
        const command = personAction ?? 'kick';
        const pick = personAction ? `Name one of these in \`/${command}\` by label or CallSid:` : 'Kick one of these by label or CallSid:';
        return `${who(o.target)} matches more than one participant, so ${done}. ${pick}\n${list}\n${ref}`;
      }
      case 'unsupported':
        return `${this.unsupported(o)} ${ref}`;
      case 'target_not_found':
        return `${who(o.target)} is not in the call right now, so ${done}. ${ref}`;
      case 'denied':
        return `${denial(o.reason, onPerson(o.action))} ${ref}`;
      case 'not_bound':
        return `${this.notBound(o)} ${ref}`;
      case 'not_configured':
        return `Bouncer can't reach that kind of call yet: an administrator needs to set ${o.missing.join(', ')}. ${ref}`;
      case 'upstream_failed': {
        const id = o.requestId ? ` (request-id ${o.requestId})` : o.code ? ` (error ${o.code}${o.moreInfo ? `, ${o.moreInfo}` : ''})` : '';
        if (o.hint) return `${serviceName(o.service)} refused ${o.hint === 'remove-participant-policy' ? 'the removal' : 'the request'}${id}. ${hintText(o.hint)} ${capitalize(done)}. ${ref}`;
        const next = o.retryable ? 'Please try again in a moment.' : 'Please tell your Bouncer administrator.';
        return `${serviceName(o.service)} didn't complete the request${id}, so ${done}. ${next} ${ref}`;
      }
      default:
        return unreachable(o, 'outcome');
    }
  }

  /** What a lockdown did, or that it was on already. */
  private locked(o: Extract<Outcome, { kind: 'locked' }>): string {
    const ref = `Case #${o.caseId}.`;
    const trigger = o.trigger ? `Raid mode: ${o.trigger.joins} people joined within ${seconds(o.trigger.windowMs)} s, so ` : '';
    const what = this.lockedWhat(o.door, o.chat);
    const muted = o.mute ? ` Muted ${o.muted.length} ${o.muted.length === 1 ? 'caller' : 'callers'} who ${o.muted.length === 1 ? "doesn't" : "don't"} moderate.` : '';
    const end = ' `/lockdown off` restores everything as it was.';
    if (o.already) return `${trigger}This call was already locked down; it stays so (${what}).${muted}${end} ${ref}`;
    return `${trigger ? `${trigger}I locked the call down` : 'Locked down'}: ${what}.${muted}${end} ${ref}`;
  }

  /** What a lockdown holds: the meeting's options, or the door. */
  private lockedWhat(door: LockdownDoor, chat: boolean): string {
    switch (door) {
      case 'lobby':
        return `everyone but the organizer now waits in the lobby (phone callers too), and attendees can't turn on their mic or camera${chat ? '; meeting chat is off' : ''}`;
      case 'turn_away':
        return 'every new caller is removed as they join';
      default:
        return unreachable(door, 'lockdown door');
    }
  }

  private unsupported(o: Extract<Outcome, { kind: 'unsupported' }>): string {
    const calls = this.context.labels(o.provider).calls;
    switch (o.capability) {
      case 'unmute':
        return `Only the person can unmute themselves in ${calls}: Bouncer can't unmute someone else there, so nothing was sent. They can unmute with their own microphone button.`;
      case 'mute':
        return `Bouncer can't mute people in ${calls}.`;
      case 'private notice':
        return `Bouncer can't send a private notice to someone in ${calls}, so nobody was warned.`;
      case 'bind':
      case 'find call':
      case 'join':
      case 'ban someone with no lasting identity (a guest)':
        return `That isn't possible with ${calls} (${o.capability}).`;
      default:
        return unreachable(o.capability, 'capability');
    }
  }

  private notBound(o: Extract<Outcome, { kind: 'not_bound' }>): string {
    const noun = o.provider ? this.context.labels(o.provider).callNoun : 'call';
    switch (o.reason) {
      case 'not_a_meeting':
        return "This chat isn't a meeting chat, so there is no call to act on. Use Bouncer in the meeting's own chat.";
      case 'join_timeout':
        return "I've asked to join this meeting's call, but it hasn't connected yet. Try again in a moment.";
      case 'call_ended':
        return 'The call this chat was connected to has ended.';
      case 'no_binding':
        return "This chat isn't connected to a call or conference. Use `/bind` first.";
      case 'conference_not_found':
        return `I couldn't find that ${noun}.`;
      case 'conference_not_in_progress':
        return `That ${noun} is not in progress.`;
      case 'card_stale':
        return 'That card is out of date: this chat is no longer connected to that call. Send `/participants` for a fresh one.';
      case 'invalid_join_link':
        return "That isn't a Teams meeting join link I can use.";
      default:
        return unreachable(o.reason, 'not-bound reason');
    }
  }

  /** Chat text for a notice to a chat that did not ask. */
  notice(n: ChatNotice): string {
    switch (n.kind) {
      case 'system_removal': {
        const why = n.reason ? ` Reason: ${escapeMarkdown(n.reason)}.` : '';
        return `${who(n.outcome.target)} was removed from the call by the moderation system **${escapeMarkdown(n.system)}**.${why} Case #${n.outcome.caseId}.`;
      }
      case 'system_removals': {
        const systems = new Set(n.removals.map((r) => r.system));
        const only = systems.size === 1 ? n.removals[0]!.system : undefined;
        const heading =
          only === undefined
            ? `Moderation systems removed ${n.removals.length} people from the call:`
            : `The moderation system **${escapeMarkdown(only)}** removed ${n.removals.length} ${n.removals.length === 1 ? 'person' : 'people'} from the call:`;
        const lines = n.removals.map((r) => {
          const by = only === undefined ? `, by **${escapeMarkdown(r.system)}**` : '';
          const why = r.reason ? ` Reason: ${escapeMarkdown(r.reason)}.` : '';
          return listItem(`${who(r.outcome.target)}${by}.${why} Case #${r.outcome.caseId}.`);
        });
        return [heading, ...lines].join('\n');
      }
      case 'system_action':
        return this.systemAction(n);
      case 'ban_enforced':
        return `${who(n.outcome.target)} tried to join the call but is banned${n.everywhere ? ' everywhere' : ''} (case #${n.banCaseId}), so I removed them. Case #${n.outcome.caseId}.`;
      case 'raid':
        return n.outcome.kind === 'locked'
          ? this.locked(n.outcome)
          : `Raid mode: ${n.trigger.joins} people joined within ${seconds(n.trigger.windowMs)} s, but I couldn't lock the call down. ${this.outcome(n.outcome)}`;
      case 'ban_enforced_summary':
        return `Removed ${n.count} more banned ${n.count === 1 ? 'person' : 'people'} in the last ${n.seconds} s. \`/modlog\` lists each case.`;
      case 'modlog': {
        const entries = n.cases.map((c) => modlogEntry(c).join(' · '));
        return [...entries.map((e) => `- ${e}`), ...(n.more ? [modlogMore(n.more)] : [])].join('\n');
      }
      default:
        return unreachable(n, 'notice');
    }
  }

  /** A system's ban, unban, mute or unmute, as the chat bound to the call is told of it. */
  private systemAction(n: Extract<ChatNotice, { kind: 'system_action' }>): string {
    const o = n.outcome;
    const by = `by the moderation system **${escapeMarkdown(n.system)}**`;
    const why = n.reason ? ` Reason: ${escapeMarkdown(n.reason)}.` : '';
    const ref = `Case #${o.caseId}.`;
    switch (o.kind) {
      case 'banned': {
        const where = o.everywhere ? 'from every call Bouncer moderates' : "from this chat's calls";
        const until = o.expiresAt ? `until ${utcTime(o.expiresAt)}` : 'until `/unban`';
        return `${who(o.target)} was ${o.removed ? 'removed from the call and ' : ''}banned ${where} ${until} ${by}.${why} ${ref}`;
      }
      case 'unbanned': {
        const bans = o.banCaseIds.map((id) => `#${id}`).join(', ');
        return `The ban${o.banCaseIds.length > 1 ? 's' : ''} ${bans} on ${who(o.target)} ${o.banCaseIds.length > 1 ? 'were' : 'was'} lifted ${by}: they can join again.${why} ${ref}`;
      }
      case 'muted':
        return `${who(o.target)} was muted for everyone in the call ${by}.${why} ${ref}`;
      case 'unmuted':
        return `${who(o.target)} was unmuted ${by}.${why} ${ref}`;
      default:
        return unreachable(o, 'system action');
    }
  }

  /** Chat text for a message longer than any command may be (it is not read as one). */
  tooLong(limit: number): string {
    return `That message is too long to be a command (over ${limit} characters), so I did nothing. Commands are short: try \`/help\`.`;
  }

  /** Chat text for a command still running when Teams' answer window closes: its result replaces this message. */
  workingOnIt(): string {
    return 'Working on it… Microsoft is answering slowly; I will update this message with the result.';
  }

  /** Chat text for a command whose outcome is unknown because it failed unexpectedly after "working on it". */
  failedLate(): string {
    return 'Sorry, something went wrong on my side before I could finish. Check `/modlog` to see whether anything was done.';
  }

  /** Chat text for a command that could not run because the database was busy (nothing was done). */
  busy(): string {
    return "Bouncer's database is busy right now, so nothing was done. Please try again in a moment.";
  }

  /** Chat text for a message that did not become a command. */
  problem(problem: ParseProblem): string {
    switch (problem.kind) {
      case 'empty':
        return 'Hi! Try `/help` to see what I can do.';
      case 'unknown_command':
        return `I don't know the command "${escapeMarkdown(problem.name)}". Try \`/help\`.`;
      case 'no_target':
        return noTarget(problem.command);
      case 'several_targets':
        return `\`/${problem.command}\` takes one person at a time, and you mentioned ${problem.names.map(escapeMarkdown).join(', ')}. Send one for each.`;
      case 'too_many_targets':
        return `You named ${problem.count} people, and one \`/${problem.command}\` removes at most ${problem.limit}, so I did nothing. Send it in smaller groups.`;
      case 'invalid_duration':
        return `"${escapeMarkdown(problem.text)}" isn't a ban length I can use: give minutes, hours or days, like \`for 30m\`, \`for 2h\` or \`for 7d\` (at most ${problem.maxDays} days).`;
      case 'invalid_label':
        return problem.why === 'slash'
          ? `Twilio labels can't contain "/", so "${escapeMarkdown(problem.label)}" can't name a participant. Kick by phone number or CallSid instead.`
          : `That label is too long to name a participant. Kick by phone number or CallSid instead.`;
      case 'bad_arguments':
        return `Usage: \`${problem.usage}\`.`;
      default:
        return unreachable(problem, 'parse problem');
    }
  }
}

/** What to say when a command needs a person and got none. */
function noTarget(command: string): string {
  switch (command) {
    case 'ban':
      return 'Who should I ban? Mention them, or give a phone number or label: `/ban @person [for 2h] [reason]`.';
    case 'unban':
      return 'Whose ban should I lift? Mention them, give their number or label, or the ban\'s case number: `/unban @person` or `/unban 42`.';
    case 'moderators':
      return 'Who? Mention them: `/moderators add @person` or `/moderators remove @person`.';
    case 'mute':
    case 'unmute':
      return `Who should I ${command}? Mention them, or give a phone number or label: \`/${command} @person\`.`;
    case 'warn':
      return 'Who should I warn? Mention them, or give a phone number or label: `/warn @person <reason>`.';
    case 'cases':
      return 'Whose cases? Mention them: `/cases @person`.';
    default:
      return 'Who should I remove? Mention them: `/kick @person [reason]`.';
  }
}

function roleName(role: MeetingRole): string {
  switch (role) {
    case 'organizer':
      return 'the organizer';
    case 'coorganizer':
      return 'co-organizers';
    case 'presenter':
      return 'presenters';
    case 'attendee':
      return 'attendees';
    case 'unknown':
      return 'unknown';
    default:
      return unreachable(role, 'meeting role');
  }
}

/** What an action on a person did not do, for replies that say nothing happened ("nobody was removed"). */
function doneWords(action: StampedAction | undefined): string {
  switch (action) {
    case 'lockdown':
    case 'unlock':
      return 'nothing was changed';
    case undefined:
      return 'nobody was removed';
    case 'mute':
      return 'nobody was muted';
    case 'unmute':
      return 'nobody was unmuted';
    case 'warn':
      return 'nobody was warned';
    default:
      return unreachable(action, 'action');
  }
}

/** The action on a person an outcome was stamped with, if it was one. */
function onPerson(action: StampedAction | undefined): NonRemovalAction | undefined {
  return action === 'lockdown' || action === 'unlock' ? undefined : action;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Why a request was refused; `action` is the action on a person other than a removal, if any. */
function denial(reason: Extract<Outcome, { kind: 'denied' }>['reason'], action?: NonRemovalAction): string {
  switch (reason) {
    case 'bot':
      return action ? `I can't ${action} myself.` : "I can't remove myself. To stop Bouncer, remove the app from this chat.";
    case 'self':
      return action === 'mute' || action === 'unmute'
        ? `You can't ${action} yourself with Bouncer; use your own microphone button.`
        : action === 'warn'
          ? "You can't warn yourself."
          : "You can't remove yourself; just leave the call.";
    case 'organizer':
      return `Only Bouncer admins can ${action ?? 'remove'} the meeting organizer.`;
    case 'unknown_role':
      return "I couldn't confirm your role in this meeting, so I didn't act. Only the meeting organizer, its moderators and Bouncer admins can do that.";
    case 'not_permitted':
      return 'Only the meeting organizer, its moderators and Bouncer admins can do that.';
    case 'not_admin':
      return 'Only Bouncer admins can ban people from every call, or lift such a ban.';
    case 'admins_only':
      return 'Only Bouncer admins can do that.';
    case 'not_case_moderator':
      return "That case belongs to a chat you don't moderate: only that chat's moderators and Bouncer admins can change it.";
    case 'not_organizer':
      return "Only the meeting organizer (or a co-organizer) and Bouncer admins can change who moderates this meeting.";
    case 'call_not_for_chat':
      return (
        "That conference isn't set up for this chat, so only a Bouncer admin can bind it here. " +
        'Ask an admin to bind it, or to add this chat to the conference in `TWILIO_CONFERENCE_CHATS` (see the README).'
      );
    default:
      return unreachable(reason, 'denial reason');
  }
}

/** What an administrator must do about a known upstream refusal. */
export function hintText(hint: UpstreamHint): string {
  switch (hint) {
    case 'remove-participant-policy':
      return (
        "This tenant hasn't allowed Bouncer to remove people from calls. A Teams administrator needs to run " +
        '`Set-CsApplicationMeetingConfiguration -AllowRemoveParticipantAppIds @{Add="<Bouncer\'s app id>"}` (see the README, Deploy).'
      );
    case 'join-tenant-permissions':
      return (
        "Graph won't let Bouncer join this meeting's call (error 7504: insufficient tenant permissions). An administrator of " +
        "the meeting's tenant needs to grant Bouncer's app the Calls.JoinGroupCall.All application permission (admin consent) (see the README, Deploy)."
      );
    case 'meeting-access-policy':
      return (
        "Graph won't let Bouncer read or change this meeting's options (403). Bouncer's app needs the OnlineMeetings.ReadWrite.All " +
        'application permission (admin consent), and a Teams administrator needs to allow it to act for the organizer: ' +
        '`New-CsApplicationAccessPolicy -Identity Bouncer-Meetings -AppIds "<Bouncer\'s app id>"`, then ' +
        '`Grant-CsApplicationAccessPolicy -PolicyName Bouncer-Meetings -Identity "<organizer>"` (or `-Global`). ' +
        'It can take up to 30 minutes to apply (see the README, Deploy).'
      );
    case 'join-tenant-mismatch':
      return (
        "Graph won't let Bouncer join this meeting's call (error 7505: tenant mismatch). The meeting belongs to another tenant " +
        "than Bouncer's app; Bouncer can only join meetings of the tenant it is registered in (see the README, Deploy)."
      );
    default:
      return unreachable(hint, 'upstream hint');
  }
}

function serviceName(service: string): string {
  return SERVICE_NAMES[service] ?? service;
}

/** "1 person", "10,000 people". */
export function peopleCount(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'person' : 'people'}`;
}

/** When a roster shows only the first people of a big meeting: which, and of how many. */
export function rosterShowing(r: { participants: readonly unknown[]; total: number }): string | undefined {
  if (r.participants.length >= r.total) return undefined;
  return `Showing the first ${r.participants.length.toLocaleString('en-US')} of ${r.total.toLocaleString('en-US')}, by name. Use /kick @person for anyone else.`;
}

/** How a roster entry is named: display name, else label, number, id. */
export function participantName(p: Participant): string {
  return p.displayName ?? p.label ?? p.phoneNumbers?.[0] ?? p.participantId;
}

/** One audit case on one line: number, time, actor, target, reason, outcome. */
export function caseLine(c: AuditCase): string {
  const when = c.createdAt.replace('T', ' ').slice(0, 16);
  const actor = c.actorName ?? 'someone';
  const banCaseId = typeof c.detail.banCaseId === 'number' ? c.detail.banCaseId : undefined;
  const lockdownCaseId = typeof c.detail.lockdownCaseId === 'number' ? c.detail.lockdownCaseId : undefined;
  const why = banCaseId !== undefined ? ` (ban #${banCaseId})` : c.action === 'kick' && lockdownCaseId !== undefined ? ` (lockdown #${lockdownCaseId})` : '';
  const what =
    c.action === 'kick'
      ? `${actor} → ${c.targetName ?? 'someone'}${why}`
      : c.action === 'mute' || c.action === 'unmute' || c.action === 'warn'
        ? `${actor}: /${c.action} ${c.targetName ?? 'someone'}`
      : c.action === 'moderator_add' || c.action === 'moderator_remove'
        ? `${actor}: /moderators ${c.action === 'moderator_add' ? 'add' : 'remove'} ${c.targetName ?? 'someone'}`
        : c.action === 'ban' || c.action === 'unban'
          ? `${actor}: /${c.action} ${c.targetName ?? ''}`.trimEnd()
          : `${actor}: ${caseAction(c)}`;
  const reason = c.reason ? ` ("${escapeMarkdown(c.reason)}")` : '';
  return `#${c.id} ${when} UTC · ${escapeMarkdown(what)}${reason} · ${(c.outcome ?? 'pending').replace(/_/g, ' ')}`;
}

/** What a case did, in a few words: `/kick Mallory`, `/reason #12`, `/modlog here`. */
function caseAction(c: AuditCase): string {
  const target = c.targetName ?? '';
  switch (c.action) {
    case 'kick':
    case 'mute':
    case 'unmute':
    case 'warn':
    case 'ban':
    case 'unban':
      return `/${c.action} ${target}`.trimEnd();
    case 'moderator_add':
    case 'moderator_remove':
      return `/moderators ${c.action === 'moderator_add' ? 'add' : 'remove'} ${target}`.trimEnd();
    case 'bind':
    case 'unbind':
      return `/${c.action}`;
    case 'edit_reason':
      return typeof c.detail.caseId === 'number' ? `/reason #${c.detail.caseId}` : '/reason';
    case 'modlog_on':
      return '/modlog here';
    case 'modlog_off':
      return '/modlog off';
    case 'lockdown':
      return '/lockdown';
    case 'unlock':
      return '/lockdown off';
    default:
      return unreachable(c.action, 'action');
  }
}

/** Who asked for a case: a person, a system (webhook), or Bouncer itself (`auto`), and through what. */
function caseActor(c: AuditCase): string {
  const name = c.actorName ?? (c.source === 'auto' ? 'Bouncer' : 'someone');
  return `${escapeMarkdown(name)} (${c.source === 'auto' ? 'automatic' : c.source})`;
}

/** Where a case happened: its chat, shortened (a Teams thread id is long), and its call. */
function caseWhere(c: AuditCase): string {
  const chat = c.conversationId ? `chat ${escapeMarkdown(shorten(c.conversationId, 48))}` : 'no chat';
  return c.callId ? `${chat}, call ${escapeMarkdown(shorten(c.callId, 40))}` : chat;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * One case as a mod-log channel shows it: what, who acted, on whom, where, outcome, reason, case
 * number. Only these fields: never a case's detail as it is (idempotency keys, notice tokens).
 */
export function modlogEntry(c: AuditCase): string[] {
  const outcome = (c.outcome ?? 'pending').replace(/_/g, ' ');
  const denial = c.outcome === 'denied' && typeof c.detail.reason === 'string' ? ` (${c.detail.reason.replace(/_/g, ' ')})` : '';
  const ban = typeof c.detail.banCaseId === 'number' ? ` (ban #${c.detail.banCaseId})` : '';
  return [
    `**#${c.id}** ${escapeMarkdown(caseAction(c))}${ban} → **${outcome}**${denial}`,
    `by ${caseActor(c)} in ${caseWhere(c)}`,
    ...(c.reason ? [`reason: "${escapeMarkdown(c.reason)}"`] : []),
  ];
}

/** The cases a mod-log post sums up instead of showing each. */
export function modlogMore(more: ModLogSummary): string {
  const outcomes = Object.entries(more.outcomes)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, n]) => `${n} ${kind.replace(/_/g, ' ')}`)
    .join(', ');
  return `…and ${more.count} more ${more.count === 1 ? 'case' : 'cases'} (#${more.firstCaseId}–#${more.lastCaseId}: ${outcomes}). \`/case <n>\` shows one.`;
}

/** Every line `/case` shows: the case, and its reason's history when it was edited. */
export function caseDetails(c: AuditCase, edits: readonly ReasonEdit[]): string[] {
  const lines = [
    `**Case #${c.id}**: ${escapeMarkdown(caseAction(c))} → ${(c.outcome ?? 'pending').replace(/_/g, ' ')}`,
    `By ${caseActor(c)}${c.targetName ? ` against ${escapeMarkdown(c.targetName)}` : ''}, in ${caseWhere(c)}`,
    `Opened ${utcTime(c.createdAt)}${c.completedAt ? `, completed ${utcTime(c.completedAt)}` : ', still pending'}`,
    `Reason: ${c.reason ? `"${escapeMarkdown(c.reason)}"` : 'none given'}`,
  ];
  const last = edits.at(-1);
  if (last) {
    const first = edits[0]!;
    lines.push(
      `Edited ${edits.length === 1 ? 'once' : `${edits.length} times`}, last by ${escapeMarkdown(last.editedByName ?? last.editedBy ?? 'someone')} at ${utcTime(last.editedAt)} (case #${last.editCaseId}); the original reason: ${first.previous === undefined ? 'none' : `"${escapeMarkdown(first.previous)}"`}`,
    );
  }
  return lines;
}

/** Which chat a case of `/cases` is from, when the list spans chats. */
function chatNote(c: AuditCase): string {
  return c.conversationId ? ` · ${escapeMarkdown(shorten(c.conversationId, 48))}` : '';
}

/** One result in a list: its first line a list item, the lines after it indented under it. */
function listItem(text: string): string {
  return `- ${text.split('\n').join('\n  ')}`;
}

/** One active ban on one line: who, where, until when, its case and reason. */
export function banLine(b: Ban): string {
  const name = b.targetName ?? b.identities[0]?.value ?? 'someone';
  const where = b.scope === BAN_EVERYWHERE ? 'everywhere' : 'here';
  const until = b.expiresAt ? `until ${utcTime(b.expiresAt)}` : 'until lifted';
  const reason = b.reason ? ` ("${escapeMarkdown(b.reason)}")` : '';
  return `**${escapeMarkdown(name)}** · ${where} · ${until} · case #${b.caseId}${reason}`;
}

/** Milliseconds as seconds, to a tenth. */
function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** The state of a call's lockdown, for /status and the roster: since when, why, and how to end it. */
export function lockdownBanner(l: Lockdown): string {
  const by = l.source === 'auto' ? ' by raid mode' : l.source === 'webhook' ? ' by the moderation API' : '';
  const extra = [l.chat ? 'meeting chat off' : undefined, l.mute ? 'callers muted' : undefined].filter(Boolean).join(', ');
  return `🔒 Locked down${by} since ${utcTime(l.startedAt)} (case #${l.caseId}${extra ? `; ${extra}` : ''}). \`/lockdown off\` ends it.`;
}

/** An ISO time as people read it: `2026-11-23 10:00 UTC`. */
function utcTime(iso: string): string {
  return `${iso.replace('T', ' ').slice(0, 16)} UTC`;
}

/** How a target is named in replies: display name, else label, number or participant id. */
function who(t: TargetSummary | undefined): string {
  const name = t?.displayName ?? (t?.label !== undefined ? `label "${t.label}"` : undefined) ?? t?.phoneNumber ?? t?.participantId;
  return name ? `**${escapeMarkdown(name)}**` : 'That person';
}

/**
 * Makes text from outside (names, labels, reasons) show as itself in Markdown, in chat text and in
 * Adaptive Card TextBlocks and facts alike: every character Markdown gives a meaning to is
 * backslash-escaped (emphasis, code, links and images, HTML, headings, strikethrough, tables), a
 * list marker at the start (`- `, `+ `, `1. `) is escaped, and line breaks become spaces so that
 * nothing can start a block of its own. A name can never render as a link or as bold text.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[\\`*_[\]()<>#~|!]/g, '\\$&')
    .replace(/^(\s*)(?:([-+])|(\d+)\.)(?=\s|$)/, (_whole, space: string, bullet?: string, number?: string) =>
      bullet ? `${space}\\${bullet}` : `${space}${number}\\.`,
    );
}
