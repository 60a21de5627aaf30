import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxTwilio } from '../../tools/sandbox/protocol/twilio-server.js';
import { contractFile, OpenApiContract } from '../support/protocol/openapi-contract.js';

// These tests drive the real `twilio` SDK against SandboxTwilio: they prove the fake speaks
// Twilio's protocol, so that tests of our own Twilio provider can trust it.

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'test-auth-token-0123456789';
const API_KEY = { sid: 'SK0123456789abcdef0123456789abcdef', secret: 'test-api-key-secret' };
const OTHER_ACCOUNT_SID = 'ACfedcba9876543210fedcba9876543210';

const CONTRACT_FILE = contractFile('twilio_api_v2010.conferences.json');
if (!CONTRACT_FILE) console.warn('../shared/contracts not found: Twilio requests are not checked against the vendor OpenAPI document.');
// Checking is stateless: one compiled document serves every test.
const CONTRACT = CONTRACT_FILE ? new OpenApiContract(CONTRACT_FILE) : undefined;

/** Sends the SDK's requests to the fake instead of https://api.twilio.com. */
class LocalRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super();
  }

  override request<TData>(opts: RequestClientType.RequestOptions<TData>) {
    return super.request({ ...opts, uri: opts.uri.replace(/^https:\/\/api\.twilio\.com/, this.baseUrl) });
  }
}

