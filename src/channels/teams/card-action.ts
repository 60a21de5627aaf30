import { z } from 'zod';
import type { ParseProblem } from '../../app/commands/command.js';
import { parseDuration } from '../../app/commands/ban.js';
import { MAX_BAN_MS } from '../../app/moderation/actions/ban.js';

/**
 * The data of a roster card's buttons: written into the card by cards.ts, read back from the
 * submit activity Teams posts (https://adaptivecards.io/explorer/Action.Submit.html). The clicker
 * can edit it, so only ids are read back, never a name: the person is named from the roster this
 * process showed (teams-bot.ts), and the call must still be the chat's (`expectedCallId`).
 */
const personButton = { callId: z.string().min(1).max(512), participantId: z.string().min(1).max(512) };

export const kickCardActionSchema = z.object({ bouncer: z.literal('kick'), ...personButton });

/**
 * Mute and Ban are sent only by their confirmation's button (inside an Action.ShowCard), which
 * alone carries `confirm: true`: anything else (an old card, a hand-made payload) does nothing.
 */
export const muteCardActionSchema = z.object({ bouncer: z.literal('mute'), ...personButton, confirm: z.literal(true) });

/**
 * Ban's confirmation also sends its inputs, as Teams does, under their ids: `ban-reason-<row>` and
 * `ban-for-<row>`, `row` being the person's place on the card (input ids are unique per card).
 */
export const banCardActionSchema = z.looseObject({ bouncer: z.literal('ban'), ...personButton, confirm: z.literal(true), row: z.number().int().min(0).max(10_000) });

export const cardActionSchema = z.discriminatedUnion('bouncer', [kickCardActionSchema, muteCardActionSchema, banCardActionSchema]);

export type KickCardAction = z.infer<typeof kickCardActionSchema>;
export type CardAction = z.infer<typeof cardActionSchema>;

/**
 * What a button carries: the action, and the name on the button for whoever reads the card's
 * JSON. The schemas above drop the name unread: the action names its target from the roster.
 */
export type KickCardData = KickCardAction & { name: string };
export type MuteCardData = z.infer<typeof muteCardActionSchema> & { name: string };
export type BanCardData = Pick<z.infer<typeof banCardActionSchema>, 'bouncer' | 'callId' | 'participantId' | 'confirm' | 'row'> & { name: string };

/** The ids of a ban confirmation's inputs, for the person in `row`. */
export const banInputIds = (row: number) => ({ reason: `ban-reason-${row}`, duration: `ban-for-${row}` });

/** The lengths a ban confirmation offers (the `/ban` grammar's: 30m, 2h, 1d, 7d); '' is until unbanned. */
export const BAN_CARD_LENGTHS = [
  { title: 'Until unbanned', value: '' },
  { title: '30 minutes', value: '30m' },
  { title: '2 hours', value: '2h' },
  { title: '1 day', value: '1d' },
  { title: '7 days', value: '7d' },
] as const;

/** The most a card's reason may say (as a webhook's). */
const MAX_REASON_CHARS = 500;

/**
 * A ban confirmation's inputs: the reason (optional, trimmed, at most 500 characters) and the
 * length, read with `/ban`'s own grammar, since the clicker may send any text (a problem then,
 * as in the chat).
 */
export function banCardInputs(action: z.infer<typeof banCardActionSchema>): { reason?: string; durationMs?: number } | { problem: ParseProblem } {
  const ids = banInputIds(action.row);
  const rawReason = action[ids.reason];
  const rawLength = action[ids.duration];
  const reason = typeof rawReason === 'string' ? rawReason.replace(/\s+/g, ' ').trim().slice(0, MAX_REASON_CHARS) : '';
  const length = typeof rawLength === 'string' ? rawLength.trim() : '';
  if (length === '') return { reason: reason || undefined };
  const parsed = parseDuration(length);
  if (!parsed || 'problem' in parsed || parsed.consumed < length.length) {
    return { problem: parsed && 'problem' in parsed ? parsed.problem : { kind: 'invalid_duration', text: length.slice(0, 40), maxDays: MAX_BAN_MS / 86_400_000 } };
  }
  return { reason: reason || undefined, durationMs: parsed.ms };
}
