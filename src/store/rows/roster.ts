import { z } from 'zod';
import type { Participant } from '../../app/domain/participant.js';
import { optional, parseRow, participantKind, rowReader, stringList, type ColumnReaders } from '../row-schemas.js';

/** What both stores read of a participant. */
export const ROSTER_COLUMNS = 'call_id, participant_id, kind, identity_id, display_name, tenant_id, is_in_lobby, label, phone_numbers';

/** A `roster` row; is_in_lobby and phone_numbers are read as the driver reads them (`columns`). */
function rosterRow(columns: ColumnReaders) {
  return z
    .object({
      call_id: z.string(),
      participant_id: z.string(),
      kind: participantKind,
      identity_id: optional(z.string()),
      display_name: optional(z.string()),
      tenant_id: optional(z.string()),
      is_in_lobby: columns.flag,
      label: optional(z.string()),
      phone_numbers: columns.json(stringList),
    })
    .transform(
      (r): Participant => ({
        callId: r.call_id,
        participantId: r.participant_id,
        kind: r.kind,
        identityId: r.identity_id,
        displayName: r.display_name,
        tenantId: r.tenant_id,
        isInLobby: r.is_in_lobby,
        label: r.label,
        phoneNumbers: r.phone_numbers,
      }),
    );
}

/** The reader of a driver's `roster` rows. */
export const participantReader = (columns: ColumnReaders): ((row: unknown) => Participant) => rowReader(rosterRow(columns), 'roster');

const countRow = z.object({ n: z.number().int().nonnegative() });

/** A roster count's row (`count(…) AS n`, an integer in both stores). */
export const toCount = (row: unknown): number => parseRow(countRow, row, 'roster').n;
