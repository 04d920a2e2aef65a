// Bench of `advise` (issue 16: 10 000 services × 12 months in ≤ 5 s): a year of steady churn of
// 10 000 services over three licensing-server tariffs and five BILLmanager tariff plans, planted in
// the state in one transaction as the item commands record it, then `pmisplicense advise --json`
// timed as a whole process (state read, price export from the sandbox, every replay, the optimum).
// Run alone: `npm run build && node --import=tsx scripts/bench-advise.ts` (BENCH_ADVISE_SERVICES=N
// for another size); scripts/bench.ts calls benchAdvise().
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { addDays, addMonths } from '../src/dates.js';
import { churn } from '../test/advise/churn.js';
import { EXE, MODULE, World } from '../test/support/world.js';
import { runMeasured, type Run } from './bench-scale.js';

const START = '2026-01-10';

export interface AdviseFigures {
  services: number;
  run: Run;
  bare: Run;
  /** User + system CPU seconds of a second run (GNU time); null without /usr/bin/time. */
  cpu: number | null;
  candidates: number;
}

const GNU_TIME = '/usr/bin/time';

/** Runs `node args` under GNU time and returns the child's user + system CPU seconds. */
function cpuSeconds(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-f', 'CPU %U %S', process.execPath, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', () => {
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(err);
      if (m) resolve(Number(m[1]) + Number(m[2]));
      else reject(new Error(`no CPU time from GNU time: ${err.slice(-300)}`));
    });
  });
}

export async function benchAdvise(services = 10_000): Promise<AdviseFigures> {
  const last = addDays(addMonths(START, 12), -1);
  const w = await World.create({ day: last });
  try {
    const story = churn({ seed: 10_000, shape: 'steady', services, start: START, months: 12, tariffs: ['3541', '4601', '55331'], plans: ['20', '21', '22', '23', '24'], firstItem: 100_001 });
    const add = await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '1', '--target', '12']);
    if (add.code !== 0) throw new Error(`periods add failed: ${add.stderr}`);
    w.store((st) =>
      st.exclusive(() => {
        for (const s of story) {
          const base = { module: MODULE, item: s.item, period: String(s.period), panel: s.tariff, pricelist: s.hostPricelist, itemtype: 'soft' };
          s.paid.forEach(([day, until], i) => st.recordServiceEvent({ ...base, day, command: i === 0 ? 'open' : 'prolong', expiredate: until }));
          if (s.close) st.recordServiceEvent({ ...base, day: s.close, command: 'close', expiredate: s.paid.at(-1)![1] });
        }
      }),
    );
    const bare = await runMeasured(['-e', '0'], w.env);
    const run = await runMeasured([...(process.env.BENCH_ADVISE_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_ADVISE_PROFILE}`] : []), EXE, 'advise', '--module', String(MODULE), '--json'], w.env);
    if (run.code !== 0) throw new Error(`advise failed (exit ${run.code}): ${run.stderr.slice(-1000)}`);
    // The machine is shared: the process's own CPU time (user + system) beside the wall time.
    const cpu = existsSync(GNU_TIME) ? await cpuSeconds([EXE, 'advise', '--module', String(MODULE), '--json'], w.env) : null;
    const report = JSON.parse(run.stdout) as { services: number; candidates: unknown[] };
    if (report.services !== services) throw new Error(`advise replayed ${report.services} services, not ${services}`);
    return { services, run, bare, cpu, candidates: report.candidates.length };
  } finally {
    await w.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.env.BENCH_ADVISE_SERVICES ?? 10_000);
  const f = await benchAdvise(n);
  process.stdout.write(
    `advise over ${f.services} services × 12 months (${f.candidates} rule sets + the optimum): ${f.run.ms.toFixed(0)} ms` +
      `${f.run.rssMiB === null ? '' : `, ${f.run.rssMiB.toFixed(0)} MiB`} (a bare node start: ${f.bare.ms.toFixed(0)} ms)` +
      `${f.cpu === null ? '' : `; CPU ${(f.cpu * 1000).toFixed(0)} ms`}; target ≤ 5000 ms\n`,
  );
}
