import type { Outcome, TargetSummary } from '../../domain/outcome.js';
import type { AuditCase } from '../../ports/store.js';
import { now } from '../deps.js';
import { decide } from '../policy.js';
import type { EditReasonRequest, ReadResult, ReadView } from '../requests.js';
import { CaseRecorder, upstreamFailure } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';

/** How many of a person's newest cases `/cases` reads before keeping those the asker may see. */
const CASES_SCANNED = 200;
/** How many chats' moderators `/cases` asks about at most (each may cost a Teams role lookup). */
const CHATS_ASKED = 20;

/** Whether the actor may see a case: the policy, asked with their authority in the case's own chat. */
async function maySee(scope: RequestScope, c: AuditCase): Promise<boolean> {
  return decide({ kind: 'read_case', authority: await scope.authorityIn(c.conversationId) }).allowed;
}

/** `/case <n>`: one case and its reason's history, for its chat's moderators and admins. Not audited (a read). */
export async function showCase(scope: RequestScope, caseId: number): Promise<ReadResult> {
  const { deps } = scope;
  try {
    const found = await deps.store.cases.get(caseId);
    if (!found) return { kind: 'no_case', caseId, hidden: false };
    if (!(await maySee(scope, found))) return { kind: 'no_case', caseId, hidden: true };
    return { kind: 'case', case: found, edits: await deps.store.cases.reasonEdits(caseId) };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}

/**
 * `/cases @person`: the cases against a person (by their Entra object id, looked up from the
 * mention, or the mention's chat id), newest first, in every chat: all of them for admins, else
 * those of chats where the asker moderates (each chat asked about once).
 */
export async function casesAgainst(scope: RequestScope, view: Extract<ReadView, { kind: 'cases_against' }>): Promise<ReadResult> {
  const { deps } = scope;
  try {
    const user = await scope.user(view.target.chatId);
    const target: TargetSummary = { displayName: user?.displayName ?? view.target.displayName, userId: user?.userId?.toLowerCase() };
    const all = await deps.store.cases.listByTarget({ userId: target.userId, chatId: view.target.chatId, limit: CASES_SCANNED });
    const chats = [...new Set(all.map((c) => c.conversationId ?? ''))].slice(0, CHATS_ASKED);
    const allowed = new Set<string>();
    await Promise.all(
      chats.map(async (chat) => {
        if (decide({ kind: 'read_case', authority: await scope.authorityIn(chat || undefined) }).allowed) allowed.add(chat);
      }),
    );
    const visible = all.filter((c) => allowed.has(c.conversationId ?? ''));
    return { kind: 'cases_against', target, cases: visible.slice(0, view.limit), more: visible.length > view.limit || all.length === CASES_SCANNED };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}

/**
 * `/reason <n> <text>`: replaces case n's reason, for its chat's moderators and admins. Audited as
 * a case of its own (whose reason is the new text, `detail.caseId` the case edited, refusals
 * included); the reason replaced is kept in the edited case's history, with who and when.
 */
export async function editReason(req: EditReasonRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const recorder = new CaseRecorder(deps, req, 'edit_reason', req.reason).detail({ caseId: req.caseId });
  let edited: AuditCase | undefined;
  let authority;
  try {
    edited = await deps.store.cases.get(req.caseId);
    if (!edited) return recorder.record({ kind: 'case_not_found', asked: req.caseId });
    authority = await scope.authorityIn(edited.conversationId);
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const verdict = decide({ kind: 'edit_reason', authority });
  if (!verdict.allowed) return recorder.record({ kind: 'denied', reason: verdict.reason });
  const actor = req.actor;
  return recorder.act(undefined, [], async (caseId) => {
    const result = await deps.store.cases.editReason(req.caseId, {
      reason: req.reason,
      editedAt: now(deps),
      editedBy: actor.kind === 'member' ? actor.userId : undefined,
      editedByName: actor.displayName,
      editCaseId: caseId,
    });
    if (!result.found) return { kind: 'case_not_found', asked: req.caseId };
    return { kind: 'reason_edited', editedCaseId: req.caseId, reason: req.reason, previous: result.previous };
  });
}
