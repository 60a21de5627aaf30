import { randomUUID } from 'node:crypto';
import { CardFactory, MessageFactory, TeamsActivityHandler, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import type { CommandRegistry, CommandResult, ParseProblem } from '../../app/commands/command.js';
import type { BanArgs } from '../../app/commands/ban.js';
import type { KickArgs } from '../../app/commands/kick.js';
import type { MuteArgs } from '../../app/commands/mute.js';
import { parseCommand } from '../../app/commands/parse-command.js';
import { runCommand, type Invocation } from '../../app/commands/run-command.js';
import { awaitWithin } from '../../app/domain/deadline.js';
import { BouncerError } from '../../app/domain/errors.js';
import type { Moderation } from '../../app/moderation/moderation.js';
import type { RequestSource } from '../../app/ports/store.js';
import type { Logger } from '../../app/ports/runtime.js';
import { MAX_COMMAND_TEXT_CHARS, toCommandInput } from './activity-input.js';
import { banCardInputs, cardActionSchema, type CardAction } from './card-action.js';
import { resultCard } from './cards.js';
import { participantName, type Renderer } from './render-reply.js';
import { toReplyAddress } from './reply-address.js';
import type { ChatToList, MemberPrefetch } from './member-prefetch.js';
import { TeamsChatDirectory, type TeamsLookupCaches } from './teams-directory.js';
import { TtlCache } from './ttl-cache.js';
import { z } from 'zod';

/** A message of the bot's: text, or an Adaptive Card with its fallback text. */
export type BotMessage = Partial<Activity>;

export interface TeamsBotDeps {
  moderation: Moderation;
  commands: CommandRegistry;
  render: Renderer;
  logger: Logger;
  /** How long a turn waits for its command before answering "working on it" (CHAT_REPLY_WAIT_MS). */
  replyWaitMs: number;
  /** The deadline of each Bot Connector call: replies and Teams lookups (UPSTREAM_TIMEOUT_MS). */
  upstreamTimeoutMs: number;
  /**
   * After the turn: replaces the bot's message `replaceId` in the conversation with `message` (or,
   * when it cannot be edited, sends it as a new message). Failures are logged, never thrown.
   */
  followUp(reference: Partial<ConversationReference>, replaceId: string | undefined, message: BotMessage): Promise<void>;
  /** Where work that outlasts its turn is tracked, so that a shutdown waits for it. */
  background: { track(work: Promise<unknown>): void };
  /** JOIN_ON_MEETING_START: join a chat's meeting call when Teams says the meeting started. */
  joinOnMeetingStart: boolean;
  /** Members and meetings known to every turn (and to the participant notifier). */
  caches: TeamsLookupCaches;
  /** Reads a chat's members ahead, off every request's path. */
  prefetch: MemberPrefetch;
}

/**
 * Teams' meeting start event. Its `value` is documented in two casings (Id/JoinUrl and id/joinUrl,
 * ../shared/contracts/README.md), and its name once with a stray leading space; botbuilder's own
 * handler accepts only the PascalCase one and throws on the other, so Bouncer reads it itself.
 * Only the meeting id matters here (the details come from the Teams meeting API).
 */
const MEETING_START = 'application/vnd.microsoft.meetingStart';
const meetingStartSchema = z.looseObject({
  channelData: z.looseObject({ meeting: z.looseObject({ id: z.string().min(1) }).optional() }).optional(),
  value: z.looseObject({ Id: z.string().optional(), id: z.string().optional() }).optional(),
});

/** The Teams transport: a message or a card button becomes a command invocation, run by the one runner, then a reply. */
export class TeamsBot extends TeamsActivityHandler {
  /**
   * The names this process showed on roster cards, by chat, call and participant: a Remove button
   * names its target from the roster it was made from, never from the card's data (which the
   * clicker can edit). Unknown here (another instance, a restart), the kick names the participant
   * as the call knows them.
   */
  private readonly rosterNames = new TtlCache<string>(12 * 60 * 60_000, 10_000);

  constructor(private readonly deps: TeamsBotDeps) {
    super();
    this.onMessage(async (context, next) => {
      await this.handleMessage(context);
      await next();
    });
  }

  /** Teams events: the meeting start is Bouncer's own (see meetingStartSchema); the rest as botbuilder does. */
  protected override async dispatchEventActivity(context: TurnContext): Promise<void> {
    if (context.activity.channelId === 'msteams' && context.activity.name?.trim() === MEETING_START) {
      this.onMeetingStarted(context);
      return;
    }
    await super.dispatchEventActivity(context);
  }

  /**
   * Teams says people were added to a chat (conversationUpdate `membersAdded`, with their chat and
   * Entra ids): what said they were not members is forgotten, and the chat's members are read
   * again after the turn, so a kick of one of them needs no member lookup.
   */
  protected override async onTeamsMembersAdded(context: TurnContext): Promise<void> {
    const activity = context.activity;
    const added = activity.membersAdded ?? [];
    this.deps.caches.members.added(activity.conversation.id, added);
    this.deps.logger.debug({ conversationId: activity.conversation.id, added: added.length }, 'members added to the chat');
    this.listMembers(activity, 'members added', 'refresh');
    await super.onTeamsMembersAdded(context);
  }

  /**
   * Teams says people left or were removed from a chat (conversationUpdate `membersRemoved`): they
   * are no longer known as its members, so a notice to them is not attempted, and a complete listing
   * of the chat no longer counts them.
   */
  protected override async onTeamsMembersRemoved(context: TurnContext): Promise<void> {
    const activity = context.activity;
    const removed = activity.membersRemoved ?? [];
    this.deps.caches.members.removed(activity.conversation.id, removed);
    this.deps.logger.debug({ conversationId: activity.conversation.id, removed: removed.length }, 'members removed from the chat');
    await super.onTeamsMembersRemoved(context);
  }

  /** Starts reading the chat's members in the background, for a group chat (a meeting chat, one a call may be bound to). */
  private listMembers(activity: Activity, why: string, when?: 'refresh'): void {
    if (!activity.conversation?.isGroup || !activity.serviceUrl) return;
    const chat: ChatToList = {
      conversationId: activity.conversation.id,
      serviceUrl: activity.serviceUrl,
      tenantId: activity.conversation.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id,
    };
    this.deps.prefetch.start(chat, why, when);
  }

  /**
   * The chat's meeting started: join its call now, after the turn (Teams waits for the event's
   * answer), so that the first kick finds the call joined. Failures are logged; the first kick
   * then joins as it always did.
   */
  private onMeetingStarted(context: TurnContext): void {
    const activity = context.activity;
    const event = meetingStartSchema.safeParse(activity);
    const meetingId = event.success ? (event.data.channelData?.meeting?.id ?? event.data.value?.Id ?? event.data.value?.id) : undefined;
    this.deps.logger.info({ conversationId: activity.conversation.id, meetingId, join: this.deps.joinOnMeetingStart }, 'meeting started');
    // Its members are read ahead too, so the first kick needs no member lookup.
    this.listMembers(activity, 'meeting start');
    if (!this.deps.joinOnMeetingStart || !meetingId) return;
    const requestId = activity.id ?? randomUUID();
    const scope = this.deps.moderation.scope(
      {
        source: 'chat',
        requestId,
        conversationId: activity.conversation.id,
        replyAddress: toReplyAddress(activity.serviceUrl),
        // Nobody is acted on and no permission is asked: the actor is whoever started the meeting.
        actor: { kind: 'member', chatId: activity.from?.id, userId: activity.from?.aadObjectId, displayName: activity.from?.name },
      },
      new TeamsChatDirectory(context, this.deps.caches, this.deps.upstreamTimeoutMs, meetingId),
    );
    const work = this.deps.moderation.prejoin(scope).then(
      (result) => this.deps.logger.info({ requestId, conversationId: activity.conversation.id, ...result }, 'joined ahead of the first kick'),
      (err: unknown) => this.deps.logger.warn({ err, requestId, conversationId: activity.conversation.id }, 'could not join at meeting start'),
    );
    this.deps.background.track(work);
  }

  private async handleMessage(context: TurnContext): Promise<void> {
    const activity = context.activity;
    if (isCardPress(activity.value)) {
      const action = cardActionSchema.safeParse(activity.value);
      if (!action.success) {
        // Not one of the card's confirm buttons (an unconfirmed or hand-made press): nothing is done.
        this.deps.logger.info({ requestId: activity.id, conversationId: activity.conversation.id }, 'card press without a valid confirmation; ignored');
        return;
      }
      const invocation = this.cardInvocation(activity.conversation.id, action.data);
      if ('problem' in invocation) await this.send(context, this.deps.render.problem(invocation.problem));
      else await this.runInvocation(context, 'card', invocation);
      return;
    }
    const input = toCommandInput(activity);
    const personal = activity.conversation?.conversationType === 'personal' || !activity.conversation?.isGroup;
    // In group chats Bouncer may see every message: only answer those meant for it.
    const meantForBot = personal || input.addressedToBot || input.text.startsWith('/');
    if (input.tooLong) {
      // Not a command, whatever it starts with: acting on part of a message could act on the wrong words.
      this.deps.logger.info({ requestId: activity.id, length: activity.text?.length }, 'message too long to be a command');
      if (meantForBot) await this.send(context, this.deps.render.tooLong(MAX_COMMAND_TEXT_CHARS));
      return;
    }
    const parsed = parseCommand(input, this.deps.commands);
    if (!parsed.ok) {
      if (meantForBot) await this.send(context, this.deps.render.problem(parsed.problem));
      return;
    }
    await this.runInvocation(context, 'chat', parsed);
  }

  /**
   * A roster card's confirmed Remove, Mute or Ban is that command on the participant, by id: the
   * clicker is the actor, with the same permission, policy and audit. The person is named from the
   * roster this process showed; the card's call must still be the chat's.
   */
  private cardInvocation(conversationId: string, action: CardAction): Invocation | { problem: ParseProblem } {
    const command = this.deps.commands.find((c) => c.name === action.bouncer);
    if (!command) throw new BouncerError('INTERNAL', `no ${action.bouncer} command is registered`);
    const displayName = this.rosterNames.get(rosterNameKey(conversationId, action.callId, action.participantId));
    const target = { kind: 'participant' as const, participantId: action.participantId, ...(displayName !== undefined ? { displayName } : {}) };
    const expectedCallId = action.callId;
    switch (action.bouncer) {
      case 'kick': {
        const args: KickArgs = { target, expectedCallId, reason: 'removed from the roster card', dryRun: false };
        return { command, args };
      }
      case 'mute': {
        const args: MuteArgs = { target, expectedCallId, reason: 'muted from the roster card' };
        return { command, args };
      }
      case 'ban': {
        const inputs = banCardInputs(action);
        if ('problem' in inputs) return inputs;
        const args: BanArgs = { target, expectedCallId, reason: inputs.reason ?? 'banned from the roster card', durationMs: inputs.durationMs, everywhere: false };
        return { command, args };
      }
    }
  }

  private async runInvocation(context: TurnContext, source: Extract<RequestSource, 'chat' | 'card'>, invocation: Invocation): Promise<void> {
    const activity = context.activity;
    const requestId = activity.id ?? randomUUID();
    this.deps.logger.info(
      { requestId, command: invocation.command.name, source, conversationId: activity.conversation.id },
      source === 'card' ? 'card action received' : 'command received',
    );
    // The Bot Framework may deliver the same activity twice: the first delivery claims its id in the
    // store (shared by every instance), and any later one within the window is dropped unanswered.
    const key = activity.id ? activityKey(activity.conversation.id, activity.id) : undefined;
    let claimed = false;
    try {
      if (key && !(claimed = await this.claimActivity(key, requestId))) return;
      await this.runOnce(context, source, invocation, requestId, key);
    } catch (err) {
      // Unfinished: let a redelivery try again.
      if (key && claimed) await this.release(key);
      if (!(err instanceof BouncerError && err.code === 'STORE_BUSY')) throw err;
      // Another writer holds the database: nothing was done, and trying again shortly may work.
      this.deps.logger.warn({ err, requestId }, 'store busy; the command was not run');
      await this.send(context, this.deps.render.busy());
    }
  }

  private async release(key: string): Promise<void> {
    await this.deps.moderation.deps.store.idempotency.release(key).catch(() => undefined);
  }

  /** Whether this delivery is the first of its activity (false: a duplicate, already logged). */
  private async claimActivity(key: string, requestId: string): Promise<boolean> {
    const { store, clock } = this.deps.moderation.deps;
    const at = clock.now();
    const existing = await store.idempotency.claim(key, 'activity', at.toISOString(), new Date(at.getTime() + ACTIVITY_DEDUP_MS).toISOString());
    if (existing) this.deps.logger.info({ requestId, state: existing.state }, 'duplicate delivery of an activity; ignored');
    return existing === undefined;
  }

  private async runOnce(
    context: TurnContext,
    source: Extract<RequestSource, 'chat' | 'card'>,
    invocation: Invocation,
    requestId: string,
    key: string | undefined,
  ): Promise<void> {
    const activity = context.activity;
    const scope = this.deps.moderation.scope(
      {
        source,
        requestId,
        conversationId: activity.conversation.id,
        replyAddress: toReplyAddress(activity.serviceUrl),
        tenantId: activity.conversation.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id,
        actor: { kind: 'member', chatId: activity.from?.id, userId: activity.from?.aadObjectId, displayName: activity.from?.name },
      },
      new TeamsChatDirectory(context, this.deps.caches, this.deps.upstreamTimeoutMs),
    );
    const work = runCommand(invocation, { moderation: this.deps.moderation, scope }, this.deps.commands);
    const early = await settledWithin(work, this.deps.replyWaitMs);
    if (early) {
      // Handled before the reply is sent: a reply that fails must not let a redelivery act twice.
      await this.markHandled(key, requestId);
      await this.send(context, this.message(activity.conversation.id, early.result));
      // After the reply: a chat that Bouncer is used in (a bind, a first kick…) has its members read ahead.
      this.listMembers(activity, 'command');
      return;
    }
    // Teams drops a turn that has not answered in about 15 s: say so now, finish after the turn.
    this.deps.logger.info({ requestId, waitedMs: this.deps.replyWaitMs }, 'command still running; answering "working on it"');
    const sent = await this.send(context, this.deps.render.workingOnIt());
    const reference = TurnContext.getConversationReference(activity);
    this.deps.background.track(this.finishLater(work, reference, sent?.id, requestId, key).then(() => this.listMembers(activity, 'command')));
  }

  /** The end of a command that outlasted its turn: its result replaces the "working on it" message. */
  private async finishLater(
    work: Promise<CommandResult>,
    reference: Partial<ConversationReference>,
    workingId: string | undefined,
    requestId: string,
    key: string | undefined,
  ): Promise<void> {
    let message: BotMessage;
    try {
      const result = await work;
      await this.markHandled(key, requestId);
      message = this.message(reference.conversation?.id ?? '', result);
    } catch (err) {
      if (key) await this.release(key);
      const busy = err instanceof BouncerError && err.code === 'STORE_BUSY';
      this.deps.logger[busy ? 'warn' : 'error']({ err, requestId }, busy ? 'store busy; the command was not run' : 'command failed after its turn');
      message = { type: 'message', text: busy ? this.deps.render.busy() : this.deps.render.failedLate() };
    }
    await this.deps.followUp(reference, workingId, message);
  }

  private async markHandled(key: string | undefined, requestId: string): Promise<void> {
    if (!key) return;
    await this.deps.moderation.deps.store.idempotency
      .complete(key, { status: 200, body: null })
      .catch((err: unknown) => this.deps.logger.warn({ err, requestId }, 'could not mark the activity as handled'));
  }

  /** Sends within the Bot Connector deadline. */
  private send(context: TurnContext, message: string | BotMessage) {
    return awaitWithin(context.sendActivity(message), this.deps.upstreamTimeoutMs, 'teams', 'Teams reply');
  }

  /** An Adaptive Card where one fits (its fallbackText carries the same words), else text. */
  private message(conversationId: string, result: CommandResult): BotMessage {
    if (result.type === 'read' && result.result.kind === 'roster' && result.result.binding) {
      const { callId } = result.result.binding;
      for (const p of result.result.participants) {
        this.rosterNames.set(rosterNameKey(conversationId, callId, p.participantId), participantName(p));
      }
    }
    const card = resultCard(result, this.deps.render);
    return card ? MessageFactory.attachment(CardFactory.adaptiveCard(card)) : MessageFactory.text(this.deps.render.result(result));
  }
}

/** The command's result if it settles within `ms` (its failure is thrown), else undefined: it goes on. */
async function settledWithin<T>(work: Promise<T>, ms: number): Promise<{ result: T } | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work.then((result) => ({ result })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a message is a press of one of Bouncer's card buttons (its data names a Bouncer action). */
function isCardPress(value: unknown): boolean {
  return value !== null && typeof value === 'object' && 'bouncer' in value;
}

/** How long a delivered activity id is remembered (the Bot Framework redelivers within seconds to minutes). */
const ACTIVITY_DEDUP_MS = 60 * 60_000;

const activityKey = (conversationId: string, activityId: string) => `activity:${conversationId}:${activityId}`;

const rosterNameKey = (conversationId: string, callId: string, participantId: string) => JSON.stringify([conversationId, callId, participantId]);
