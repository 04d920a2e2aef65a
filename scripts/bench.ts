// Start-up and operation cost of the module, as ratios to a bare `node` start measured in the same
// run (the machines are shared and noisy: absolute times mean little, ratios travel). Each figure
// is the median of several runs of the built executable as BILLmanager starts it.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { EXE, World, SANDBOX_PASSWORD, SANDBOX_USER } from '../test/support/world.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** Async, never spawnSync: the sandbox licensing server answers from this very event loop. */
function timeOnce(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${args.join(' ')} failed: ${out}`));
      else resolve(ms);
    });
    child.stdin.end(stdin);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const w = await World.create({ day: '2026-01-10' });
  try {
    const env = w.env;
    const form = `<doc><processingmodule><url>${w.sandbox.url}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password></processingmodule></doc>`;
    const bare: number[] = [];
    const features: number[] = [];
    const check: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so that load on the machine hits every series alike.
      bare.push(await timeOnce(['-e', '0'], env));
      features.push(await timeOnce([EXE, '--command', 'features'], env));
      check.push(await timeOnce([EXE, '--command', 'check_connection'], env, form));
    }
    const openPool: number[] = [];
    const openNew: number[] = [];
    const bareOps: number[] = [];
    let poolRequests = 0;
    let newRequests = 0;
    let item = 1000;
    const runs = Math.max(3, Math.ceil(RUNS / 2));
    for (let i = 0; i < runs; i++) {
      bareOps.push(await timeOnce(['-e', '0'], env));
      // A pool hit: a free license of the tariff, adopted beforehand (not timed).
      const lic = w.sandbox.addLicense({ licname: 'free.lic', period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', manualSuspended: true });
      await timeOnce([EXE, 'pool', 'adopt', '--module', '1', '--license', String(lic.id)], env);
      w.addService({ id: ++item, ip: `203.0.113.${i + 1}`, expiredate: '2026-02-10' });
      let before = w.requests().length;
      openPool.push(await timeOnce([EXE, '--command', 'open', '--item', String(item), '--runningoperation', String(item)], env));
      poolRequests = w.requests().length - before;
      // A new order: a tariff with nothing in the pool.
      w.addService({ id: ++item, ip: `203.0.114.${i + 1}`, panel: '4601', expiredate: '2026-02-10' });
      before = w.requests().length;
      openNew.push(await timeOnce([EXE, '--command', 'open', '--item', String(item), '--runningoperation', String(item)], env));
      newRequests = w.requests().length - before;
    }
    const b = median(bare);
    const bo = median(bareOps);
    const line = (name: string, xs: number[], base: number, extra = '') => console.log(`${name.padEnd(34)} ${median(xs).toFixed(1).padStart(7)} ms   ${(median(xs) / base).toFixed(2)}× bare node${extra}`);
    console.log(`pmisplicense bench: median of ${RUNS} runs (${runs} for open), this machine, this run`);
    console.log(`${'bare node start (node -e 0)'.padEnd(34)} ${b.toFixed(1).padStart(7)} ms   1.00×`);
    line('features', features, b, '   (goal ≤ 1.30×)');
    line('check_connection (sandbox)', check, b);
    line('open, pool hit', openPool, bo, `   ${poolRequests} upstream requests, + fake mgrctl calls`);
    line('open, new order', openNew, bo, `   ${newRequests} upstream requests, + fake mgrctl calls`);
    console.log('(open includes the simulated host\'s mgrctl processes, each a node start of its own)');
  } finally {
    await w.close();
  }
}

await main();
