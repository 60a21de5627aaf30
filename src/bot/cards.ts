import type { CommandResult } from '../core/commands/command.js';
import type { ReadResult } from '../core/moderation-service.js';
import type { Outcome } from '../core/outcome.js';
import { caseLine, participantName, renderResult, SANDBOX_NOTICE } from './render-reply.js';

/** Adaptive Card JSON (https://adaptivecards.io/explorer/), kept to schema 1.5, which Teams renders. */
export type AdaptiveCard = Record<string, unknown> & { type: 'AdaptiveCard'; fallbackText: string };

/** Data of a roster card's confirm button; the bot reads it back from the submit activity. */
export interface KickCardAction {
  bouncer: 'kick';
  callId: string;
  participantId: string;
  name: string;
}

const card = (fallbackText: string, body: unknown[], actions?: unknown[]): AdaptiveCard => ({
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  fallbackText,
  body,
  ...(actions ? { actions } : {}),
});

const text = (value: string, extra: Record<string, unknown> = {}) => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

/**
 * The card for a command result, or undefined where plain text is the better answer (help,
 * problems). Every card carries the same words as the text reply in `fallbackText`.
 */
export function resultCard(result: CommandResult): AdaptiveCard | undefined {
  const fallback = renderResult(result);
  if (result.type === 'outcome') return outcomeCard(result.outcome, fallback);
  if (result.type === 'read') return readCard(result.result, fallback);
  return undefined;
}

function outcomeCard(o: Outcome, fallback: string): AdaptiveCard {
  const ok = o.kind === 'removed' || o.kind === 'bound' || o.kind === 'unbound' || o.kind === 'dry_run';
  const facts = [{ title: 'Case', value: `#${o.caseId}` }];
  if ('callId' in o && o.callId) facts.push({ title: 'Call', value: o.callId });
  return card(fallback, [
    text(fallback, { color: ok ? 'Good' : o.kind === 'already_gone' ? 'Default' : 'Attention' }),
    { type: 'FactSet', facts },
  ]);
}

function readCard(r: ReadResult, fallback: string): AdaptiveCard | undefined {
  switch (r.kind) {
    case 'status':
      return card(fallback, [
        text('Bouncer status', { weight: 'Bolder' }),
        ...(r.sandbox ? [text(SANDBOX_NOTICE, { color: 'Warning' })] : []),
        {
          type: 'FactSet',
          facts: [
            { title: 'Connected to', value: r.binding ? (r.binding.provider === 'twilio' ? `Twilio: ${r.binding.callName ?? r.binding.callId}` : 'Teams meeting call') : 'nothing' },
            { title: 'Call state', value: r.binding ? (r.live ? r.binding.state : 'ended') : '-' },
            { title: 'In the call', value: String(r.rosterSize) },
            { title: 'Teams calls', value: r.configured.teams ? 'configured' : 'not configured' },
            { title: 'Twilio', value: r.configured.twilio ? 'configured' : 'not configured' },
          ],
        },
      ]);
    case 'roster':
      if (!r.binding || r.participants.length === 0) return undefined;
      return card(fallback, [
        text(`${r.participants.length} in the call`, { weight: 'Bolder' }),
        ...r.participants.map((p) => {
          const name = participantName(p);
          const data: KickCardAction = { bouncer: 'kick', callId: r.binding!.callId, participantId: p.participantId, name };
          return {
            type: 'Container',
            separator: true,
            items: [
              {
                type: 'ColumnSet',
                columns: [
                  { type: 'Column', width: 'stretch', items: [text(name), ...(p.isInLobby ? [text('in the lobby', { isSubtle: true, size: 'Small' })] : [])] },
                ],
              },
              {
                type: 'ActionSet',
                actions: [
                  {
                    // Confirmation first: the Remove button only opens it.
                    type: 'Action.ShowCard',
                    title: 'Remove',
                    card: {
                      type: 'AdaptiveCard',
                      body: [text(`Remove ${name} from the call?`)],
                      actions: [{ type: 'Action.Submit', title: `Yes, remove ${name}`, style: 'destructive', data }],
                    },
                  },
                ],
              },
            ],
          };
        }),
      ]);
    case 'modlog':
      if (r.cases.length === 0) return undefined;
      return card(fallback, [
        text('Recent cases', { weight: 'Bolder' }),
        ...r.cases.map((c) => text(caseLine(c), { separator: true, size: 'Small' })),
      ]);
    default:
      return undefined;
  }
}
