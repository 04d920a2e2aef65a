// The README's test command: the whole suite, ending with the plain line CI reads
// ("N passed, M failed"). Test files run in parallel (2 jobs: this machine's cores), which keeps
// the suite under 15 minutes; mocha's parallel mode re-emits every worker's test events to the
// summary reporter in this process, so the closing line counts every test of every file.
// A user's `npm test` leaves the checkout as it found it (issue 15 point 6): the reliability
// cases' records go to a temporary file, and the figures document is written only where asked —
// PMISPLICENSE_RELIABILITY_DOC=<path> (CI's artifact, outside the tree) renders it there, after a
// full run, also when some case failed. docs/RELIABILITY.md itself is rewritten only by
// `npm run test:reliability -- --write`. Nothing is printed after the closing line. Extra
// arguments go to mocha (files given there replace the whole suite, and no document is written).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, render } from './reliability-render.mjs';

const extra = process.argv.slice(2);
const files = extra.filter((a) => /\.(ts|js|mjs|cjs)$/.test(a) || a.includes('*'));
const serial = extra.includes('--serial');
const passOn = extra.filter((a) => a !== '--serial');
const records = join(tmpdir(), `pmisplicense-reliability-${process.pid}.jsonl`);
rmSync(records, { force: true });
const args = ['mocha', ...(serial ? [] : ['--parallel', '--jobs', '2']), '--reporter', './test/support/summary-reporter.cjs', ...passOn, ...(files.length === 0 ? ['test/**/*.test.ts'] : [])];
const r = spawnSync('npx', args, {
  stdio: 'inherit',
  env: { ...process.env, PMISPLICENSE_RELIABILITY_OUT: records },
});
const artifact = process.env.PMISPLICENSE_RELIABILITY_DOC;
if (artifact && extra.length === 0 && existsSync(records)) writeFileSync(artifact, render(readRecords(records)));
rmSync(records, { force: true });
process.exit(r.status ?? 1);
