import { isOutage } from '../../domain/errors.js';
import type { Outcome, StampedAction, TargetSummary } from '../../domain/outcome.js';
import { unreachable } from '../../domain/unreachable.js';
import type { CaseCompletionWrites, CaseResult, ModerationAction, NewCase } from '../../ports/store.js';
import { now, type ModerationDeps } from '../deps.js';
import type { CallRef, KeptAnswer, RequestBase, TargetRef, Unrecorded } from '../requests.js';

type UpstreamFailed = Extract<Unrecorded, { kind: 'upstream_failed' }>;

/**
 * The audit case of one request, from `pending` to `completed`. Every request, denials included,
 * becomes exactly one case: `record` writes a finished one; `act` writes it pending before the
 * upstream change and completes it after, so a crash leaves a trace, never a silent action.
 */
export class CaseRecorder {
  private readonly base: NewCase;
  private readonly onCaseOpened?: (caseId: number) => void;
  /** The request's idempotency keys and how its answer is kept under them when its case completes. */
  private readonly keys?: { keys: readonly string[]; answer: KeptAnswer };
  /** The action on a person other than a removal, or a lockdown's, stamped on every outcome (replies word it). */
  private readonly stamp: { action?: StampedAction };

  /** `req.call`, when the request named its call directly (webhooks), is kept in the case's detail: who may read the case is decided by it. */
  constructor(
    private readonly deps: Pick<ModerationDeps, 'store' | 'clock' | 'logger'>,
    req: RequestBase & { call?: CallRef },
    action: ModerationAction,
    reason?: string,
  ) {
    const actor = req.actor;
    this.onCaseOpened = req.onCaseOpened;
    if (req.keptAnswer && req.idempotencyKeys?.length) this.keys = { keys: req.idempotencyKeys, answer: req.keptAnswer };
    const detail: Record<string, unknown> = {};
    if (req.call) detail.call = req.call;
    if (req.idempotencyKeys?.length) detail.idempotencyKeys = [...req.idempotencyKeys];
    this.base = {
      createdAt: now(deps),
      source: req.source,
      action,
      requestId: req.requestId,
      conversationId: req.conversationId,
      actorChatId: actor.kind === 'member' ? actor.chatId : undefined,
      actorUserId: actor.kind === 'member' ? actor.userId?.toLowerCase() : undefined,
      actorName: actor.displayName,
      reason,
      detail,
    };
    this.stamp = action === 'mute' || action === 'unmute' || action === 'warn' || action === 'lockdown' || action === 'unlock' ? { action } : {};
  }

  /** Names the target in the case (as far as it is known now). */
  about(summary: TargetSummary, target: TargetRef): this {
    this.base.targetChatId = target.kind === 'mention' ? target.chatId : undefined;
    this.base.targetUserId = summary.userId;
    this.base.targetName = summary.displayName ?? summary.label ?? summary.phoneNumber ?? summary.participantId;
    return this;
  }

  /** Details every record of this case carries besides the outcome's (e.g. the ban an automatic removal enforces). */
  detail(extra: Record<string, unknown>): this {
    this.base.detail = { ...this.base.detail, ...extra };
    return this;
  }

  /** The call the case is about. */
  on(callId: string | undefined, conversationId?: string): this {
    this.base.callId = callId;
    this.base.conversationId ??= conversationId || undefined;
    return this;
  }

  /** Records a finished case. */
  async record(outcome: Unrecorded): Promise<Outcome> {
    const result: CaseResult = {
      outcome: outcome.kind,
      callId: 'callId' in outcome ? outcome.callId : this.base.callId,
      detail: { ...this.base.detail, ...detailOf(outcome) },
    };
    const caseId = await this.deps.store.cases.open(this.base, result, now(this.deps));
    return { ...outcome, caseId, ...this.stamp } as Outcome;
  }

