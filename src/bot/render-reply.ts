import type { CommandResult, ParseProblem } from '../core/commands/command.js';
import type { ReadResult } from '../core/moderation-service.js';
import type { Outcome, TargetSummary } from '../core/outcome.js';
import type { Participant } from '../core/participant.js';
import type { AuditCase } from '../core/ports.js';

/** Chat text for a command result. One mapper for the chat transport (DESIGN.md: rendering). */
export function renderResult(result: CommandResult): string {
  switch (result.type) {
    case 'help': {
      const lines = result.commands.map((c) => `- \`${c.usage}\`: ${c.summary}`);
      const more = result.hidden > 0 ? ['', `${result.hidden} more commands are for meeting organizers, presenters and Bouncer admins.`] : [];
      return ['**Bouncer** removes disruptive people from calls.', '', ...lines, ...more].join('\n');
    }
    case 'outcome':
      return renderOutcome(result.outcome);
    case 'read':
      return renderRead(result.result);
  }
}

/** What /status says first in sandbox mode (npm run playground). */
export const SANDBOX_NOTICE = 'Sandbox mode: calls and phone conferences are simulated on this machine.';

/** Chat text for /status, /participants and /modlog (also the cards' fallback text). */
export function renderRead(r: ReadResult): string {
  switch (r.kind) {
    case 'denied':
      return r.reason === 'unknown_role'
        ? "I couldn't confirm your role in this meeting. Only the organizer, presenters and Bouncer admins can do that."
        : 'Only the meeting organizer, presenters and Bouncer admins can do that.';
    case 'upstream_failed':
      return `${SERVICE_NAMES[r.service] ?? r.service} didn't answer${r.requestId ? ` (request-id ${r.requestId})` : ''}. Please try again in a moment.`;
    case 'status': {
      const b = r.binding;
      const connected = !b
        ? 'Not connected to a call. Use `/bind`.'
        : r.live
          ? `Connected to ${callName(b)} (${b.state}), ${r.rosterSize} ${r.rosterSize === 1 ? 'person' : 'people'} in it.`
          : `Was connected to ${callName(b)}; that has ended.`;
      const configured = `Teams calls: ${r.configured.teams ? 'configured' : 'not configured'}. Twilio: ${r.configured.twilio ? 'configured' : 'not configured'}.`;
      return r.sandbox
        ? `${SANDBOX_NOTICE}\n${connected}\n${configured}`
        : `${connected}\n${configured}`;
    }
    case 'roster':
      if (!r.binding) return "This chat isn't connected to a call. Use `/bind` first.";
      if (r.participants.length === 0) return `Nobody else is in ${callName(r.binding)}.`;
      return [`In ${callName(r.binding)}:`, ...r.participants.map((p) => `- ${escapeMarkdown(participantName(p))}`)].join('\n');
    case 'modlog':
      if (r.cases.length === 0) return 'No cases in this chat yet.';
      return ['Recent cases:', ...r.cases.map((c) => `- ${caseLine(c)}`)].join('\n');
  }
}

/** How a roster entry is named: display name, else label, number, id. */
export function participantName(p: Participant): string {
  return p.displayName ?? p.label ?? p.phoneNumbers?.[0] ?? p.participantId;
}

/** One audit case on one line: number, time, actor, target, reason, outcome. */
export function caseLine(c: AuditCase): string {
  const when = c.createdAt.replace('T', ' ').slice(0, 16);
  const what = c.action === 'kick' ? `${c.actorName ?? 'someone'} → ${c.targetName ?? 'someone'}` : `${c.actorName ?? 'someone'}: /${c.action}`;
  const reason = c.reason ? ` ("${c.reason}")` : '';
  return `#${c.id} ${when} UTC · ${escapeMarkdown(what)}${escapeMarkdown(reason)} · ${(c.outcome ?? 'pending').replace(/_/g, ' ')}`;
}

/** How a target is named in replies: display name, else label, number or participant id. */
function who(t: TargetSummary | undefined): string {
  const name = t?.displayName ?? (t?.label !== undefined ? `label "${t.label}"` : undefined) ?? t?.phoneNumber ?? t?.participantId;
  return name ? `**${escapeMarkdown(name)}**` : 'That person';
}

export function callName(o: { provider: string; callName?: string }): string {
  if (o.provider === 'twilio') return o.callName ? `the phone conference **${escapeMarkdown(o.callName)}**` : 'the phone conference';
  return "this meeting's call";
}

