import { z } from 'zod';

/**
 * The data of a roster card's confirm button: written into the card by cards.ts, read back from
 * the submit activity Teams posts (https://adaptivecards.io/explorer/Action.Submit.html). The
 * clicker can edit it, so only ids are read back: never a name.
 */
export const kickCardActionSchema = z.object({
  bouncer: z.literal('kick'),
  callId: z.string().min(1),
  participantId: z.string().min(1),
});

export type KickCardAction = z.infer<typeof kickCardActionSchema>;

/**
 * What a button carries: the action, and the name on the button for whoever reads the card's
 * JSON. The schema above drops the name unread: the kick names its target from the roster.
 */
export type KickCardData = KickCardAction & { name: string };