  /** Records an outage as an `upstream_failed` case; anything else is a bug and is rethrown. */
  recordFailure(err: unknown): Promise<Outcome> {
    return this.record(upstreamFailure(this.deps, err));
  }

  /**
   * Opens the case as pending (with `detail` added to it, when given), runs the change (which
   * learns the case's number), and completes the case with what it came to. An outage completes it
   * as `upstream_failed`; a bug leaves it pending (the trace) and is rethrown.
   *
   * The completion is one write: with it go the roster rows the change took out
   * (`done.removedFromRoster`) and the request's answer under its idempotency keys
   * (`RequestBase.keptAnswer`).
   */
  async act(
    on: string | undefined,
    participantIds: string[],
    change: (caseId: number, done: CaseChangeDone) => Promise<Unrecorded>,
    detail?: Record<string, unknown>,
  ): Promise<Outcome> {
    const callId = on ?? this.base.callId;
    // The call and participants are in the pending case, so that reconciliation can tell what became of it.
    const caseId = await this.deps.store.cases.open({ ...this.base, callId, participantIds, ...(detail ? { detail: { ...this.base.detail, ...detail } } : {}) });
    // The pending case (and the request's idempotency keys, written before it) is on disk before
    // anything changes upstream: a crash, even of the machine, leaves its trace.
    await this.deps.store.durable();
    this.tellOpened(caseId);
    const writes: CaseCompletionWrites = {};
    const done: CaseChangeDone = {
      removedFromRoster: (callId, ids) => {
        writes.rosterRemoved = { callId, participantIds: ids };
      },
    };
    let outcome: Unrecorded;
    try {
      outcome = await change(caseId, done);
    } catch (err) {
      outcome = upstreamFailure(this.deps, err);
    }
    const result: CaseResult = { outcome: outcome.kind, callId, participantIds, detail: { ...this.base.detail, ...detailOf(outcome) } };
    const final = { ...outcome, caseId, ...this.stamp } as Outcome;
    const keys = this.keys && this.answerOf(final, this.keys);
    if (keys) writes.idempotency = keys.writes;
    try {
      await this.closeWithRetries(caseId, result, writes);
    } catch (err) {
      // The roster still loses whom the change removed; the answer is left to the transport.
      if (writes.rosterRemoved) await this.removeFromRoster(writes.rosterRemoved);
      // The change happened: say so, and that its record did not (the case stays pending).
      if (outcome.kind === 'removed') return { ...outcome, caseId, recorded: false };
      throw err;
    }
    keys?.kept(final);
    return final;
  }

  /** The request's answer to keep with the case; a hook that throws is a bug of its own, logged: the transport keeps the answer then. */
  private answerOf(final: Outcome, keys: { keys: readonly string[]; answer: KeptAnswer }) {
    try {
      const { response, retryable } = keys.answer.answer(final);
      return { writes: { keys: keys.keys, ...(retryable ? {} : { response }) }, kept: (outcome: Outcome) => keys.answer.kept(outcome) };
    } catch (err) {
      this.deps.logger.error({ err, caseId: final.caseId }, 'the answer hook failed');
      return undefined;
    }
  }

  private async removeFromRoster(removed: NonNullable<CaseCompletionWrites['rosterRemoved']>): Promise<void> {
    try {
      await this.deps.store.roster.remove(removed.callId, [...removed.participantIds]);
    } catch (err) {
      this.deps.logger.warn({ err, callId: removed.callId }, 'could not remove from the roster whom a change removed');
    }
  }

  /** Tells the request its case is open; a hook that throws is a bug of its own, logged, never the change's. */
  private tellOpened(caseId: number): void {
    try {
      this.onCaseOpened?.(caseId);
    } catch (err) {
      this.deps.logger.error({ err, caseId }, 'the case-opened hook failed');
    }
  }

