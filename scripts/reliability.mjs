// `npm run test:reliability`: only the reliability suite, then docs/RELIABILITY.md from its records.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, render } from './reliability-render.mjs';

const records = join(tmpdir(), `pmisplicense-reliability-${process.pid}.jsonl`);
rmSync(records, { force: true });
const r = spawnSync('npx', ['mocha', '--no-config', '--import=tsx', '--timeout', '600000', '--require', 'test/reliability/record.ts', '--reporter', './test/support/summary-reporter.cjs', 'test/reliability/*.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, PMISPLICENSE_RELIABILITY_OUT: records },
});
if (existsSync(records)) {
  writeFileSync('docs/RELIABILITY.md', render(readRecords(records)));
  console.log('docs/RELIABILITY.md written');
}
rmSync(records, { force: true });
process.exit(r.status ?? 1);
