import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/app/ports/store.js';
import { runBansContract } from './bans.js';
import { runBindingsContract } from './bindings.js';
import { runCaseToolsContract } from './case-tools.js';
import { runCasesContract } from './cases.js';
import { freshStore, newCase } from './fixtures.js';
import { runIdempotencyContract } from './idempotency.js';
import { runLockdownsContract } from './lockdowns.js';
import { runModeratorsContract } from './moderators.js';
import { runRosterContract } from './roster.js';

export { binding, ids, newCase, participant, REPLY_ADDRESS } from './fixtures.js';
export { runBansContract, runBindingsContract, runCaseToolsContract, runCasesContract, runIdempotencyContract, runLockdownsContract, runModeratorsContract, runRosterContract };

/**
 * The behaviour every Store implementation must have (DESIGN.md: one behavioural suite per port):
 * ping, then the suite of each aggregate. `open` returns a fresh, empty store for each test; the
 * suites close it afterwards.
 */
export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    describe('Store', () => {
      const store = freshStore(open);

      it('ping resolves', async () => {
        await expect(store().ping()).resolves.toBeUndefined();
      });

      it('durable resolves, with nothing written and after writes, and leaves what was written as it was', async () => {
        await expect(store().durable()).resolves.toBeUndefined();
        const caseId = await store().cases.open(newCase());
        await store().cases.close(caseId, { outcome: 'removed' }, '2026-11-22T10:00:02.000Z');
        await Promise.all([store().durable(), store().durable()]);
        expect(await store().cases.get(caseId)).toMatchObject({ status: 'completed', outcome: 'removed' });
      });
    });

    runBindingsContract(name, open);
    runRosterContract(name, open);
    runCasesContract(name, open);
    runCaseToolsContract(name, open);
    runIdempotencyContract(name, open);
    runModeratorsContract(name, open);
    runBansContract(name, open);
    runLockdownsContract(name, open);
  });
}
