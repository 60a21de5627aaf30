import { request } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeedPerson } from '../../tools/sandbox/protocol/graph-server.js';
import { APP_ID, MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';

/**
 * The longest event-loop stall while Bouncer takes a 10,000-participant roster: the target is
 * 50 ms, met on a quiet machine (this test prints what it measured, with the stall of the same
 * process idle just before, which is what the machine's own load costs). The test holds the work
 * to being sliced, which does not depend on the machine's load: the event loop turns dozens of
 * times while Bouncer works (twice when it parsed and stored in one go), and no stall takes more
 * than a third of the request's time (parsing and storing in one go stalled for most of it: 370 ms
 * of 410, and 650 of 900, in two runs on a busy 2-core machine).
 */
const STALL_TARGET_MS = 50;

/** The harness's people in the call, plus `extra` others, as the sandbox Graph seeds a meeting. */
function meetingOf(extra: number): SeedPerson[] {
  const known = Object.values(PEOPLE)
    .filter((p) => p.inCall)
    .map((p) => ({ userId: p.aadObjectId, displayName: p.name, tenantId: TENANT_ID }));
  const others = Array.from({ length: extra }, (_, i) => ({
    userId: `0b0b0b0b-0000-4000-8000-${String(i).padStart(12, '0')}`,
    displayName: `Zz Attendee ${String(i).padStart(5, '0')}`,
    tenantId: TENANT_ID,
  }));
  return [...known, ...others];
}

type Card = Record<string, unknown> & { body: Array<Record<string, unknown>> };

/** A Graph participant as a roster notification carries it (shape of the documented join roster). */
function graphParticipant(i: number): Record<string, unknown> {
  const n = String(i).padStart(12, '0');
  return {
    '@odata.type': '#microsoft.graph.participant',
    id: `1c1c1c1c-0000-4000-8000-${n}`,
    info: {
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: {
        '@odata.type': '#microsoft.graph.identitySet',
        user: { '@odata.type': '#microsoft.graph.identity', id: `2d2d2d2d-0000-4000-8000-${n}`, displayName: `Attendee ${i}`, tenantId: TENANT_ID },
      },
      endpointType: 'default',
      languageId: 'en-US',
    },
    mediaStreams: [
      { '@odata.type': '#microsoft.graph.mediaStream', mediaType: 'audio', label: 'main-audio', sourceId: String(2 * i + 1), direction: 'sendReceive', serverMuted: false },
      { '@odata.type': '#microsoft.graph.mediaStream', mediaType: 'video', label: 'main-video', sourceId: String(2 * i + 2), direction: 'receiveOnly', serverMuted: false },
    ],
    isMuted: false,
    isInLobby: false,
  };
}

/**
 * How the event loop fared while `work` ran: the longest stall (perf_hooks' event-loop delay
 * histogram, 1 ms resolution) and its 99th percentile, and how many turns it made (a setImmediate
 * that re-arms itself counts them).
 */
async function loopDuring(work: (turns: () => number) => Promise<unknown>): Promise<{ ms: number; turns: number; maxStallMs: number; p99Ms: number }> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  delay.enable();
  setImmediate(tick);
  const started = performance.now();
  try {
    await work(() => turns);
  } finally {
    running = false;
    delay.disable();
  }
  return { ms: performance.now() - started, turns, maxStallMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 };
}

