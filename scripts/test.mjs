// The README's test command: the whole suite, ending with the plain line CI reads
// ("N passed, M failed"). A full run also rewrites docs/RELIABILITY.md from the reliability cases'
// own records. Extra arguments go to mocha (and then the document is left alone).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, render } from './reliability-render.mjs';

const extra = process.argv.slice(2);
const records = join(tmpdir(), `pmisplicense-reliability-${process.pid}.jsonl`);
rmSync(records, { force: true });
// The suite's files are named here, not in .mocharc.json: mocha adds a config's spec to files named
// on the command line, so `npx mocha one.test.ts` would run everything.
const r = spawnSync('npx', ['mocha', '--reporter', './test/support/summary-reporter.cjs', ...extra, ...(extra.some((a) => a.endsWith('.ts')) ? [] : ['test/**/*.test.ts'])], {
  stdio: 'inherit',
  env: { ...process.env, PMISPLICENSE_RELIABILITY_OUT: records },
});
if (r.status === 0 && extra.length === 0 && existsSync(records)) {
  const doc = render(readRecords(records));
  const path = 'docs/RELIABILITY.md';
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  writeFileSync(path, doc);
  console.log(before === doc ? `${path}: unchanged by this run` : `${path}: rewritten from this run's results (it differs from the committed one: commit it)`);
}
rmSync(records, { force: true });
process.exit(r.status ?? 1);
