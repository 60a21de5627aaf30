import type { CommandResult, ParseProblem } from '../core/commands/command.js';
import type { Outcome, TargetSummary } from '../core/outcome.js';

/** Chat text for a command result. One mapper for the chat transport (DESIGN.md: rendering). */
export function renderResult(result: CommandResult): string {
  if (result.type === 'help') {
    const lines = result.commands.map((c) => `- \`${c.usage}\`: ${c.summary}`);
    return ['**Bouncer** removes disruptive people from this meeting\'s call.', '', ...lines].join('\n');
  }
  return renderOutcome(result.outcome);
}

/** How a target is named in replies: display name, else label, number or participant id. */
function who(t: TargetSummary | undefined): string {
  const name = t?.displayName ?? (t?.label !== undefined ? `label "${t.label}"` : undefined) ?? t?.phoneNumber ?? t?.participantId;
  return name ? `**${escapeMarkdown(name)}**` : 'That person';
}

function callName(o: { provider: string; callName?: string }): string {
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

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>#])/g, '\\$1');
}
