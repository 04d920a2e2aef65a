// The README's test command: the whole suite, ending with the plain line CI reads
// ("N passed, M failed"). Test files run in parallel (2 jobs: this machine's cores), which keeps
// the suite under 15 minutes; mocha's parallel mode re-emits every worker's test events to the
// summary reporter in this process, so the closing line counts every test of every file.
// A full run rewrites docs/RELIABILITY.md from the reliability cases' own records — also when some
// case failed, which the document then shows as failing. Extra arguments go to mocha (files given
// there replace the whole suite, and the document is left alone).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
if (extra.length === 0 && existsSync(records)) {
  const doc = render(readRecords(records));
  const path = 'docs/RELIABILITY.md';
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  writeFileSync(path, doc);
  console.log(before === doc ? `${path}: unchanged by this run` : `${path}: rewritten from this run's results (it differs from the committed one: commit it)`);
}
rmSync(records, { force: true });
process.exit(r.status ?? 1);
