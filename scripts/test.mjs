// Runs the whole suite with the closing line CI reads. Extra arguments go to mocha.
import { spawnSync } from 'node:child_process';
const r = spawnSync('npx', ['mocha', '--reporter', './test/support/summary-reporter.cjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
