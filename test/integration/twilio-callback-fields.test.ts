import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conferenceEventSchema } from '../../src/providers/twilio/conference-events.js';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { PEOPLE, startHarness, TWILIO_ACCOUNT_SID, type Harness, type TwilioSide } from '../support/harness.js';
import { contractFile } from '../support/protocol/openapi-contract.js';

// Twilio's own documentation of the conference status callback (issue 11, item 18): the example
// participant-join form and the "Sent On" list of every parameter. Read at test time from
// ../shared/contracts, never copied into the repository.
const JOIN_FIXTURE = contractFile('fixtures/twilio-conference-statuscallback.participant-join.docs.json');
const EVENTS_FIXTURE = contractFile('fixtures/twilio-conference-statuscallback.events.docs.json');
const haveFixtures = !!JOIN_FIXTURE && !!EVENTS_FIXTURE;
if (!haveFixtures) {
  console.warn("../shared/contracts not found: Twilio's conference callback fields are not checked against the documented payload.");
}

function documentedJoinForm(): Record<string, string> {
  return (JSON.parse(readFileSync(JOIN_FIXTURE!, 'utf8')) as { form: Record<string, string> }).form;
}

describe.skipIf(!haveFixtures)("Twilio conference callbacks, as Twilio's documentation says they come", () => {
  it('reads only parameters Twilio documents for the status callback', () => {
    const { sentOn } = JSON.parse(readFileSync(EVENTS_FIXTURE!, 'utf8')) as { sentOn: Record<string, string> };
    const read = Object.keys(conferenceEventSchema.shape);
    expect(read.filter((field) => !(field in sentOn))).toEqual([]);
  });

  describe('through the real server', () => {
    let h: Harness;
    let tw: TwilioSide;
    let bridge: SandboxConference;

    beforeEach(async () => {
      h = await startHarness({}, { twilio: true });
      tw = h.twilio!;
      bridge = tw.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
      tw.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' });
      await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
      expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
    });
    afterEach(async () => {
      await h.close();
    });

    it("learns a caller's label from the documented participant-join (ParticipantLabel)", async () => {
      // The participant has no label at Twilio's REST side here: only the callback can teach it.
      const caller = tw.fake.addParticipant(bridge.sid, { from: '+15550000042' });
      const documented = documentedJoinForm();
      expect(documented.ParticipantLabel).toBe('customer');
      // The documented example, with this account's, conference's and call's ids.
      const form = { ...documented, AccountSid: TWILIO_ACCOUNT_SID, ConferenceSid: bridge.sid, FriendlyName: 'Support bridge', CallSid: caller.callSid };

      expect(await tw.postEvent(form)).toBe(204);
      expect(await h.bouncer.store.roster.list(bridge.sid)).toEqual(
        expect.arrayContaining([expect.objectContaining({ participantId: caller.callSid, label: 'customer', phoneNumbers: ['+15550000042'] })]),
      );
    });
  });
});