  /** Completes a case, trying again a few times: a store that failed once (busy, full) may not the next time. */
  private async closeWithRetries(caseId: number, result: CaseResult, writes: CaseCompletionWrites): Promise<void> {
    const also = writes.rosterRemoved || writes.idempotency ? writes : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.store.cases.close(caseId, result, now(this.deps), also);
        return;
      } catch (err) {
        this.deps.logger.error({ err, caseId, attempt, outcome: result.outcome }, 'could not complete the case');
        if (attempt >= CLOSE_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, CLOSE_RETRY_DELAY_MS * attempt));
      }
    }
  }
}

/** What a change tells its case of, to be written with the case's completion (`CaseRecorder.act`). */
export interface CaseChangeDone {
  /** The change took these participants out of the call: their roster rows go with the completion. */
  removedFromRoster(callId: string, participantIds: readonly string[]): void;
}

const CLOSE_ATTEMPTS = 3;
const CLOSE_RETRY_DELAY_MS = 100;

/** An outage as an outcome the user can read; anything else is a bug and is rethrown. */
export function upstreamFailure(deps: Pick<ModerationDeps, 'logger'>, err: unknown): UpstreamFailed {
  if (!isOutage(err)) throw err;
  deps.logger.warn({ err, service: err.service, requestId: err.requestId, code: err.code }, 'upstream failure');
  return {
    kind: 'upstream_failed',
    service: err.service,
    requestId: err.requestId,
    code: err.vendorCode,
    moreInfo: err.moreInfo,
    retryable: err.retryable,
    hint: err.hint,
  };
}

/** The outcome's details kept in the case (denial reason, upstream request id, …). */
function detailOf(outcome: Unrecorded): Record<string, unknown> {
  switch (outcome.kind) {
    case 'denied':
    case 'not_bound':
      return { reason: outcome.reason };
    case 'not_configured':
      return { missing: outcome.missing };
    case 'ambiguous_target':
      return { candidates: outcome.candidates };
    case 'unsupported':
      return { provider: outcome.provider, capability: outcome.capability };
    case 'upstream_failed':
      return {
        service: outcome.service,
        requestId: outcome.requestId,
        code: outcome.code,
        moreInfo: outcome.moreInfo,
        retryable: outcome.retryable,
        hint: outcome.hint,
      };
    case 'removed':
      return outcome.notice ? { notice: outcome.notice } : {};
    case 'muted':
    case 'unmuted':
    case 'warned':
    case 'already_gone':
    case 'interrupted':
    case 'bound':
    case 'unbound':
    case 'target_not_found':
      return {};
    case 'not_reachable':
      return { why: outcome.why };
    case 'moderator_added':
      return { already: outcome.already };
    case 'moderator_removed':
      return { wasNamed: outcome.wasNamed };
    case 'banned':
      return { everywhere: outcome.everywhere, expiresAt: outcome.expiresAt, removed: outcome.removed, ...(outcome.notice ? { notice: outcome.notice } : {}) };
    case 'unbanned':
      return { banCaseIds: outcome.banCaseIds };
    case 'reason_edited':
      // The case edited is in the detail already (the request's); the reason replaced is kept here too.
      return outcome.previous === undefined ? {} : { previous: outcome.previous };
    case 'case_not_found':
    case 'modlog_set':
      return outcome.kind === 'modlog_set' ? { changed: outcome.changed } : {};
    case 'dry_run':
      return outcome.banCaseIds ? { banCaseIds: outcome.banCaseIds } : {};
    case 'locked':
      return {
        door: outcome.door,
        already: outcome.already,
        chat: outcome.chat,
        mute: outcome.mute,
        ...(outcome.muted.length > 0 ? { muted: outcome.muted } : {}),
        ...(outcome.trigger ? { trigger: outcome.trigger } : {}),
      };
    case 'unlocked':
      return { wasLocked: outcome.wasLocked, ...(outcome.lockdownCaseId !== undefined ? { lockdownCaseId: outcome.lockdownCaseId } : {}) };
    default:
      return unreachable(outcome, 'outcome');
  }
}
