import type { OutcomeKind } from '../domain/outcome.js';
import type { CaseStore, Store } from '../ports/store.js';

/** A case that has just reached its outcome. */
export interface CompletedCase {
  id: number;
  outcome: OutcomeKind;
}

/**
 * The store, with every case that reaches its outcome reported to `onCompleted`: a finished case
 * written at once (`open` with a result) or a pending one completed (`close`). This is the one place
 * cases are completed, whoever completes them (an action's CaseRecorder, reconciliation, ban
 * enforcement, raid mode). A case completes once across every instance on the database (`close`
 * only completes a pending case), so it is reported once, by the instance that completed it.
 * `onCompleted` is called after the write, synchronously, and must not throw or block.
 */
export function reportingCompletedCases(store: Store, onCompleted: (c: CompletedCase) => void): Store {
  const inner = store.cases;
  const cases: CaseStore = {
    async open(input, result, at) {
      const id = await inner.open(input, result, at);
      if (result) onCompleted({ id, outcome: result.outcome });
      return id;
    },
    async close(id, result, at, writes) {
      await inner.close(id, result, at, writes);
      onCompleted({ id, outcome: result.outcome });
    },
    get: (id) => inner.get(id),
    listPending: (openedBefore, limit) => inner.listPending(openedBefore, limit),
    list: (query) => inner.list(query),
    listByTarget: (query) => inner.listByTarget(query),
    editReason: (caseId, edit) => inner.editReason(caseId, edit),
    reasonEdits: (caseId) => inner.reasonEdits(caseId),
  };
  return {
    bindings: store.bindings,
    roster: store.roster,
    cases,
    idempotency: store.idempotency,
    moderators: store.moderators,
    bans: store.bans,
    modlog: store.modlog,
    lockdowns: store.lockdowns,
    ping: () => store.ping(),
    durable: () => store.durable(),
    close: () => store.close(),
  };
}
