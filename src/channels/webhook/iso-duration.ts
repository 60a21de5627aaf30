/**
 * ISO 8601 durations as the moderation API takes them (a ban's `duration`): weeks (`P2W`), or days
 * and a time (`P1DT12H`, `PT30M`, `PT90S`), whole numbers only. Years and months are refused: their
 * length depends on the calendar, and a ban's end must be exact.
 * https://en.wikipedia.org/wiki/ISO_8601#Durations
 */
const DURATION = /^P(?:(\d{1,9})W|(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})S)?)?)$/;

const UNIT_MS = { week: 7 * 86_400_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1_000 };

/** The milliseconds of a duration, or why it is not one this API takes (a sentence for the caller). */
export function parseIsoDuration(text: string): { ms: number } | { problem: string } {
  const m = DURATION.exec(text);
  // `P`, `PT` and `P1DT` match the pattern with nothing in them.
  if (!m || text === 'P' || text.endsWith('T')) {
    if (/^P[^T]*[YM]/.test(text)) {
      return { problem: 'years and months have no fixed length: give weeks (P2W), days (P30D) or hours (PT12H)' };
    }
    if (/[.,]/.test(text)) return { problem: 'give whole numbers only (PT90M rather than PT1.5H)' };
    return { problem: 'not an ISO 8601 duration such as PT30M, PT2H, P7D or P2W' };
  }
  const [, weeks, days, hours, minutes, seconds] = m.map((v) => (v === undefined ? 0 : Number(v)));
  const ms = weeks! * UNIT_MS.week + days! * UNIT_MS.day + hours! * UNIT_MS.hour + minutes! * UNIT_MS.minute + seconds! * UNIT_MS.second;
  return { ms };
}
