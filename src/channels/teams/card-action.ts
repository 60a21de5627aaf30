import { z } from 'zod';

/**
 * The data of a roster card's confirm button: written into the card by cards.ts, read back from
 * the submit activity Teams posts (https://adaptivecards.io/explorer/Action.Submit.html).
 */
export const kickCardActionSchema = z.object({
  bouncer: z.literal('kick'),
  callId: z.string().min(1),
  participantId: z.string().min(1),
  name: z.string(),
});

export type KickCardAction = z.infer<typeof kickCardActionSchema>;
