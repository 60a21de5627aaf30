import os from 'node:os';

/** One line of the table: what was measured, what came out, and the target when there is one. */
export interface Row {
  measure: string;
  result: string;
  /** The target, in words; empty when the row has none. */
  target?: string;
  /** Whether the target was met; undefined when the row has none. */
  met?: boolean;
}

/**
 * A correctness check: a result is only a result when what it counts really happened (one
 * DELETE and one completed case per accepted kick, nobody lost). A failed check fails the run.
 */
export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/** The machine the numbers came from. */
export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown CPU';
  const gib = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${model}, ${os.availableParallelism()} cores, ${gib} GiB memory, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** The table, as markdown. */
export function table(rows: readonly Row[]): string {
  const lines = ['| measure | result | target | |', '|---|---|---|---|'];
  for (const r of rows) {
    const verdict = r.met === undefined ? '' : r.met ? '✓' : '✗';
    lines.push(`| ${cell(r.measure)} | ${cell(r.result)} | ${cell(r.target ?? '')} | ${verdict} |`);
  }
  return lines.join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** 1234.5 → "1,235". */
export function num(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
}

export function ms(n: number): string {
  return Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')} ms` : 'n/a';
}
