import { UpstreamError } from '../../core/errors.js';
import type { Participant } from '../../core/participant.js';
import type { CallProvider, ConferenceLookup, Logger } from '../../core/ports.js';
import type { TwilioClient } from './twilio-client.js';

const CONFERENCE_SID = /^CF[0-9a-f]{32}$/i;
const E164 = /^\+[1-9]\d{6,14}$/;
const LOOKUP_CONCURRENCY = 5;

interface RestExceptionLike {
  status?: number;
  code?: number;
  moreInfo?: string;
  message?: string;
}

export interface TwilioProviderOptions {
  client: TwilioClient;
  logger: Logger;
  /** Retries after a 429 / 20429, with exponential backoff from `backoffMs`. */
  maxRetries?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Phone conferences through the Twilio SDK (REST 2010-04-01); no hand-written REST calls. */
export class TwilioConferenceProvider implements CallProvider {
  readonly kind = 'twilio' as const;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: TwilioProviderOptions) {
    this.maxRetries = options.maxRetries ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private get client(): TwilioClient {
    return this.options.client;
  }

  /** A ConferenceSid, or a friendly name resolved to its in-progress conference (names are reused). */
  async findConference(sidOrName: string): Promise<ConferenceLookup> {
    if (CONFERENCE_SID.test(sidOrName)) {
      const sid = `CF${sidOrName.slice(2).toLowerCase()}`;
      const conference = await this.call('fetch conference', () => this.client.conferences(sid).fetch(), { notFound: null });
      if (!conference) return { kind: 'not_found' };
      if (conference.status !== 'in-progress') return { kind: 'not_in_progress', sid, status: conference.status };
      return { kind: 'found', sid: conference.sid, friendlyName: conference.friendlyName };
    }
    const live = await this.call('list conferences', () =>
      this.client.conferences.list({ friendlyName: sidOrName, status: 'in-progress', limit: 20 }),
    );
    // Twilio keeps friendly names unique among in-progress conferences; take the newest if not.
    const newest = [...live].sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())[0];
    if (newest) return { kind: 'found', sid: newest.sid, friendlyName: newest.friendlyName };
    // Listing defaults to in-progress conferences (since 2026-09-30): ask for ended ones by name.
    const ended = await this.call('list conferences', () =>
      this.client.conferences.list({ friendlyName: sidOrName, status: 'completed', limit: 1 }),
    );
    return ended[0] ? { kind: 'not_in_progress', sid: ended[0].sid, status: ended[0].status } : { kind: 'not_found' };
  }

  /** Live participants with their phone numbers (one Calls fetch each, a few at a time). */
  async listParticipants(conferenceSid: string): Promise<Participant[]> {
    const listed = await this.call('list participants', () => this.client.conferences(conferenceSid).participants.list({ limit: 1000 }));
    const out: Participant[] = [];
    for (let i = 0; i < listed.length; i += LOOKUP_CONCURRENCY) {
      const batch = listed.slice(i, i + LOOKUP_CONCURRENCY);
      out.push(
        ...(await Promise.all(
          batch.map(async (p) => ({
            callId: conferenceSid,
            participantId: p.callSid,
            kind: 'phone' as const,
            label: p.label ?? undefined,
            isInLobby: false,
            phoneNumbers: await this.phoneNumbersOf(p.callSid),
          })),
        )),
      );
    }
    return out;
  }

  /** The caller's number: `from` for inbound calls, `to` for calls the conference placed. */
  async phoneNumbersOf(callSid: string): Promise<string[]> {
    const call = await this.call('fetch call', () => this.client.calls(callSid).fetch(), { notFound: null });
    if (!call) return [];
    const number = call.direction === 'inbound' ? call.from : call.to;
    return number && E164.test(number) ? [number] : [];
  }

  /**
   * `DELETE …/Participants/{CallSid or label}.json`. The SDK puts the value in the path as it is,
   * so labels are percent-encoded here; a label with `/` cannot be addressed and is refused.
   */
  async removeParticipant(conferenceSid: string, callSidOrLabel: string): Promise<'removed' | 'already_gone'> {
    if (callSidOrLabel.includes('/')) {
      throw new UpstreamError('twilio', 'a participant label cannot contain "/"', { retryable: false });
    }
    const key = encodeURIComponent(callSidOrLabel);
    const removed = await this.call(
      'remove participant',
      () => this.client.conferences(conferenceSid).participants(key).remove(),
      { notFound: false },
    );
    return removed === false ? 'already_gone' : 'removed';
  }

  /**
   * Runs one SDK call: 429 / 20429 retried with backoff; 404 / 20404 answered with `notFound`
   * when given; anything else thrown as UpstreamError with Twilio's code and more-info link.
   */
  private async call<T, N = never>(what: string, fn: () => Promise<T>, opts?: { notFound: N }): Promise<T | N> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = err as RestExceptionLike;
        if (typeof e?.status !== 'number') {
          throw new UpstreamError('twilio', `Twilio ${what} could not be sent`, { retryable: true, cause: err });
        }
        if (opts && (e.status === 404 || e.code === 20404)) return opts.notFound;
        const throttled = e.status === 429 || e.code === 20429;
        if (throttled && attempt < this.maxRetries) {
          const delay = this.backoffMs * 2 ** attempt;
          this.options.logger.warn({ what, attempt, delayMs: delay, code: e.code }, 'Twilio asked to slow down');
          await this.sleep(delay);
          continue;
        }
        throw new UpstreamError('twilio', `Twilio ${what} failed: ${e.status}${e.code ? ` (${e.code})` : ''}`, {
          status: e.status,
          vendorCode: e.code === undefined ? undefined : String(e.code),
          moreInfo: e.moreInfo,
          retryable: throttled || e.status >= 500,
          cause: err,
        });
      }
    }
  }
}
