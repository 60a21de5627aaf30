import { describe, expect, it } from 'vitest';
import { outcomeResponse } from '../../src/channels/webhook/problems.js';
import { Renderer } from '../../src/channels/teams/render-reply.js';
import { labelsOf } from '../../src/providers/index.js';

// A warning to someone who is not a member of the meeting's chat is sent to nobody: the chat's reply
// and the webhook's answer both say plainly that they could not be warned privately.
describe('a warning that cannot reach its person (not_reachable)', () => {
  const outcome = {
    kind: 'not_reachable',
    caseId: 7,
    action: 'warn',
    target: { displayName: 'Raider' },
    callId: 'call-1',
    why: 'not_a_chat_member',
  } as const;

  it('the chat reply says they could not be warned privately, and nothing was sent', () => {
    const text = new Renderer({ labels: labelsOf, sandbox: false }).result({ type: 'outcome', outcome });
    expect(text).toBe(
      "I couldn't warn **Raider** privately: they aren't a member of this meeting's chat (guests and dial-in callers often aren't), so Teams can't show them a notice. Nothing was sent. Case #7.",
    );
  });

  it('the webhook answers 409 not-reachable, not retryable', () => {
    expect(outcomeResponse(outcome, 'warn')).toEqual({
      status: 409,
      body: {
        type: 'urn:bouncer:problem:not-reachable',
        title: 'The person cannot be notified privately',
        status: 409,
        caseId: 7,
        detail: "Nothing was sent: the person is not a member of the meeting's chat, so they cannot be notified privately.",
        retryable: false,
      },
    });
  });
});