/** Chat text for one moderation outcome; always names the case. */
export function renderOutcome(o: Outcome): string {
  const ref = `Case #${o.caseId}.`;
  switch (o.kind) {
    case 'removed':
      return `Removed ${who(o.target)} from the call. ${ref}`;
    case 'already_gone':
      return `${who(o.target)} had already left the call. ${ref}`;
    case 'dry_run':
      return `Dry run: I would remove ${who(o.target)} (${o.participantIds.join(', ')}) from the call. Nobody was removed. ${ref}`;
    case 'bound':
      return o.alreadyBound
        ? `I'm already connected to ${callName(o)}; /kick works here. ${ref}`
        : `Connected to ${callName(o)}; /kick works here now. ${ref}`;
    case 'unbound':
      return `Disconnected from ${callName(o)}. ${ref}`;
    case 'ambiguous_target': {
      const list = o.candidates.map((c) => `- ${who(c)}${c.participantId ? ` (${c.participantId})` : ''}`).join('\n');
      return `${who(o.target)} matches more than one participant, so nobody was removed. Kick one of these by label or CallSid:\n${list}\n${ref}`;
    }
    case 'unsupported':
      return `That isn't possible with ${o.provider === 'twilio' ? 'Twilio conferences' : 'Teams calls'} (${o.capability}). ${ref}`;
    case 'target_not_found':
      return `${who(o.target)} is not in the call right now, so nobody was removed. ${ref}`;
    case 'denied':
      switch (o.reason) {
        case 'bot':
          return `I can't remove myself. To stop Bouncer, remove the app from this chat. ${ref}`;
        case 'self':
          return `You can't remove yourself; just leave the call. ${ref}`;
        case 'organizer':
          return `Presenters can't remove the meeting organizer. ${ref}`;
        case 'unknown_role':
          return `I couldn't confirm your role in this meeting, so I didn't act. Only the organizer, presenters and Bouncer admins can remove people. ${ref}`;
        case 'not_permitted':
          return `Only the meeting organizer, presenters and Bouncer admins can do that. ${ref}`;
      }
      break;
    case 'not_bound':
      switch (o.reason) {
        case 'not_a_meeting':
          return `This chat isn't a meeting chat, so there is no call to act on. Use Bouncer in the meeting's own chat. ${ref}`;
        case 'join_timeout':
          return `I've asked to join this meeting's call, but it hasn't connected yet. Try again in a moment. ${ref}`;
        case 'call_ended':
          return `The call this chat was connected to has ended. ${ref}`;
        case 'no_binding':
          return `This chat isn't connected to a call or conference. Use \`/bind\` first. ${ref}`;
        case 'conference_not_found':
          return `I couldn't find that Twilio conference. ${ref}`;
        case 'conference_not_in_progress':
          return `That Twilio conference is not in progress. ${ref}`;
        case 'card_stale':
          return `That card is out of date: this chat is no longer connected to that call. Send \`/participants\` for a fresh one. ${ref}`;
        case 'invalid_join_link':
          return `That isn't a Teams meeting join link I can use. ${ref}`;
      }
      break;
    case 'not_configured':
      return `Bouncer can't reach that kind of call yet: an administrator needs to set ${o.missing.join(', ')}. ${ref}`;
    case 'upstream_failed': {
      const service = SERVICE_NAMES[o.service] ?? o.service;
      const id = o.requestId
        ? ` (request-id ${o.requestId})`
        : o.code
          ? ` (error ${o.code}${o.moreInfo ? `, ${o.moreInfo}` : ''})`
          : '';
      const next = o.retryable ? 'Please try again in a moment.' : 'Please tell your Bouncer administrator.';
      return `${service} didn't complete the request${id}, so nobody was removed. ${next} ${ref}`;
    }
  }
  return ref;
}

/** Chat text telling a bound chat that an automated system removed someone. */
export function renderSystemRemoval(o: Extract<Outcome, { kind: 'removed' }>, system: string, reason?: string): string {
  const why = reason ? ` Reason: ${escapeMarkdown(reason)}.` : '';
  return `${who(o.target)} was removed from the call by the moderation system **${escapeMarkdown(system)}**.${why} Case #${o.caseId}.`;
}

/** Chat text for a message that did not become a command. */
export function renderProblem(problem: ParseProblem): string {
  switch (problem.kind) {
    case 'empty':
      return 'Hi! Try `/help` to see what I can do.';
    case 'unknown_command':
      return `I don't know the command "${escapeMarkdown(problem.name)}". Try \`/help\`.`;
    case 'no_target':
      return 'Who should I remove? Mention them: `/kick @person [reason]`.';
    case 'several_targets':
      return `I remove one person at a time, and you mentioned ${problem.names.map(escapeMarkdown).join(', ')}. Send one \`/kick\` for each.`;
    case 'invalid_label':
      return `Twilio labels can't contain "/", so "${escapeMarkdown(problem.label)}" can't name a participant. Kick by phone number or CallSid instead.`;
    case 'bad_arguments':
      return `Usage: \`${problem.usage}\`.`;
  }
}

const SERVICE_NAMES: Record<string, string> = { graph: 'Microsoft Graph', teams: 'Teams', twilio: 'Twilio', entra: 'Microsoft Entra ID' };

export function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>#])/g, '\\$1');
}
