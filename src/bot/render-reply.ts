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

const who = (t: TargetSummary | undefined) => (t?.displayName ? `**${escapeMarkdown(t.displayName)}**` : 'That person');

/** Chat text for one moderation outcome; always names the case. */
export function renderOutcome(o: Outcome): string {
  const ref = `Case #${o.caseId}.`;
  switch (o.kind) {
    case 'removed':
      return `Removed ${who(o.target)} from the call. ${ref}`;
    case 'already_gone':
      return `${who(o.target)} had already left the call. ${ref}`;
    case 'bound':
      return o.alreadyBound
        ? `I'm already connected to this meeting's call; /kick works here. ${ref}`
        : `Connected to this meeting's call; /kick works here now. ${ref}`;
    case 'target_not_found':
      return `${who(o.target)} is not in this meeting's call right now, so nobody was removed. ${ref}`;
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
          return `This meeting's call has ended. ${ref}`;
      }
      break;
    case 'not_configured':
      return `Bouncer can't reach Teams calls yet: an administrator needs to set ${o.missing.join(', ')}. ${ref}`;
    case 'upstream_failed': {
      const service = o.service === 'graph' ? 'Microsoft Graph' : o.service === 'teams' ? 'Teams' : o.service;
      const id = o.requestId ? ` (request-id ${o.requestId})` : '';
      const next = o.retryable ? 'Please try again in a moment.' : 'Please tell your Bouncer administrator.';
      return `${service} didn't complete the request${id}, so nobody was removed. ${next} ${ref}`;
    }
  }
  return ref;
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
  }
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>#])/g, '\\$1');
}
