import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { people } from './bench-world.js';
import { sleep, type BenchContext } from './context.js';
import { bind } from './kicks.js';
import { send } from './load.js';

export const BIG_NOTIFICATION_PEOPLE = 10_000;

export interface StallResult {
  /** Bouncer's answer to the notification. */
  status: number;
  bytes: number;
  /** The slowest /healthz answer while idle, and while the notification was being taken, milliseconds. */
  idleMs: number;
  duringMs: number;
  /** How long Bouncer took to answer the notification, milliseconds. */
  tookMs: number;
}

/**
 * How long Bouncer's event loop stalls while it takes one roster notification of
 * BIG_NOTIFICATION_PEOPLE participants: /healthz is asked back to back, one at a time, and the
 * slowest answer while the notification is in flight is the stall, as seen from outside.
 */
export async function rosterStall(ctx: BenchContext): Promise<StallResult> {
  const meeting = ctx.world.addMeeting('big-notification', []);
  const callId = await bind(ctx, meeting);
  await ctx.world.graph.settle();
  ctx.world.graph.joinQuietly(callId, people('Attendee', BIG_NOTIFICATION_PEOPLE));
  const notification = ctx.world.graph.prepareRosterNotification(callId);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(ctx.urls[0]!);
  const state: { phase: 'idle' | 'during' | 'done' } = { phase: 'idle' };
  const phaseNow = () => state.phase;
  const slowest = { idle: 0, during: 0 };
  const probing = (async () => {
    for (;;) {
      const answer = await send(url, agent, { method: 'GET', path: '/healthz' }, 10_000);
      const phase = phaseNow();
      if (phase === 'done') return;
      slowest[phase] = Math.max(slowest[phase], answer.latencyMs);
    }
  })();
  try {
    await sleep(500);
    state.phase = 'during';
    const t0 = performance.now();
    const status = await notification.send();
    const tookMs = performance.now() - t0;
    state.phase = 'done';
    await probing;
    return { status, bytes: notification.bytes, idleMs: slowest.idle, duringMs: slowest.during, tookMs };
  } finally {
    state.phase = 'done';
    await probing.catch(() => undefined);
    agent.destroy();
  }
}
