import type { CommandResult } from '../../app/commands/command.js';
import type { Outcome } from '../../app/domain/outcome.js';
import { unreachable } from '../../app/domain/unreachable.js';
import type { ReadResult } from '../../app/moderation/requests.js';
import type { ChatNotice } from '../../app/ports/chat-notifier.js';
import type { AuditCase } from '../../app/ports/store.js';
import { BAN_CARD_LENGTHS, banInputIds, type BanCardData, type KickCardData, type MuteCardData } from './card-action.js';
import { caseDetails, caseLine, escapeMarkdown, modlogEntry, modlogMore, hintText, lockdownBanner, participantName, rosterShowing, SANDBOX_NOTICE, type Renderer } from './render-reply.js';

/** Adaptive Card JSON (https://adaptivecards.io/explorer/), kept to schema 1.5, which Teams renders. */
export type AdaptiveCard = Record<string, unknown> & { type: 'AdaptiveCard'; fallbackText: string };

const card = (fallbackText: string, body: unknown[], actions?: unknown[]): AdaptiveCard => ({
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  fallbackText,
  body,
  ...(actions ? { actions } : {}),
});

/**
 * A TextBlock. Its text is Markdown (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format),
 * and so are a FactSet's titles and values: anything from outside (names, labels, call names) goes
 * in through escapeMarkdown. Action titles are plain text and take names as they are.
 */
