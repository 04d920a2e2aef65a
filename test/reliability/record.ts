// Reliability cases report what they measured here; scripts/reliability-render.mjs turns the records
// of one run into docs/RELIABILITY.md. Recording is on only when PMISPLICENSE_RELIABILITY_OUT names
// the JSON-lines file (npm test and npm run test:reliability set it); otherwise cases just assert.
//
// Honesty (issue 7 point 6): a record's `held` is not what the case claims. recordCase() only
// keeps the case's measured counts; the record is written after the test, by the root hook below,
// and it held only when mocha says the test passed, the case's own verdict (`ok`) is true and every
// money count is 0. A reliability test that fails before it records anything is written as a
// failing record with its error, so a failure is never missing from the document.
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';

export type Suite = 'crash' | 'concurrency' | 'faults' | 'badinput' | 'security' | 'interleavings' | 'stress';

export const MONEY_COUNTS = ['doublePurchases', 'doubleBindings', 'leaks', 'lostRecords', 'inconsistencies'] as const;
export type MoneyCount = (typeof MONEY_COUNTS)[number];

export interface CaseRecord {
  suite: Suite;
  name: string;
  /** The case's own verdict from what it measured; the written record also needs mocha's pass. */
  ok: boolean;
  /** Services that paid for more than one new license. */
  doublePurchases?: number;
  /** Licenses serving two services (state or host params). */
  doubleBindings?: number;
  /** Paid licenses the module released or adopted that are neither pooled nor bound. */
  leaks?: number;
  /** Paid licenses upstream the module does not know (or lost while they had paid time). */
  lostRecords?: number;
  /** Services whose state, upstream and host views disagree. */
  inconsistencies?: number;
  /** Free-form counts worth publishing, e.g. { processes: 50, sqliteBusyFailures: 0 }. */
  counts?: Record<string, number>;
  /** One short line on the outcome, e.g. "exit 1, <error type=connection>, left for retry". */
  outcome?: string;
}

/** What is written: the case's counts plus the measured verdict. */
export interface WrittenRecord extends CaseRecord {
  /** mocha's verdict on the test that recorded it. */
  testPassed: boolean;
  /** The error that failed the test, first line. */
  error?: string;
}

/** Did the recorded counts hold: the case's verdict and no money count above 0. */
export function countsHeld(c: CaseRecord): boolean {
  return c.ok && MONEY_COUNTS.every((k) => (c[k] ?? 0) === 0);
}

/** All five money counts of a checker's result, as a record carries them. */
export function moneyCounts(inv: Record<MoneyCount, number>): Record<MoneyCount, number> {
  return Object.fromEntries(MONEY_COUNTS.map((k) => [k, inv[k]])) as Record<MoneyCount, number>;
}

let pending: CaseRecord[] = [];

export function recordCase(c: CaseRecord): void {
  pending.push(c);
}

/** Writes records now, outside a test's lifecycle (scripts/stress.ts). */
export function writeRecord(r: WrittenRecord): void {
  const out = process.env.PMISPLICENSE_RELIABILITY_OUT;
  if (out) appendFileSync(out, `${JSON.stringify({ ...r, ok: r.testPassed && countsHeld(r) })}\n`);
}

interface MochaTestLike {
  state?: 'passed' | 'failed' | 'pending';
  file?: string;
  err?: Error;
  fullTitle(): string;
}

const SUITE_OF_FILE: Record<string, Suite> = {
  'crash.test.ts': 'crash',
  'concurrency.test.ts': 'concurrency',
  'faults.test.ts': 'faults',
  'badinput.test.ts': 'badinput',
  'security.test.ts': 'security',
  'interleavings.test.ts': 'interleavings',
  'stress.test.ts': 'stress',
};

/** Mocha root hooks (loaded with --require): flush each reliability test's records with its verdict. */
export const mochaHooks = {
  beforeEach(): void {
    pending = [];
  },
  afterEach(this: { currentTest?: MochaTestLike }): void {
    const t = this.currentTest;
    const records = pending;
    pending = [];
    if (!t || t.state === 'pending') return;
    const passed = t.state === 'passed';
    const error = t.err ? String(t.err.message).split('\n')[0]!.slice(0, 300) : undefined;
    if (records.length === 0) {
      const suite = t.file ? SUITE_OF_FILE[basename(t.file)] : undefined;
      if (suite && !passed) writeRecord({ suite, name: t.fullTitle(), ok: false, testPassed: false, outcome: `failed before recording: ${error ?? 'unknown error'}`, error });
      return;
    }
    for (const r of records) writeRecord({ ...r, testPassed: passed, ...(passed ? {} : { error, outcome: `${r.outcome ?? ''}${r.outcome ? ' — ' : ''}FAILED: ${error ?? 'unknown error'}` }) });
  },
};
