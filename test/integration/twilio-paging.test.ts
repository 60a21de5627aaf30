import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { TwilioConferenceProvider } from '../../src/providers/twilio/conference-provider.js';
import { createTwilioClient } from '../../src/providers/twilio/twilio-client.js';
import { SandboxTwilio } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TWILIO_ACCOUNT_SID, TWILIO_API_KEY, TWILIO_AUTH_TOKEN, type Harness } from '../support/harness.js';
import { contractFile, OpenApiContract } from '../support/protocol/openapi-contract.js';

const CONTRACT_FILE = contractFile('twilio_api_v2010.conferences.json');
const CONTRACT = CONTRACT_FILE ? new OpenApiContract(CONTRACT_FILE) : undefined;

const number = (i: number) => `+1555${String(i).padStart(7, '0')}`;
const listRequests = (fake: SandboxTwilio, conferenceSid: string) =>
  fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/Conferences/${conferenceSid}/Participants.json`)).map((r) => r.query);

/**
 * Twilio pages its participant list (PageSize, then each page's next_page_uri with its
 * PageToken): the Twilio provider follows every page, and the sandbox Twilio serves them.
 */
describe('Twilio participant lists, page by page', () => {
  let h: Harness | undefined;
  let fake: SandboxTwilio | undefined;
  afterEach(async () => {
    if (CONTRACT && fake) expect(fake.violations).toEqual([]);
    await fake?.close();
    fake = undefined;
    await h?.close();
    h = undefined;
  });

  it('the provider asks for PageSize and follows next_page_uri to the last page, numbers included', async () => {
    fake = await SandboxTwilio.start({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, ...(CONTRACT ? { contract: CONTRACT } : {}) });
    const cf = fake.addConference({ friendlyName: 'Paged' });
    const people = Array.from({ length: 5 }, (_, i) => fake!.addParticipant(cf.sid, { from: number(i), ...(i === 3 ? { label: 'host' } : {}) }));
    const client = createTwilioClient({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, baseUrl: fake.url });
    const provider = new TwilioConferenceProvider({ client, logger: createLogger('silent'), participantPageSize: 2 });

    const listed = await provider.listParticipants(cf.sid);

    expect(listed.map((p) => [p.participantId, p.phoneNumbers, p.label])).toEqual(people.map((p, i) => [p.callSid, [number(i)], i === 3 ? 'host' : undefined]));
    expect(listRequests(fake, cf.sid)).toEqual([
      { PageSize: '2' },
      { PageSize: '2', Page: '1', PageToken: `PA${people[1]!.callSid}` },
      { PageSize: '2', Page: '2', PageToken: `PA${people[3]!.callSid}` },
    ]);
  });

  it('stops after the most pages it follows, and says so in the log', async () => {
    fake = await SandboxTwilio.start({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, ...(CONTRACT ? { contract: CONTRACT } : {}) });
    const cf = fake.addConference({ friendlyName: 'Endless' });
    for (let i = 0; i < 7; i++) fake.addParticipant(cf.sid, { from: number(i) });
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    const client = createTwilioClient({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, baseUrl: fake.url });
    const provider = new TwilioConferenceProvider({ client, logger: createLogger('warn', sink), participantPageSize: 2, maxParticipantPages: 2 });

    expect(await provider.listParticipants(cf.sid)).toHaveLength(4);
    expect(listRequests(fake, cf.sid)).toHaveLength(2);
    expect(logs.join('')).toContain('participant list truncated');
  });

  it('through the real server: binding a 1,050-caller conference reads both pages, and a caller on the second page is kicked with one DELETE', async () => {
    // The meeting's chat is configured for this conference, so its organizer may bind it. The kick's
    // announcement (NOTIFY_REMOVED) is tested in twilio-mute-warn.test.ts: here, the removal alone.
    h = await startHarness({ TWILIO_CONFERENCE_CHATS: JSON.stringify({ 'Town hall': MEETING_CHAT_ID }), NOTIFY_REMOVED: 'false' }, { twilio: true });
    const tw = h.twilio!;
    const bridge = tw.fake.addConference({ friendlyName: 'Town hall' });
    const callers = Array.from({ length: 1_050 }, (_, i) => tw.fake.addParticipant(bridge.sid, { from: number(i) }));

    await h.send(PEOPLE.olivia, '/bind twilio Town hall', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference \*\*Town hall\*\*/);
    expect(listRequests(tw.fake, bridge.sid)).toEqual([{ PageSize: '1000' }, { PageSize: '1000', Page: '1', PageToken: `PA${callers[999]!.callSid}` }]);
    expect(await h.bouncer.store.roster.count(bridge.sid)).toBe(1_050);

    const before = tw.fake.requests.length;
    await h.send(PEOPLE.olivia, `/kick ${number(1_049)}`, []);
    expect(h.lastReply()).toBe(`Removed **${number(1_049)}** from the call. Case #2.`);
    expect(tw.fake.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/\/2010-04-01\/Accounts\/AC\w+/, '')}`)).toEqual([
      `DELETE /Conferences/${bridge.sid}/Participants/${callers[1_049]!.callSid}.json`,
    ]);
    expect(tw.fake.requests.every((r) => r.authorizedAs === TWILIO_API_KEY.sid)).toBe(true);
    if (CONTRACT) expect(tw.fake.violations).toEqual([]);
  });
});
