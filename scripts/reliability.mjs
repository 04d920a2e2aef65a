// `npm run test:reliability [-- --write | --out PATH]`: only the reliability suite, then the figures
// document from its records. docs/RELIABILITY.md is rewritten only with --write (the one command
// that changes the checkout, issue 15 point 6); --out PATH writes it elsewhere (an artifact);
// without either, the run reports whether the committed document still matches.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, render } from './reliability-render.mjs';

const DOC = 'docs/RELIABILITY.md';
const argv = process.argv.slice(2);
let target = null;
const mochaArgs = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--write') target = DOC;
  else if (argv[i] === '--out') {
    target = argv[++i];
    if (!target) {
      process.stderr.write('--out needs a path\n');
      process.exit(2);
    }
  } else mochaArgs.push(argv[i]);
}
const records = join(tmpdir(), `pmisplicense-reliability-${process.pid}.jsonl`);
rmSync(records, { force: true });
const files = mochaArgs.some((a) => /\.(ts|js|mjs|cjs)$/.test(a) || a.includes('*'));
const r = spawnSync('npx', ['mocha', '--no-config', '--import=tsx', '--timeout', '600000', '--require', 'test/reliability/record.ts', '--reporter', './test/support/summary-reporter.cjs', ...mochaArgs, ...(files ? [] : ['test/reliability/*.test.ts'])], {
  stdio: 'inherit',
  env: { ...process.env, PMISPLICENSE_RELIABILITY_OUT: records },
});
if (existsSync(records)) {
  const doc = render(readRecords(records));
  if (target) {
    writeFileSync(target, doc);
    console.log(`${target} written`);
  } else {
    const before = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
    console.log(before === doc ? `${DOC}: matches this run` : `${DOC}: differs from this run (npm run test:reliability -- --write rewrites it)`);
  }
}
rmSync(records, { force: true });
process.exit(r.status ?? 1);