const text = (value: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

/** A plain-text title (buttons): one line. */
const plainTitle = (value: string) => value.replace(/\s+/g, ' ').trim();

/**
 * The card for a command result, or undefined where plain text is the better answer (help,
 * problems). Every card carries the same words as the text reply in `fallbackText`.
 */
export function resultCard(result: CommandResult, render: Renderer): AdaptiveCard | undefined {
  const fallback = render.result(result);
  switch (result.type) {
    case 'outcome':
      return outcomeCard(result.outcome, fallback);
    case 'read':
      return readCard(result.result, fallback, render);
    case 'help':
      return undefined;
    case 'batch':
      // One block per person, coloured by what it came to, under a heading; the fallback lists them all.
      return card(fallback, [
        text(render.batchHeading(result.results), { weight: 'Bolder' }),
        ...result.results.map((r) => text(render.result(r), { separator: true, ...(r.type === 'outcome' ? { color: tone(r.outcome) } : {}) })),
      ]);
    default:
      return unreachable(result, 'command result');
  }
}

/** How an outcome is coloured: done, nothing to do, or not done. */
function tone(o: Outcome): 'Good' | 'Default' | 'Attention' {
  switch (o.kind) {
    case 'removed':
      return o.recorded === false ? 'Attention' : 'Good';
    case 'bound':
    case 'unbound':
    case 'dry_run':
    case 'muted':
    case 'unmuted':
    case 'warned':
      return 'Good';
    case 'moderator_added':
      return o.already ? 'Default' : 'Good';
    case 'moderator_removed':
      return o.wasNamed ? 'Good' : 'Default';
    case 'banned':
      return 'Good';
    case 'unbanned':
      return o.banCaseIds.length > 0 ? 'Good' : 'Default';
    case 'reason_edited':
      return 'Good';
    case 'modlog_set':
      return o.changed ? 'Good' : 'Default';
    case 'case_not_found':
      return 'Attention';
    case 'locked':
      return o.already ? 'Default' : 'Good';
    case 'unlocked':
      return o.wasLocked ? 'Good' : 'Default';
    case 'already_gone':
      return 'Default';
    case 'interrupted':
    case 'ambiguous_target':
    case 'unsupported':
    case 'denied':
    case 'target_not_found':
    case 'not_reachable':
    case 'not_bound':
    case 'not_configured':
    case 'upstream_failed':
      return 'Attention';
    default:
      return unreachable(o, 'outcome');
  }
}

function outcomeCard(o: Outcome, fallback: string): AdaptiveCard {
  const facts = [{ title: 'Case', value: `#${o.caseId}` }];
  if ('callId' in o && o.callId) facts.push({ title: 'Call', value: escapeMarkdown(o.callId) });
  return card(fallback, [text(fallback, { color: tone(o) }), { type: 'FactSet', facts }]);
}

function readCard(r: ReadResult, fallback: string, render: Renderer): AdaptiveCard | undefined {
  const { labels, sandbox } = render.context;
  switch (r.kind) {
    case 'status':
      return card(fallback, [
        text('Bouncer status', { weight: 'Bolder' }),
        ...(sandbox ? [text(SANDBOX_NOTICE, { color: 'Warning' })] : []),
        {
          type: 'FactSet',
          facts: [
            // callFact is plain text that may hold a conference's friendly name.
            { title: 'Connected to', value: r.binding ? escapeMarkdown(labels(r.binding.provider).callFact(r.binding)) : 'nothing' },
            { title: 'Call state', value: r.binding ? (r.live ? r.binding.state : 'ended') : '-' },
            { title: 'In the call', value: String(r.rosterSize) },
            ...(r.live ? [{ title: 'Lockdown', value: r.lockdown ? `on since ${r.lockdown.startedAt.replace('T', ' ').slice(0, 16)} UTC (case #${r.lockdown.caseId})` : 'off' }] : []),
            ...r.providers.map((p) => ({ title: escapeMarkdown(labels(p.kind).product), value: p.configured ? 'configured' : 'not configured' })),
          ],
        },
        ...r.setupHints.map((hint) => text(`Setup needed: ${hintText(hint)}`, { color: 'Warning' })),
      ]);
    case 'roster': {
      const binding = r.binding;
      if (!binding || r.participants.length === 0) return undefined;
      const partial = rosterShowing(r);
      return card(fallback, [
        // The banner: a locked-down call says so above its roster.
        ...(r.lockdown ? [text(lockdownBanner(r.lockdown), { color: 'Attention', weight: 'Bolder' })] : []),
        text(`${r.total.toLocaleString('en-US')} in the call`, { weight: 'Bolder' }),
        ...(partial ? [text(partial, { isSubtle: true, size: 'Small' })] : []),
        ...r.participants.map((p, row) => {
          const name = participantName(p);
          const shown = escapeMarkdown(name);
          // The name in the data is never read back (the clicker can edit it): see card-action.ts.
          const person = { callId: binding.callId, participantId: p.participantId, name };
          const kick: KickCardData = { bouncer: 'kick', ...person };
          const mute: MuteCardData = { bouncer: 'mute', ...person, confirm: true };
          const ban: BanCardData = { bouncer: 'ban', ...person, confirm: true, row };
          const inputs = banInputIds(row);
          return {
            type: 'Container',
            separator: true,
            items: [
              {
                type: 'ColumnSet',
                columns: [
                  { type: 'Column', width: 'stretch', items: [text(shown), ...(p.isInLobby ? [text('in the lobby', { isSubtle: true, size: 'Small' })] : [])] },
                ],
              },
              {
                type: 'ActionSet',
                // Confirmation first: each button only opens its confirmation; only that sends anything.
                actions: [
                  {
                    type: 'Action.ShowCard',
                    title: 'Remove',
                    card: {
                      type: 'AdaptiveCard',
                      body: [text(`Remove ${shown} from the call?`)],
                      actions: [{ type: 'Action.Submit', title: plainTitle(`Yes, remove ${name}`), style: 'destructive', data: kick }],
                    },
                  },
                  {
                    type: 'Action.ShowCard',
                    title: 'Mute',
                    card: {
                      type: 'AdaptiveCard',
                      body: [text(`Mute ${shown} for everyone in the call?`)],
                      actions: [{ type: 'Action.Submit', title: plainTitle(`Yes, mute ${name}`), data: mute }],
                    },
                  },
                  {
                    type: 'Action.ShowCard',
                    title: 'Ban',
                    card: {
                      type: 'AdaptiveCard',
                      body: [
                        text(`Ban ${shown} from this meeting?`),
                        text("They are removed now and kept out of this chat's calls until unbanned, or for the time chosen.", { isSubtle: true, size: 'Small' }),
                        { type: 'Input.Text', id: inputs.reason, label: 'Reason (optional)', maxLength: 500, isMultiline: false },
                        {
                          type: 'Input.ChoiceSet',
                          id: inputs.duration,
                          label: 'For how long',
                          style: 'compact',
                          value: '',
                          choices: BAN_CARD_LENGTHS.map((c) => ({ title: c.title, value: c.value })),
                        },
                      ],
                      actions: [{ type: 'Action.Submit', title: plainTitle(`Yes, ban ${name}`), style: 'destructive', data: ban }],
                    },
                  },
                ],
              },
            ],
          };
        }),
      ]);
    }
    case 'modlog':
      if (r.cases.length === 0) return undefined;
      return card(fallback, [
        text('Recent cases', { weight: 'Bolder' }),
        ...r.cases.map((c) => text(caseLine(c), { separator: true, size: 'Small' })),
      ]);
    case 'case': {
      const [heading, ...rest] = caseDetails(r.case, r.edits);
      return card(fallback, [text(heading!, { weight: 'Bolder' }), ...rest.map((line) => text(line, { spacing: 'None' }))]);
    }
    case 'moderators':
    case 'bans':
    case 'denied':
    case 'upstream_failed':
    case 'no_case':
    case 'cases_against':
      return undefined;
    default:
      return unreachable(r, 'read result');
  }
}

/**
 * The card a notice is sent as, or undefined for plain text. A mod-log post is a compact card: one
 * block per case (what → outcome; who, where; reason), then the cases summed up.
 */
export function noticeCard(n: ChatNotice, render: Renderer): AdaptiveCard | undefined {
  switch (n.kind) {
    case 'modlog':
      return card(render.notice(n), [
        text('Mod log', { weight: 'Bolder', size: 'Small', isSubtle: true }),
        ...n.cases.map((c) => {
          const [head, ...rest] = modlogEntry(c);
          return {
            type: 'Container',
            separator: true,
            items: [text(head!, { color: caseTone(c) }), ...rest.map((line) => text(line, { size: 'Small', spacing: 'None' }))],
          };
        }),
        ...(n.more ? [text(modlogMore(n.more), { separator: true, size: 'Small', isSubtle: true })] : []),
      ]);
    case 'system_removal':
    case 'system_removals':
    case 'system_action':
    case 'ban_enforced':
    case 'ban_enforced_summary':
    case 'raid':
      return undefined;
    default:
      return unreachable(n, 'notice');
  }
}

/** A stored case's colour in the mod log: refused or failed cases stand out. */
function caseTone(c: AuditCase): 'Good' | 'Default' | 'Attention' {
  switch (c.outcome) {
    case 'denied':
    case 'upstream_failed':
    case 'interrupted':
    case 'not_bound':
    case 'not_configured':
    case 'unsupported':
    case 'ambiguous_target':
    case 'target_not_found':
    case 'case_not_found':
      return 'Attention';
    case 'removed':
    case 'muted':
    case 'unmuted':
    case 'warned':
    case 'not_reachable':
    case 'already_gone':
    case 'dry_run':
    case 'bound':
    case 'unbound':
    case 'moderator_added':
    case 'moderator_removed':
    case 'banned':
    case 'unbanned':
    case 'reason_edited':
    case 'modlog_set':
    case 'locked':
    case 'unlocked':
    case undefined:
      return 'Default';
  }
}