describe('SandboxTwilio speaks Twilio REST 2010-04-01 to the real twilio SDK', () => {
  let fake: SandboxTwilio;
  let client: twilio.Twilio;

  beforeEach(async () => {
    fake = await SandboxTwilio.start({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      apiKey: API_KEY,
      ...(CONTRACT ? { contract: CONTRACT } : {}),
    });
    client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: new LocalRequestClient(fake.url) });
  });

  afterEach(async () => {
    // Every request the SDK made must fit Twilio's own OpenAPI document.
    if (CONTRACT) expect(fake.violations).toEqual([]);
    await fake.close();
  });

  const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 9, minute, 0));
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('lists in-progress conferences by FriendlyName, newest first, paging with PageToken over several pages', async () => {
    const standups = [0, 1, 2, 3, 4].map((m) => fake.addConference({ friendlyName: 'Daily standup', dateCreated: at(m) }));
    fake.addConference({ friendlyName: 'Daily standup', status: 'completed', dateCreated: at(10) });
    fake.addConference({ friendlyName: 'Other room', dateCreated: at(11) });

    const all = await client.conferences.list({ friendlyName: 'Daily standup', status: 'in-progress', pageSize: 2 });
    expect(all.map((c) => c.sid)).toEqual(standups.map((c) => c.sid).reverse());
    expect(all.every((c) => c.status === 'in-progress' && c.friendlyName === 'Daily standup')).toBe(true);

    const lists = fake.requests.filter((r) => r.path.endsWith('/Conferences.json'));
    expect(lists.map((r) => r.query)).toEqual([
      { FriendlyName: 'Daily standup', Status: 'in-progress', PageSize: '2' },
      { FriendlyName: 'Daily standup', Status: 'in-progress', PageSize: '2', Page: '1', PageToken: `PA${standups[3]!.sid}` },
      { FriendlyName: 'Daily standup', Status: 'in-progress', PageSize: '2', Page: '2', PageToken: `PA${standups[1]!.sid}` },
    ]);
    expect(lists.every((r) => r.authorizedAs === ACCOUNT_SID)).toBe(true);

    // `limit` stops paging as soon as it is reached.
    const before = fake.requests.length;
    const three = await client.conferences.list({ friendlyName: 'Daily standup', status: 'in-progress', pageSize: 2, limit: 3 });
    expect(three.map((c) => c.sid)).toEqual([standups[4]!.sid, standups[3]!.sid, standups[2]!.sid]);
    expect(fake.requests.length - before).toBe(2);
  });

  it('answers the list envelope with relative paging URIs like Twilio', async () => {
    const [a, b, c] = [0, 1, 2].map((m) => fake.addConference({ friendlyName: 'Room A', dateCreated: at(m) }));
    const base = `${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences.json`;
    const headers = { authorization: basic(ACCOUNT_SID, AUTH_TOKEN) };

    const first = (await (await fetch(`${base}?FriendlyName=Room%20A&PageSize=2`, { headers })).json()) as Record<string, unknown>;
    const path = `/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences.json`;
    expect(first).toEqual({
      conferences: [expect.objectContaining({ sid: c!.sid }), expect.objectContaining({ sid: b!.sid })],
      first_page_uri: `${path}?FriendlyName=Room%20A&PageSize=2&Page=0`,
      next_page_uri: `${path}?FriendlyName=Room%20A&PageSize=2&Page=1&PageToken=PA${b!.sid}`,
      previous_page_uri: null,
      page: 0,
      page_size: 2,
      start: 0,
      end: 1,
      uri: `${path}?FriendlyName=Room%20A&PageSize=2&Page=0`,
    });

    const second = (await (await fetch(`${fake.url}${String(first.next_page_uri)}`, { headers })).json()) as Record<string, unknown>;
    expect(second).toMatchObject({
      conferences: [expect.objectContaining({ sid: a!.sid })],
      next_page_uri: null,
      previous_page_uri: `${path}?FriendlyName=Room%20A&PageSize=2&Page=0&PageToken=PB${a!.sid}`,
      page: 1,
      start: 2,
      end: 2,
    });

    // Twilio positions pages by token only: a bare Page is refused.
    const bare = await fetch(`${base}?PageSize=2&Page=1`, { headers });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ status: 400, code: 70002 });
  });

  it('fetches one conference with the resource fields of the document', async () => {
    const created = at(7);
    const cf = fake.addConference({ friendlyName: 'Incident bridge', dateCreated: created });

    const conference = await client.conferences(cf.sid).fetch();
    expect(conference).toMatchObject({
      sid: cf.sid,
      accountSid: ACCOUNT_SID,
      friendlyName: 'Incident bridge',
      status: 'in-progress',
      region: 'us1',
      apiVersion: '2010-04-01',
      reasonConferenceEnded: null,
      callSidEndingConference: null,
      uri: `/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${cf.sid}.json`,
      subresourceUris: {
        participants: `/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${cf.sid}/Participants.json`,
        recordings: `/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${cf.sid}/Recordings.json`,
      },
    });
    // RFC 2822 on the wire, a Date after the SDK's deserializer.
    expect(conference.dateCreated.toISOString()).toBe(created.toISOString());

    await expect(client.conferences(`CF${'0'.repeat(32)}`).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
  });

  it('lists participants, across pages', async () => {
    const cf = fake.addConference({ friendlyName: 'Support line' });
    const people = [
      fake.addParticipant(cf.sid, { from: '+15550100001', label: 'agent' }),
      fake.addParticipant(cf.sid, { from: '+15550100002' }),
      fake.addParticipant(cf.sid, { from: '+15550100003', label: 'customer' }),
    ];

    const participants = await client.conferences(cf.sid).participants.list({ pageSize: 2 });
    expect(participants.map((p) => p.callSid)).toEqual(people.map((p) => p.callSid));
    expect(participants.map((p) => p.label)).toEqual(['agent', null, 'customer']);
    expect(participants[0]).toMatchObject({
      accountSid: ACCOUNT_SID,
      conferenceSid: cf.sid,
      muted: false,
      hold: false,
      coaching: false,
      callSidToCoach: null,
      endConferenceOnExit: false,
      startConferenceOnEnter: true,
      status: 'connected',
      uri: `/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${cf.sid}/Participants/${people[0]!.callSid}.json`,
    });
    expect(participants[0]!.dateCreated).toBeInstanceOf(Date);
    expect(fake.requests.filter((r) => r.path.endsWith('/Participants.json'))).toHaveLength(2);
  });

  it('removes a participant by CallSid: 204, gone from the list, the call completed', async () => {
    const cf = fake.addConference({ friendlyName: 'Town hall' });
    const mallory = fake.addParticipant(cf.sid, { from: '+15550100666' });
    const ann = fake.addParticipant(cf.sid, { from: '+15550100001' });

    await expect(client.conferences(cf.sid).participants(mallory.callSid).remove()).resolves.toBe(true);

    const del = fake.requests.at(-1)!;
    expect(del).toMatchObject({
      method: 'DELETE',
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${cf.sid}/Participants/${mallory.callSid}.json`,
      form: {},
      authorizedAs: ACCOUNT_SID,
    });
    expect([...fake.conference(cf.sid)!.participants.keys()]).toEqual([ann.callSid]);
    expect((await client.conferences(cf.sid).participants.list()).map((p) => p.callSid)).toEqual([ann.callSid]);
    expect((await client.calls(mallory.callSid).fetch()).status).toBe('completed');
    expect(fake.conference(cf.sid)!.status).toBe('in-progress');
  });

  it('kicking the last participant completes the conference, as Twilio does', async () => {
    const cf = fake.addConference({ friendlyName: 'One on one' });
    const only = fake.addParticipant(cf.sid, { from: '+15550100001' });

    await client.conferences(cf.sid).participants(only.callSid).remove();

    expect(await client.conferences(cf.sid).fetch()).toMatchObject({
      status: 'completed',
      reasonConferenceEnded: 'last-participant-kicked',
      callSidEndingConference: only.callSid,
    });
    // Listing without Status reads in-progress conferences only.
    expect(await client.conferences.list({ friendlyName: 'One on one' })).toEqual([]);
  });

  it('removes a participant by a label with a space, a # and non-ASCII, percent-encoded once by the caller', async () => {
    const cf = fake.addConference({ friendlyName: 'Hotline' });
    const label = 'Mallory #2 ☎ Zoë';
    const mallory = fake.addParticipant(cf.sid, { from: '+15550100666', label });
    // A literal "%20" in a label must not be read as a space: the segment is decoded exactly once.
    const percent = fake.addParticipant(cf.sid, { from: '+15550100002', label: '50%20off' });
    const spaced = fake.addParticipant(cf.sid, { from: '+15550100003', label: '50 off' });

    const fetched = await client.conferences(cf.sid).participants(encodeURIComponent(label)).fetch();
    expect(fetched.callSid).toBe(mallory.callSid);
    expect(fetched.label).toBe(label);

    await expect(client.conferences(cf.sid).participants(encodeURIComponent(label)).remove()).resolves.toBe(true);
    expect(fake.requests.at(-1)!.path).toBe(
      `/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${cf.sid}/Participants/Mallory%20%232%20%E2%98%8E%20Zo%C3%AB.json`,
    );
    expect(fake.conference(cf.sid)!.participants.has(mallory.callSid)).toBe(false);

    await client.conferences(cf.sid).participants(encodeURIComponent('50%20off')).remove();
    expect([...fake.conference(cf.sid)!.participants.keys()]).toEqual([spaced.callSid]);
    expect(fake.conference(cf.sid)!.participants.has(percent.callSid)).toBe(false);
  });

  it('an unencoded # never reaches the server: the SDK sends a truncated path (why the client must encode labels)', async () => {
    const cf = fake.addConference({ friendlyName: 'Hotline' });
    const mallory = fake.addParticipant(cf.sid, { from: '+15550100666', label: 'Mallory #2' });

    await expect(client.conferences(cf.sid).participants('Mallory #2').remove()).rejects.toMatchObject({ status: 404, code: 20404 });
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences/${cf.sid}/Participants/Mallory%20`);
    expect(fake.conference(cf.sid)!.participants.has(mallory.callSid)).toBe(true);
    if (CONTRACT) {
      // The vendor document has no such operation: the contract catches the client bug too.
      expect(fake.violations).toEqual([`DELETE ${sent.path}: no such operation in the document`]);
      fake.violations.length = 0;
    }
  });

  it('removing a missing participant rejects with a RestException: 404, code 20404', async () => {
    const cf = fake.addConference({ friendlyName: 'Town hall' });
    const gone = fake.addParticipant(cf.sid, { from: '+15550100666' });
    await client.conferences(cf.sid).participants(gone.callSid).remove();

    const again = client.conferences(cf.sid).participants(gone.callSid).remove();
    await expect(again).rejects.toBeInstanceOf(twilio.RestException);
    await expect(again).rejects.toMatchObject({ status: 404, code: 20404, moreInfo: 'https://www.twilio.com/docs/errors/20404' });
    await expect(client.conferences(`CF${'0'.repeat(32)}`).participants(gone.callSid).remove()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
  });

  it('a scripted 429 (code 20429) rejects with status 429; the next request is served normally', async () => {
    const cf = fake.addConference({ friendlyName: 'Busy' });
    const p = fake.addParticipant(cf.sid, { from: '+15550100666' });
    fake.script('DELETE', /\/Participants\/[^/]+\.json$/, [
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 },
      },
    ]);

    await expect(client.conferences(cf.sid).participants(p.callSid).remove()).rejects.toMatchObject({ status: 429, code: 20429 });
    expect(fake.conference(cf.sid)!.participants.has(p.callSid)).toBe(true);
    await expect(client.conferences(cf.sid).participants(p.callSid).remove()).resolves.toBe(true);
  });

  it('wrong credentials reject with 401, code 20003', async () => {
    fake.addConference({ friendlyName: 'Secret' });
    const intruder = twilio(ACCOUNT_SID, 'wrong-token', { httpClient: new LocalRequestClient(fake.url) });

    await expect(intruder.conferences.list()).rejects.toMatchObject({ status: 401, code: 20003 });
    expect(fake.requests.at(-1)!.authorizedAs).toBeUndefined();

    const raw = await fetch(`${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences.json`);
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toMatch(/^Basic /);
    if (CONTRACT) {
      expect(fake.violations).toEqual(['GET /2010-04-01/Accounts/{AccountSid}/Conferences.json: no Authorization header']);
      fake.violations.length = 0;
    }
  });

  it('another account in the path answers 404, code 20404', async () => {
    const foreign = twilio(ACCOUNT_SID, AUTH_TOKEN, { accountSid: OTHER_ACCOUNT_SID, httpClient: new LocalRequestClient(fake.url) });
    await expect(foreign.conferences.list()).rejects.toMatchObject({ status: 404, code: 20404 });
    expect(fake.requests.at(-1)!.path).toContain(`/Accounts/${OTHER_ACCOUNT_SID}/`);
  });

  it('authenticates with an API key (SK…) for the account', async () => {
    const cf = fake.addConference({ friendlyName: 'Keyed' });
    const p = fake.addParticipant(cf.sid, { from: '+15550100666' });
    const keyed = twilio(API_KEY.sid, API_KEY.secret, { accountSid: ACCOUNT_SID, httpClient: new LocalRequestClient(fake.url) });

    expect((await keyed.conferences.list({ status: 'in-progress' })).map((c) => c.sid)).toEqual([cf.sid]);
    await expect(keyed.conferences(cf.sid).participants(p.callSid).remove()).resolves.toBe(true);
    expect(fake.requests.map((r) => r.authorizedAs)).toEqual([API_KEY.sid, API_KEY.sid]);
    expect(fake.requests[0]!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Conferences.json`);

    const wrongSecret = twilio(API_KEY.sid, 'nope', { accountSid: ACCOUNT_SID, httpClient: new LocalRequestClient(fake.url) });
    await expect(wrongSecret.conferences.list()).rejects.toMatchObject({ status: 401, code: 20003 });
  });

  it("fetches a participant's call with its from and to", async () => {
    const cf = fake.addConference({ friendlyName: 'Hotline' });
    const p = fake.addParticipant(cf.sid, { from: '+15550100666', to: '+15550109999' });

    const call = await client.calls(p.callSid).fetch();
    expect(call).toMatchObject({
      sid: p.callSid,
      accountSid: ACCOUNT_SID,
      from: '+15550100666',
      to: '+15550109999',
      status: 'in-progress',
      direction: 'inbound',
      uri: `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${p.callSid}.json`,
    });
    await expect(client.calls(`CA${'0'.repeat(32)}`).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
  });
});
