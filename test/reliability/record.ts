// Reliability cases report their outcome here; scripts/reliability-report.mjs turns the records of
// one run into docs/RELIABILITY.md. Recording is on only when PMISPLICENSE_RELIABILITY_OUT names
// the JSON-lines file (the report script sets it); in a plain `npm test` the cases just assert.
import { appendFileSync } from 'node:fs';

export type Suite = 'crash' | 'concurrency' | 'faults' | 'badinput' | 'security';

export interface CaseRecord {
  suite: Suite;
  name: string;
  /** Did every assertion of the case hold. */
  ok: boolean;
  doublePurchases?: number;
  doubleBindings?: number;
  lostRecords?: number;
  inconsistencies?: number;
  /** Free-form counts worth publishing, e.g. { processes: 50, sqliteBusyFailures: 0 }. */
  counts?: Record<string, number>;
  /** One short line on the outcome, e.g. "exit 1, <error type=connection>, left for retry". */
  outcome?: string;
}

export function recordCase(c: CaseRecord): void {
  const out = process.env.PMISPLICENSE_RELIABILITY_OUT;
  if (out) appendFileSync(out, `${JSON.stringify(c)}\n`);
}
