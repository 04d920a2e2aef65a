import { expect } from 'chai';
import type { RunResult } from './world.js';

/** An admin command's usage error (SPEC 3): exit 2, exactly one line on stderr, nothing on stdout. */
export function usageError(r: RunResult, mentions: RegExp): void {
  expect(r.code, `${r.stdout}${r.stderr}`).to.equal(2);
  expect(r.stdout).to.equal('');
  expect(r.stderr.split('\n').filter(Boolean), r.stderr).to.have.length(1);
  expect(r.stderr).to.match(/^pmisplicense[^\n]*\n$/);
  expect(r.stderr).to.match(mentions);
  expect(r.stderr).to.not.match(/\.\.|;\.|BillManager/);
}
