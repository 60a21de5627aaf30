import { callBudgetMs } from '../../app/domain/deadline.js';
import { UpstreamError } from '../../app/domain/errors.js';
import type { NoticeRef } from '../../app/ports/call-provider.js';

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

/**
 * Announcements Bouncer waits for: a warning until Twilio has its words (so that "warned" means
 * something), a notice before a removal until it has been played (a removal ends the call's time in
 * the conference at once). Twilio plays a participant's announcement after fetching its TwiML from
 * Bouncer. A watch starts before the participant is updated; the announce route says when Twilio
 * fetched the words, the conference callbacks when it finished (if subscribed).
 * Kept in memory, so one instance (as the conference callbacks' ordering).
 */
export class Announcements {
  private readonly watches = new Map<number, Watch>();

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

  /** Twilio fetched a watched notice's TwiML: playing starts now. */
  served(caseId: number, text: string): void {
    const watch = this.watches.get(caseId);
    if (!watch) return;
    watch.served = { speechMs: speechMs(text) };
    for (const wake of watch.wake.splice(0)) wake();
  }

  /** Twilio says a watched notice's announcement ended (`announcement-end`) or failed (`announcement-fail`). */
  ended(caseId: number, failed: boolean): void {
    const watch = this.watches.get(caseId);
    if (!watch) return;
    watch.ended = failed ? 'fail' : 'end';
    for (const wake of watch.wake.splice(0)) wake();
  }

  /**
   * Resolves once the announcement has been played: Twilio said so, or the time to speak it has
   * passed since Twilio fetched it. Throws a retryable outage when Twilio did not fetch it in time,
   * or said it failed. Never waits past the command's deadline.
   */
  private async heard(caseId: number, watch: Watch): Promise<void> {
    await this.fetched(caseId, watch);
    if (watch.ended) return;
    await this.until(watch, () => !!watch.ended, callBudgetMs(watch.served!.speechMs));
    if (watch.ended === 'fail') throw new UpstreamError('twilio', `Twilio could not play the announcement of case ${caseId}`);
  }

  /** Resolves once Twilio fetched the announcement's TwiML (or said it ended); throws as `heard` does. */
  private async fetched(caseId: number, watch: Watch): Promise<void> {
    await this.until(watch, () => !!watch.served || !!watch.ended, callBudgetMs(FETCH_WAIT_MS));
    if (watch.ended === 'fail') throw new UpstreamError('twilio', `Twilio could not play the announcement of case ${caseId}`);
    if (!watch.served && !watch.ended) throw new UpstreamError('twilio', `Twilio did not fetch the announcement of case ${caseId}`, { retryable: true });
  }

  private until(watch: Watch, done: () => boolean, ms: number): Promise<void> {
    if (done() || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      const check = () => (done() ? finish() : watch.wake.push(check));
      watch.wake.push(check);
    });
  }
}
