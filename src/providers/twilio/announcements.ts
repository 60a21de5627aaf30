import { callBudgetMs } from '../../app/domain/deadline.js';
import { UpstreamError } from '../../app/domain/errors.js';
import type { NoticeRef } from '../../app/ports/call-provider.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { Store } from '../../app/ports/store.js';

/** Where Twilio fetches a participant's announcement from: Bouncer's TwiML for one notice. */
export const TWILIO_ANNOUNCE_PATH = '/api/twilio/announce';

/** The AnnounceUrl of a notice: its case and the token that unlocks it (never its words). */
export function announceUrl(publicBaseUrl: string, ref: NoticeRef): string {
  return `${publicBaseUrl}${TWILIO_ANNOUNCE_PATH}?case=${ref.caseId}&t=${encodeURIComponent(ref.token)}`;
}

/** The notice an AnnounceUrl names, or undefined when it is not one of Bouncer's. */
export function noticeOfUrl(query: string): NoticeRef | undefined {
  const params = new URLSearchParams(query);
  const caseText = params.get('case') ?? '';
  const token = params.get('t') ?? '';
  if (!/^[1-9]\d{0,14}$/.test(caseText) || token === '') return undefined;
  return { caseId: Number(caseText), token };
}

/** How long Twilio may take to fetch the TwiML once the participant was updated. */
const FETCH_WAIT_MS = 5_000;
/** Never wait longer than this for an announcement to be spoken. */
const MAX_SPEECH_MS = 20_000;

/**
 * The time `<Say>` takes to speak `text`: about 150 words a minute, plus a second to start. Used
 * when Twilio does not tell (its `announcement-end` callback comes only to conferences whose
 * statusCallbackEvent includes `announcement`).
 */
export function speechMs(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.min(MAX_SPEECH_MS, 1_000 + words * 400);
}

interface Watch {
  served?: { speechMs: number };
  ended?: 'end' | 'fail';
  wake: Array<() => void>;
}

/** How often a wait that another instance may end reads the store. */
const POLL_MS = 200;
/** How long the store keeps what became of an announcement. */
const KEEP_MS = 60 * 60_000;

/** The store keys of what became of a notice's announcement (another instance may have seen it). */
const fetchedKey = (caseId: number) => `announcement:${caseId}:fetched`;
const endedKey = (caseId: number) => `announcement:${caseId}:ended`;

/**
 * Announcements Bouncer waits for: a warning until Twilio has its words (so that "warned" means
 * something), a notice before a removal until it has been played (a removal ends the call's time in
 * the conference at once). Twilio plays a participant's announcement after fetching its TwiML from
 * Bouncer. A watch starts before the participant is updated; the announce route says when Twilio
 * fetched the words, the conference callbacks when it finished (if subscribed). Behind one public
 * URL those requests may reach another instance: what they say is also claimed in the store
 * (idempotency keys, as the join lease is), and a wait reads it there every POLL_MS as well as in
 * memory.
 */
export class Announcements {
  private readonly watches = new Map<number, Watch>();

  constructor(
    private readonly deps: {
      store: Pick<Store, 'idempotency'>;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /** Starts watching a notice's announcement; `close` it when done. */
  watch(caseId: number): { fetched(): Promise<void>; heard(): Promise<void>; close(): void } {
    const watch: Watch = { wake: [] };
    this.watches.set(caseId, watch);
    return {
      fetched: () => this.fetched(caseId, watch),
      heard: () => this.heard(caseId, watch),
      close: () => {
        if (this.watches.get(caseId) === watch) this.watches.delete(caseId);
      },
    };
  }

  /** Twilio fetched a notice's TwiML: playing starts now. */
  async served(caseId: number, text: string): Promise<void> {
    const ms = speechMs(text);
    const watch = this.watches.get(caseId);
    if (watch) {
      watch.served = { speechMs: ms };
      for (const wake of watch.wake.splice(0)) wake();
    }
    await this.remember(fetchedKey(caseId), String(ms));
  }

  /** Twilio says a notice's announcement ended (`announcement-end`) or failed (`announcement-fail`). */
  async ended(caseId: number, failed: boolean): Promise<void> {
    const watch = this.watches.get(caseId);
    if (watch) {
      watch.ended = failed ? 'fail' : 'end';
      for (const wake of watch.wake.splice(0)) wake();
    }
    await this.remember(endedKey(caseId), failed ? 'fail' : 'end');
  }

  /** Claims a key for the other instances; a failure only costs them the time they would have saved. */
  private async remember(key: string, value: string): Promise<void> {
    const at = this.deps.clock.now();
    try {
      await this.deps.store.idempotency.claim(key, value, at.toISOString(), new Date(at.getTime() + KEEP_MS).toISOString());
    } catch (err) {
      this.deps.logger.warn({ err, key }, 'could not record what became of an announcement');
    }
  }

  /** What the store says became of the announcement, into `watch` (another instance may have seen it). */
  private async readBack(caseId: number, watch: Watch): Promise<void> {
    const { idempotency } = this.deps.store;
    if (!watch.served) {
      const fetched = await idempotency.get(fetchedKey(caseId));
      const ms = Number(fetched?.requestHash);
      if (fetched && Number.isFinite(ms)) watch.served = { speechMs: ms };
    }
    if (!watch.ended) {
      const ended = (await idempotency.get(endedKey(caseId)))?.requestHash;
      if (ended === 'end' || ended === 'fail') watch.ended = ended;
    }
  }

  /**
   * Resolves once the announcement has been played: Twilio said so, or the time to speak it has
   * passed since Twilio fetched it. Throws a retryable outage when Twilio did not fetch it in time,
   * or said it failed. Never waits past the command's deadline.
   */
  private async heard(caseId: number, watch: Watch): Promise<void> {
    await this.fetched(caseId, watch);
    if (watch.ended) return;
    await this.until(caseId, watch, () => !!watch.ended, callBudgetMs(watch.served!.speechMs));
    if (watch.ended === 'fail') throw new UpstreamError('twilio', `Twilio could not play the announcement of case ${caseId}`);
  }

  /** Resolves once Twilio fetched the announcement's TwiML (or said it ended); throws as `heard` does. */
  private async fetched(caseId: number, watch: Watch): Promise<void> {
    await this.until(caseId, watch, () => !!watch.served || !!watch.ended, callBudgetMs(FETCH_WAIT_MS));
    if (watch.ended === 'fail') throw new UpstreamError('twilio', `Twilio could not play the announcement of case ${caseId}`);
    if (!watch.served && !watch.ended) throw new UpstreamError('twilio', `Twilio did not fetch the announcement of case ${caseId}`, { retryable: true });
  }

  /** Waits until `done`, woken by this instance at once or by the store every POLL_MS, for at most `ms`. */
  private async until(caseId: number, watch: Watch, done: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (done()) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, Math.min(POLL_MS, left));
        function finish() {
          clearTimeout(timer);
          resolve();
        }
        watch.wake.push(finish);
      });
      if (!done()) await this.readBack(caseId, watch).catch((err: unknown) => this.deps.logger.warn({ err, caseId }, 'could not read what became of an announcement'));
    }
  }
}
