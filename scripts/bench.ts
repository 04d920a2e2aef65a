// Start-up and operation cost of the module, as ratios to a bare `node` start measured in the same
// run (the machines are shared and noisy: absolute times mean little, ratios travel). Each figure
// is the median of several runs of the built executable as BILLmanager starts it.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { EXE, World, SANDBOX_PASSWORD, SANDBOX_USER } from '../test/support/world.js';
import { benchAdvise } from './bench-advise.js';
import { benchXml } from './bench-xml.js';
import { benchMaintain, benchPool, benchReconcile, median as medianOf, RSS_METHOD, scaleWorld } from './bench-scale.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** Scale of issue 9 point 5; smaller values for a quick look (BENCH_SCALE=0 skips that part). */
const SCALE = Number(process.env.BENCH_SCALE ?? 10_000);
const POOL = Number(process.env.BENCH_POOL ?? 100_000);
const SCALE_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);

/** The short table printed last: one row per figure. */
const table: [string, string, string, string][] = [];


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
    const row = (name: string, xs: number[], base: number, note = '') => table.push([name, `${median(xs).toFixed(0)} ms`, `${(median(xs) / base).toFixed(2)}×`, note]);
    table.push(['bare node start (node -e 0)', `${b.toFixed(0)} ms`, '1.00×', '']);
    row('features', features, b, 'goal ≤ 1.30×');
    row('check_connection (sandbox)', check, b);
    row('open, pool hit', openPool, bo, `${poolRequests} upstream requests`);
    row('open, new order', openNew, bo, `${newRequests} upstream requests`);
  } finally {
    await w.close();
  }
}

async function scale(): Promise<void> {
  if (SCALE > 0) {
    const t0 = performance.now();
    const s = await scaleWorld(SCALE);
    console.log(`\nscale: ${SCALE} upstream licenses, ${SCALE} host services, ${SCALE} bound in the state (set up in ${((performance.now() - t0) / 1000).toFixed(1)} s; MariaDB for itemparam)`);
    try {
      const rec = await benchReconcile(s, SCALE_RUNS);
      const bare = medianOf(rec.bare.map((r) => r.ms));
      const ms = medianOf(rec.runs.map((r) => r.ms));
      const rss = rec.runs.map((r) => r.rssMiB).filter((x): x is number => x !== null);
      const bareRss = rec.bare.map((r) => r.rssMiB).filter((x): x is number => x !== null);
      const kinds = Object.entries(rec.findings).map(([k, n]) => `${n} ${k}`).join(', ') || 'no findings';
      console.log(`reconcile --module 1 --json: median of ${SCALE_RUNS}: ${ms.toFixed(0)} ms (${(ms / bare).toFixed(2)}× bare node ${bare.toFixed(0)} ms); peak RSS ${rss.length ? `${Math.max(...rss).toFixed(0)} MiB (bare node ${Math.max(...bareRss).toFixed(0)} MiB)` : 'not measured'}; exit ${rec.exit}, ${kinds}`);
      console.log(`  peak RSS by ${RSS_METHOD}; targets ≤ 2000 ms wall, ≤ 150 MiB`);
      table.push([`reconcile, ${SCALE} licenses + services`, `${ms.toFixed(0)} ms`, `${(ms / bare).toFixed(2)}×`, `peak RSS ${rss.length ? `${Math.max(...rss).toFixed(0)} MiB` : '?'}; targets ≤ 2 s, ≤ 150 MiB`]);

      const m = await benchMaintain(s);
      const up = Object.entries(m.upstream).map(([f, n]) => `${f} ×${n}`).join(', ');
      const host = Object.entries(m.host).map(([f, n]) => `${f} ×${n}`).join(', ');
      console.log(`maintain --module 1 (${s.renewing.size} of ${SCALE} due): ${m.run.ms.toFixed(0)} ms (${(m.run.ms / m.bare.ms).toFixed(2)}× bare node); peak RSS ${m.run.rssMiB?.toFixed(0) ?? '?'} MiB; ${m.renewed} renewed`);
      console.log(`  licensing server: ${up}; per-license calls named ${m.perLicense} licenses, ${m.notDue} of them not due`);
      console.log(`  host (fake mgrctl): ${host}; ${m.hostServicesTouched} services named`);
      table.push([`maintain, ${SCALE} bound, ${s.renewing.size} due`, `${m.run.ms.toFixed(0)} ms`, `${(m.run.ms / m.bare.ms).toFixed(2)}×`, `${m.perLicense} licenses got calls (${m.notDue} not due); ${Object.values(m.upstream).reduce((a, b) => a + b, 0)} upstream requests`]);
    } finally {
      await s.close();
    }
  }
  if (SCALE > 0) {
    const a = await benchAdvise(SCALE);
    console.log(`\nadvise --json over ${a.services} services × 12 months: ${a.run.ms.toFixed(0)} ms (${(a.run.ms / a.bare.ms).toFixed(2)}× bare node); CPU ${a.cpu === null ? '?' : `${(a.cpu * 1000).toFixed(0)} ms`}; peak RSS ${a.run.rssMiB?.toFixed(0) ?? '?'} MiB; target ≤ 5 s`);
    table.push([`advise, ${a.services} services × 12 months`, `${a.run.ms.toFixed(0)} ms`, `${(a.run.ms / a.bare.ms).toFixed(2)}×`, `CPU ${a.cpu === null ? '?' : `${(a.cpu * 1000).toFixed(0)} ms`}; peak RSS ${a.run.rssMiB?.toFixed(0) ?? '?'} MiB; target ≤ 5 s`]);
  }
  if (POOL > 0) {
    const choices = Math.min(1000, Math.floor(POOL / 10));
    const p = benchPool(POOL, choices);
    console.log(`\npool: ${POOL} free licenses of 4 tariffs, ${choices} choices: reservePooled ${p.reserveMs.toFixed(3)} ms each (choice alone ${p.chooseMs.toFixed(3)} ms); target ≤ 1 ms`);
    console.log(`  plan of the candidates' query: ${p.plan.join(' | ')}`);
    table.push([`pool choice among ${POOL} free`, `${p.reserveMs.toFixed(2)} ms`, '-', `choice alone ${p.chooseMs.toFixed(3)} ms; target ≤ 1 ms`]);
  }
}

function printTable(): void {
  const w = [0, 1, 2, 3].map((i) => Math.max(...table.map((r) => r[i]!.length)));
  console.log(`\nsummary (${new Date().toISOString().slice(0, 10)}, node ${process.version}, ratios to bare node of the same run)`);
  for (const r of table) console.log(`  ${r[0].padEnd(w[0]!)}  ${r[1].padStart(w[1]!)}  ${r[2].padStart(w[2]!)}  ${r[3]}`);
}

function xml(): void {
  console.log('\nxml: src/xml.ts (saxes and the module tree) and saxes events alone, in-process');
  for (const x of benchXml(Math.min(RUNS, 9))) {
    console.log(`  ${x.name} (${(x.bytes / 1024).toFixed(0)} KiB): ${x.oursMs.toFixed(1)} ms, saxes events alone ${x.saxesMs.toFixed(1)} ms`);
    table.push([`parse XML, ${x.name}`, `${x.oursMs.toFixed(1)} ms`, '-', `saxes events alone ${x.saxesMs.toFixed(1)} ms`]);
  }
}

await main();
xml();
await scale();
printTable();
