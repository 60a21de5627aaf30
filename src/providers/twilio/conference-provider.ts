import type { z } from 'zod';
import { BouncerError, UpstreamError } from '../../app/domain/errors.js';
import { isConferenceSid, isE164, labelProblem, normalizeSid } from '../../app/domain/ids.js';
import type { Participant } from '../../app/domain/participant.js';
import type { CallLookup, CallProvider, NoticeRef, ProviderCapabilities } from '../../app/ports/call-provider.js';
import type { Logger } from '../../app/ports/runtime.js';
import { mayHaveActed, RetryScheduler, UpstreamHttpError, type RetryOptions } from '../retry.js';
import { announceUrl, type Announcements } from './announcements.js';
import type { ConferenceChats } from './config.js';
import type { TwilioClient } from './twilio-client.js';
import { callSchema, conferenceSchema, participantSchema, type TwilioConference } from './twilio-schemas.js';

const LOOKUP_CONCURRENCY = 5;
/** Twilio's largest PageSize: a conference (at most 250 participants) is then one page. */
const DEFAULT_PAGE_SIZE = 1000;
/** Pages followed at most, in case an upstream's next_page_uri never ends. */
const DEFAULT_MAX_PAGES = 100;

export interface TwilioProviderOptions {
  /** Built by createTwilioClient, whose HTTP client reports failures as UpstreamHttpError. */
  client: TwilioClient;
  logger: Logger;
  /** How 429 and 5xx answers are retried (src/providers/retry.ts), or the scheduler to share. */
  retry?: RetryOptions | RetryScheduler;
  /** The chats each configured conference is for (TWILIO_CONFERENCE_CHATS). */
  conferenceChats?: readonly ConferenceChats[];
  /** Participants asked for per page of the participant list (Twilio's PageSize, 1 to 1000; default 1000). */
  participantPageSize?: number;
  /** Pages of the participant list followed at most (default 100); a longer list is cut short, logged. */
  maxParticipantPages?: number;
  /**
   * Where Twilio fetches announcements (PUBLIC_BASE_URL): given only when Bouncer can serve them
   * (it has a public URL, and the auth token that verifies Twilio's requests). Without it, the
   * provider has no `announce`.
   */
  publicBaseUrl?: string;
  /** Announcements Bouncer waits for (shared with the announce route and the conference callbacks). */
  announcements?: Announcements;
}

/** Phone conferences through the Twilio SDK (REST 2010-04-01); no hand-written REST calls. */
export class TwilioConferenceProvider implements CallProvider {
  readonly kind = 'twilio' as const;
  /** Participants are phone lines, addressable by label; notices are announcements (`announce`). */
  readonly capabilities: ProviderCapabilities = { removeByLabel: true, phoneCallers: true, meetingNotifications: false };
  private readonly retry: RetryScheduler;
  /** Present when Bouncer can serve announcements (see TwilioProviderOptions.publicBaseUrl). */
  readonly announce?: CallProvider['announce'];

  constructor(private readonly options: TwilioProviderOptions) {
    this.retry =
      options.retry instanceof RetryScheduler ? options.retry : new RetryScheduler('twilio', { logger: options.logger, ...options.retry });
    const publicBaseUrl = options.publicBaseUrl;
    if (publicBaseUrl) this.announce = (conferenceSid, key, notice, opts) => this.announceTo(publicBaseUrl, conferenceSid, key, notice, opts);
  }

  private get client(): TwilioClient {
    return this.options.client;
  }

  /** A ConferenceSid, or a friendly name resolved to its in-progress conference (names are reused). */
  /** A conference's configured chats: its entries by exact friendly name, or by ConferenceSid (any case). */
  chatsConfiguredFor(call: { callId?: string; callName?: string }): readonly string[] {
    const chats = new Set<string>();
    for (const entry of this.options.conferenceChats ?? []) {
      const named = isConferenceSid(entry.conference)
        ? [call.callId, call.callName].some((v) => v !== undefined && isConferenceSid(v) && normalizeSid(v) === normalizeSid(entry.conference))
        : entry.conference === call.callName || entry.conference === call.callId;
      if (named) for (const id of entry.conversationIds) chats.add(id);
    }
    return [...chats];
  }

