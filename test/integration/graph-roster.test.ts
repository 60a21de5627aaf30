import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APP_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { CONTRACTS_DIR } from '../support/protocol/openapi-contract.js';

/**
 * How the roster follows Graph's participants notifications: an `updated` one carries the call's
 * whole roster (whoever it leaves out has left, with no `deleted` notification), a `deleted` one
 * carries who left. Checked with Graph's own payloads, read from ../shared/contracts/fixtures at
 * test time (never copied into the repository), and with the sandbox Graph, which sends rosters the
 * same way.
 */
const fixturesDir = path.join(CONTRACTS_DIR, 'fixtures');
const haveFixtures = existsSync(fixturesDir);
if (!haveFixtures) console.warn(`[graph-roster.test] ${fixturesDir} is absent: the tests with Graph's recorded and documented notifications are skipped.`);

type Json = Record<string, unknown>;
const fixture = <T = Json>(name: string): T => JSON.parse(readFileSync(path.join(fixturesDir, name), 'utf8')) as T;

describe('Graph roster notifications on /api/calls', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.graph.settle();
    await h.close();
  });

  async function post(payload: unknown): Promise<number> {
    const token = await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID });
    const res = await fetch(`${h.bouncer.url}/api/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
    });
    await res.arrayBuffer();
    return res.status;
  }
  const rosterIds = async (callId: string) => (await h.bouncer.store.roster.list(callId)).map((p) => p.participantId).sort();

  describe.skipIf(!haveFixtures)("with Graph's own payloads", () => {
    it('the documented join roster, then the same roster without one participant: that participant has left', async () => {
      const joined = fixture('graph-notification.roster.join-meeting.docs.json');
      const notification = (joined.value as Json[])[0]!;
      const callId = /calls\/([^/]+)\/participants/.exec(String(notification.resourceUrl))![1]!;
      const [john, bot] = notification.resourceData as Json[];

      expect(await post(joined)).toBe(202);
      expect(await rosterIds(callId)).toEqual([String(bot!.id), String(john!.id)].sort());
      expect(await h.bouncer.store.roster.findByIdentity(callId, '112f7296-5fa4-42ca-bae8-6a692b15d4b8')).toMatchObject([
        { participantId: john!.id, kind: 'user', displayName: 'John' },
      ]);

      // Graph's next roster: the same notification with John no longer in it, and no `deleted`.
      expect(await post({ ...joined, value: [{ ...notification, resourceData: [bot] }] })).toBe(202);
      expect(await rosterIds(callId)).toEqual([String(bot!.id)]);
      expect(await h.bouncer.store.roster.findByIdentity(callId, '112f7296-5fa4-42ca-bae8-6a692b15d4b8')).toEqual([]);

      // A `deleted` notification names who left.
      expect(await post({ ...joined, value: [{ ...notification, changeType: 'deleted', resourceData: [bot] }] })).toBe(202);
      expect(await rosterIds(callId)).toEqual([]);
    });

    it("the comms SDK's recorded joins and departures, sent as Graph sends them (each roster whole), leave exactly who is in the call", async () => {
      type Change = { Resource: Json; Id: string; ResourcePath: string };
      const events = fixture<Array<{ AddedResources: Change[]; RemovedResources: Change[] }>>('graph-participants.sdk-events.recorded.json');
      const callId = /calls\/([^/]+)\/participants/.exec(events[0]!.AddedResources[0]!.ResourcePath)![1]!;
      const inCall = new Map<string, Json>();
      let departures = 0;
      for (const event of events) {
        for (const added of event.AddedResources) inCall.set(added.Id, added.Resource);
        for (const removed of event.RemovedResources) inCall.delete(removed.Id);
        departures += event.RemovedResources.length;
        const roster = {
          '@odata.type': '#microsoft.graph.commsNotifications',
          value: [{ changeType: 'updated', resourceUrl: `/communications/calls/${callId}/participants`, resourceData: [...inCall.values()] }],
        };
        expect(await post(roster)).toBe(202);
        expect(await rosterIds(callId)).toEqual([...inCall.keys()].sort());
      }
      expect(departures).toBe(10);
      expect(inCall.size).toBe(2);
    });

    it('a documented roster muting the only participant it holds keeps that participant, by its Entra id', async () => {
      const muted = fixture('graph-notification.roster-updated.participant-muted.docs.json');
      const callId = /calls\/([^/]+)\/participants/.exec(String((muted.value as Json[])[0]!.resourceUrl))![1]!;
      expect(await post(muted)).toBe(202);
      expect(await h.bouncer.store.roster.list(callId)).toMatchObject([
        { participantId: '2765eb15-01f8-47c6-b12b-c32111a4a86f', kind: 'user', identityId: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' },
      ]);
    });

    it('documented rosters whose participant has no id yet (being invited) are taken, with nobody to act on stored', async () => {
      for (const name of ['graph-notification.roster-updated.user-added.docs.json', 'graph-notification.roster-updated.app-added.docs.json']) {
        const payload = fixture(name);
        const callId = /calls\/([^/]+)\/participants/.exec(String((payload.value as Json[])[0]!.resourceUrl))![1]!;
        expect(await post(payload)).toBe(202);
        expect(await h.bouncer.store.roster.count(callId)).toBe(0);
      }
    });
  });

  it("someone who hangs up leaves the roster with Graph's next roster: /participants stops listing them and a kick removes nobody", async () => {
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    const call = h.graph.call(callId!)!;
    const mallory = [...call.participants.values()].find((p) => JSON.stringify(p.info).includes(PEOPLE.mallory.aadObjectId))!;
    expect(await h.bouncer.store.roster.findByParticipantId(callId!, mallory.id)).toBeDefined();

    await h.graph.leave(callId!, mallory.id);
    expect(await h.bouncer.store.roster.findByParticipantId(callId!, mallory.id)).toBeUndefined();
    await h.send(PEOPLE.olivia, '/participants', []);
    expect(h.lastReply()).toBe("In this meeting's call (3 people):\n- Ann Attendee\n- Olivia Organizer\n- Pete Presenter");

    const before = h.graph.requests.length;
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('**Mallory** is not in the call right now, so nobody was removed. Case #2.');
    expect(h.graph.requests.slice(before).filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  it('a roster notification carries the whole roster: a participant who joins is added and nobody else is lost', async () => {
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    const before = await rosterIds(callId!);
    const nora = await h.graph.addPerson(callId!, { userId: PEOPLE.nora.aadObjectId, displayName: PEOPLE.nora.name });
    expect(await rosterIds(callId!)).toEqual([...before, nora].sort());
  });
});