/** A full garbage collection, through V8's own `gc` (exposed at run time, for this test only). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function rosterBody(callId: string, participants: Array<Record<string, unknown>>): Buffer {
  return Buffer.from(
    JSON.stringify({
      '@odata.type': '#microsoft.graph.commsNotifications',
      value: [{ '@odata.type': '#microsoft.graph.commsNotification', changeType: 'updated', resourceUrl: `/communications/calls/${callId}/participants`, resourceData: participants }],
    }),
  );
}

describe('big meetings through the real server', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.graph.settle();
    await h?.close();
    h = undefined;
  });

  it('/participants shows the first 25 by name and says how many there are; /status counts everyone', async () => {
    h = await startHarness();
    h.graph.seedMeeting(MEETING_CHAT_ID, meetingOf(56));
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();

    await h.send(PEOPLE.olivia, '/participants', []);
    const lines = h.lastReply().split('\n');
    expect(lines[0]).toBe("In this meeting's call (60 people):");
    expect(lines.slice(1, 26)).toEqual([
      '- Ann Attendee',
      '- Mallory',
      '- Olivia Organizer',
      '- Pete Presenter',
      ...Array.from({ length: 21 }, (_, i) => `- Zz Attendee ${String(i).padStart(5, '0')}`),
    ]);
    expect(lines.slice(26)).toEqual(['Showing the first 25 of 60, by name. Use /kick @person for anyone else.']);

    const card = h.lastCard() as Card;
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: '60 in the call' });
    expect(card.body[1]).toMatchObject({ type: 'TextBlock', text: 'Showing the first 25 of 60, by name. Use /kick @person for anyone else.' });
    expect(card.body.filter((i) => i.type === 'Container')).toHaveLength(25);

    await h.send(PEOPLE.olivia, '/status', []);
    expect(h.lastReply()).toMatch(/^Connected to this meeting's call \(established\), 60 people in it\./);
  });

  it('a small meeting is listed whole, with its size', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();

    await h.send(PEOPLE.olivia, '/participants', []);
    expect(h.lastReply()).toBe("In this meeting's call (4 people):\n- Ann Attendee\n- Mallory\n- Olivia Organizer\n- Pete Presenter");
    expect((h.lastCard() as Card).body[0]).toMatchObject({ text: '4 in the call' });
  });

  it('a kick in a 20,000-participant call removes the right person with one Graph request, found by index', async () => {
    h = await startHarness();
    h.graph.seedMeeting(MEETING_CHAT_ID, meetingOf(19_996));
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    expect(await h.bouncer.store.roster.count(callId!, { excludeKinds: ['application'] })).toBe(20_000);

    // The roster is read by index only: a kick that read the whole roster would call list.
    const roster = h.bouncer.store.roster;
    const wholeReads: string[] = [];
    const list = roster.list.bind(roster);
    roster.list = async (id: string) => {
      wholeReads.push(id);
      return list(id);
    };
    const before = h.graph.requests.length;
    const started = performance.now();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> raiding', [PEOPLE.mallory]);
    const ms = performance.now() - started;
    roster.list = list;

    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(h.graph.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':id')}`)).toEqual([
      'DELETE /communications/calls/:id/participants/:id',
    ]);
    expect(wholeReads).toEqual([]);
    expect(await h.bouncer.store.roster.count(callId!, { excludeKinds: ['application'] })).toBe(19_999);
    console.info(`[big-meeting] a warm chat kick in a 20,000-participant call took ${ms.toFixed(0)} ms end to end`);
  });

  it(`a 10,000-participant roster notification is taken (202), counted right, in many short turns of the event loop (target: no stall over ${STALL_TARGET_MS} ms)`, async () => {
    h = await startHarness();
    const body = rosterBody('big-call', Array.from({ length: 10_000 }, (_, i) => graphParticipant(i)));
    expect(body.length).toBeGreaterThan(512 * 1024);
    const token = await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID });

    // The garbage of building the body is collected now, not while Bouncer is measured.
    collectGarbage();
    // How much this process stalls with nothing to do (other processes on the machine).
    const idle = await loopDuring(() => new Promise((resolve) => setTimeout(resolve, 300)));
    collectGarbage();
    // Only the request is measured: the body and the token are ready. Turns are counted from when
    // the whole body has been handed to the socket: what Bouncer does with it, not the upload.
    let status = 0;
    let turnsAfterUpload = 0;
    const busy = await loopDuring(async (turns) => {
      status = await new Promise<number>((resolve, reject) => {
        const req = request(`${h!.bouncer.url}/api/calls`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${token}` },
        });
        let uploaded = 0;
        req.on('finish', () => (uploaded = turns()));
        req.on('response', (res) => {
          turnsAfterUpload = turns() - uploaded;
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    });
    console.info(
      `[big-meeting] 10,000-participant roster (${(body.length / 1e6).toFixed(1)} MB): answered in ${busy.ms.toFixed(0)} ms, ${turnsAfterUpload} turns after the upload; ` +
        `longest event-loop stall ${busy.maxStallMs.toFixed(1)} ms (p99 ${busy.p99Ms.toFixed(1)} ms); idle stall on this machine ${idle.maxStallMs.toFixed(1)} ms`,
    );

    expect(status).toBe(202);
    expect(await h.bouncer.store.roster.count('big-call')).toBe(10_000);
    expect(await h.bouncer.store.roster.findByIdentity('big-call', '2d2d2d2d-0000-4000-8000-000000009999')).toMatchObject([
      { participantId: '1c1c1c1c-0000-4000-8000-000000009999', displayName: 'Attendee 9999' },
    ]);
    // Parsing, checking and storing were sliced (dozens of yields): other work ran all along.
    expect(turnsAfterUpload).toBeGreaterThan(30);
    expect(busy.maxStallMs).toBeLessThan(busy.ms / 3);

    // The next roster of the call, 2,500 fewer: they have left.
    const next = await fetch(`${h.bouncer.url}/api/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: rosterBody('big-call', Array.from({ length: 7_500 }, (_, i) => graphParticipant(i + 2_500))),
    });
    expect(next.status).toBe(202);
    expect(await h.bouncer.store.roster.count('big-call')).toBe(7_500);
    expect(await h.bouncer.store.roster.findByParticipantId('big-call', '1c1c1c1c-0000-4000-8000-000000000001')).toBeUndefined();
  });

  it('a notification over CALLS_MAX_BODY_BYTES gets 413; an unsigned one is refused before its body is read', async () => {
    h = await startHarness({ CALLS_MAX_BODY_BYTES: String(256 * 1024) });
    const body = rosterBody('big-call', Array.from({ length: 1_000 }, (_, i) => graphParticipant(i)));
    expect(body.length).toBeGreaterThan(256 * 1024);
    const token = await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID });

    const tooLarge = await fetch(`${h.bouncer.url}/api/calls`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ type: 'urn:bouncer:problem:payload-too-large', title: 'The request body is too large', status: 413 });
    const unsigned = await fetch(`${h.bouncer.url}/api/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    expect(await h.bouncer.store.roster.count('big-call')).toBe(0);
  });
});