  async findCall(sidOrName: string): Promise<CallLookup> {
    if (isConferenceSid(sidOrName)) {
      const sid = normalizeSid(sidOrName);
      const fetched = await this.call('fetch conference', () => this.client.conferences(sid).fetch(), { notFound: null });
      if (!fetched) return { kind: 'not_found' };
      const conference = this.parse('conference', conferenceSchema, fetched);
      if (conference.status !== 'in-progress') return { kind: 'not_in_progress', callId: conference.sid, status: conference.status };
      return found(conference);
    }
    const live = this.parseAll(
      'conference',
      conferenceSchema,
      await this.call('list conferences', () => this.client.conferences.list({ friendlyName: sidOrName, status: 'in-progress', limit: 20 })),
    );
    // Twilio keeps friendly names unique among in-progress conferences; take the newest if not.
    const newest = [...live].sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())[0];
    if (newest) return found(newest);
    // Listing defaults to in-progress conferences (since 2026-09-30): ask for ended ones by name.
    const ended = this.parseAll(
      'conference',
      conferenceSchema,
      await this.call('list conferences', () => this.client.conferences.list({ friendlyName: sidOrName, status: 'completed', limit: 1 })),
    );
    return ended[0] ? { kind: 'not_in_progress', callId: ended[0].sid, status: ended[0].status } : { kind: 'not_found' };
  }

  /**
   * Live participants with their phone numbers (one Calls fetch each, a few at a time). The list
   * is read page by page as Twilio pages it: `PageSize` on the first request, then each page's
   * `next_page_uri` (the SDK's `nextPage`) until there is none.
   */
  async listParticipants(conferenceSid: string): Promise<Participant[]> {
    const pageSize = this.options.participantPageSize ?? DEFAULT_PAGE_SIZE;
    const maxPages = this.options.maxParticipantPages ?? DEFAULT_MAX_PAGES;
    const listed: Array<z.output<typeof participantSchema>> = [];
    let page: ParticipantsPage = await this.call('list participants', () => this.client.conferences(conferenceSid).participants.page({ pageSize }));
    for (let pages = 1; ; pages++) {
      listed.push(...this.parseAll('participant', participantSchema, page.instances));
      if (!page.nextPageUrl) break;
      if (pages >= maxPages) {
        this.options.logger.warn({ conferenceSid, pages }, 'participant list truncated');
        break;
      }
      const current = page;
      page = await this.call('list participants', () => current.nextPage() ?? Promise.reject(new Error('no next page')));
    }
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
    const fetched = await this.call('fetch call', () => this.client.calls(callSid).fetch(), { notFound: null });
    if (!fetched) return [];
    const call = this.parse('call', callSchema, fetched);
    const number = call.direction === 'inbound' ? call.from : call.to;
    return number && isE164(number) ? [number] : [];
  }

  /**
   * `DELETE …/Participants/{CallSid or label}.json`. The SDK puts the value in the path as it is,
   * so labels are percent-encoded here; a label with `/` cannot be addressed (callers check
   * labelProblem first: it is a bug to get here with one).
   *
   * The DELETE is idempotent: one that timed out or lost its connection is sent again (within the
   * command's deadline), and a 404 (20404) on a retry after such an attempt, or after a 5xx, is
   * taken as that attempt's removal, as Graph's removal does.
   */
  async removeParticipant(conferenceSid: string, callSidOrLabel: string): Promise<'removed' | 'already_gone'> {
    if (labelProblem(callSidOrLabel) === 'slash') {
      throw new BouncerError('INVALID_ARGUMENT', 'a participant label cannot contain "/"');
    }
    const key = encodeURIComponent(callSidOrLabel);
    const res = await this.call('remove participant', () => this.client.conferences(conferenceSid).participants(key).remove(), {
      notFound: 'already_gone' as const,
      notFoundAfterUncertain: 'removed' as const,
      idempotent: true,
    });
    return res === 'already_gone' ? 'already_gone' : 'removed';
  }

  /**
   * `POST …/Participants/{CallSid or label}.json` with `Muted=true`: nobody hears them until unmuted.
   * Setting `Muted` means the same however often it is sent, so one that got no answer is sent again.
   */
  async muteParticipant(conferenceSid: string, callSidOrLabel: string): Promise<'muted' | 'already_gone'> {
    return (await this.updateParticipant('mute participant', conferenceSid, callSidOrLabel, { muted: true }, { idempotent: true })) ? 'muted' : 'already_gone';
  }

  /** `POST …/Participants/{CallSid or label}.json` with `Muted=false` (sent again as a mute is). */
  async unmuteParticipant(conferenceSid: string, callSidOrLabel: string): Promise<'unmuted' | 'already_gone'> {
    return (await this.updateParticipant('unmute participant', conferenceSid, callSidOrLabel, { muted: false }, { idempotent: true }))
      ? 'unmuted'
      : 'already_gone';
  }

  /**
   * `POST …/Participants/{CallSid or label}.json` with `AnnounceUrl`: Twilio fetches Bouncer's TwiML
   * for the notice (the announce route) and plays it to that participant only. Waits until Twilio
   * fetched it, or with `until: 'heard'` until it has been played (see Announcements), so that a
   * removal does not cut it off.
   */
  private async announceTo(
    publicBaseUrl: string,
    conferenceSid: string,
    callSidOrLabel: string,
    notice: NoticeRef,
    options: { until?: 'fetched' | 'heard' } = {},
  ): Promise<'announced' | 'already_gone'> {
    const watch = this.options.announcements?.watch(notice.caseId);
    try {
      const update = { announceUrl: announceUrl(publicBaseUrl, notice), announceMethod: 'POST' } as const;
      if (!(await this.updateParticipant('announce to participant', conferenceSid, callSidOrLabel, update))) return 'already_gone';
      await (options.until === 'heard' ? watch?.heard() : watch?.fetched());
      return 'announced';
    } finally {
      watch?.close();
    }
  }

  /**
   * Updates a participant (https://www.twilio.com/docs/voice/api/conference-participant-resource#update-a-participant-resource); false when Twilio no longer knows it.
   * `idempotent` only for an update that means the same however often it is sent (`Muted`), never
   * for an announcement, which Twilio would play again.
   */
  private async updateParticipant(
    what: string,
    conferenceSid: string,
    callSidOrLabel: string,
    update: { muted?: boolean; announceUrl?: string; announceMethod?: 'GET' | 'POST' },
    options: { idempotent?: boolean } = {},
  ): Promise<boolean> {
    if (labelProblem(callSidOrLabel) === 'slash') {
      throw new BouncerError('INVALID_ARGUMENT', 'a participant label cannot contain "/"');
    }
    const key = encodeURIComponent(callSidOrLabel);
    const updated = await this.call(what, () => this.client.conferences(conferenceSid).participants(key).update(update), {
      notFound: false,
      idempotent: options.idempotent,
    });
    return updated !== false;
  }

  /**
   * Runs one SDK call through the shared retry policy (429 and 5xx, honouring Retry-After; with
   * `idempotent`, a request that got no answer too). 404 / 20404 is answered with `notFound` when
   * given, or with `notFoundAfterUncertain` when an earlier attempt may have acted (it got no answer,
   * or a 5xx): then the 404 is most likely that attempt's doing. Every other failure is an
   * UpstreamError with Twilio's status, code, more-info link and request id.
   */
  private async call<T, N = never>(
    what: string,
    fn: () => Promise<T>,
    opts?: { notFound: N; notFoundAfterUncertain?: N; idempotent?: boolean },
  ): Promise<T | N> {
    let uncertain = false;
    try {
      return await this.retry.run(
        `Twilio ${what}`,
        async () => {
          try {
            return await fn();
          } catch (err) {
            if (mayHaveActed(err)) uncertain = true;
            throw err;
          }
        },
        { idempotent: opts?.idempotent },
      );
    } catch (err) {
      if (opts && err instanceof UpstreamHttpError && (err.status === 404 || err.vendorCode === '20404')) {
        if (!uncertain || opts.notFoundAfterUncertain === undefined) return opts.notFound;
        this.options.logger.info({ what }, 'Twilio no longer knew the participant when the request was sent again: the attempt that got no answer (or a server error) most likely acted');
        return opts.notFoundAfterUncertain;
      }
      if (err instanceof UpstreamError) throw err;
      // The SDK's own failures (e.g. a page it cannot read): not an answer we can use.
      throw new UpstreamError('twilio', `Twilio ${what} failed`, { code: 'UPSTREAM_INVALID_RESPONSE', cause: err });
    }
  }

  private parse<S extends z.ZodType>(what: string, schema: S, value: unknown): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new UpstreamError('twilio', `Twilio ${what} did not parse`, { code: 'UPSTREAM_INVALID_RESPONSE', cause: parsed.error });
    }
    return parsed.data;
  }

  private parseAll<S extends z.ZodType>(what: string, schema: S, values: readonly unknown[]): Array<z.output<S>> {
    return values.map((v) => this.parse(what, schema, v));
  }
}

/** A page of a list as the SDK reads it: its records, and the next page (from `next_page_uri`). */
interface ParticipantsPage {
  instances: readonly unknown[];
  nextPageUrl?: string;
  nextPage(): Promise<ParticipantsPage> | undefined;
}

function found(conference: TwilioConference): CallLookup {
  return { kind: 'found', callId: conference.sid, callName: conference.friendlyName ?? undefined };
}
