import { afterEach, expect, it } from 'vitest';
import type { RunningBouncer } from '../../src/main.js';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { adminConnection, describePostgres, postgresAvailability, testSchemaName, testUrl } from '../support/postgres.js';
import { freePort } from '../support/ports.js';

// Issue 13 item 4 with two instances behind one public URL (issue 15): Twilio fetches an
// announcement's TwiML, and posts its announcement-end, to whichever instance the load balancer
// picks; the instance waiting for them reads what became of the announcement from the store.
const availability = await postgresAvailability();

describePostgres('Twilio announcements across two Bouncer instances on one PostgreSQL database', availability, () => {
  const admin = adminConnection();
  let h: Harness;
  let b: RunningBouncer;
  let bridge: SandboxConference;
  let mallory: string;
  afterEach(async () => {
    await h.twilio?.fake.settle();
    expect(h.twilio?.fake.violations).toEqual([]);
    await h.close();
  });

  /** A runs the commands; B is PUBLIC_BASE_URL, so Twilio's requests and callbacks all reach B. */
  async function start(options: { callbacks?: boolean } = {}) {
    const schema = admin.dropAfterwards(testSchemaName());
    const portB = await freePort();
    const env = { DATABASE_URL: testUrl({ schema }), PUBLIC_BASE_URL: `http://127.0.0.1:${portB}` };
    h = await startHarness(env, { twilio: true });
    b = await h.startInstance({ ...env, PORT: String(portB) });
    bridge = h.twilio!.fake.addConference({
      friendlyName: 'Support bridge',
      ...(options.callbacks ? { statusCallback: `${b.url}/api/twilio/conference-events` } : {}),
    });
    mallory = h.twilio!.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' }).callSid;
    await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
  }

  it('a warning on A is answered once Twilio fetched its words from B', async () => {
    await start();
    const started = Date.now();
    await h.send(PEOPLE.olivia, '/warn +15550000001 calm down', []);
    expect(h.lastReply()).toBe('Warned **+15550000001** privately: only they got the warning. Case #2.');
    // Well before the five seconds A would wait for a fetch it never saw itself.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(h.twilio!.fake.announcements).toEqual([expect.objectContaining({ callSid: mallory, status: 200, played: true })]);
    expect(h.twilio!.fake.announcements[0]!.url.startsWith(b.url)).toBe(true);
  });

  it("a kick on A removes once B heard Twilio's announcement-end", async () => {
    await start({ callbacks: true });
    const started = Date.now();
    await h.send(PEOPLE.olivia, '/kick +15550000001 hate speech', []);
    expect(h.lastReply()).toBe('Removed **+15550000001** from the call. Case #2.');
    // Not the time it takes to say it (about six seconds): the callback B received ended the wait.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(h.twilio!.fake.announcements).toEqual([expect.objectContaining({ callSid: mallory, played: true })]);
    expect(bridge.participants.has(mallory)).toBe(false);
    expect((await b.store.cases.get(2))?.detail).toMatchObject({ notice: 'sent' });
  });
});
