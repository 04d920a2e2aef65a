// Scale figures for `npm run bench` (issue 9 point 5): reconcile over 10 000 upstream licenses and
// 10 000 host services, maintain over 10 000 bound licenses of which 1 % need renewal, and the
// choice of a pooled license among 100 000 free ones. Every set-up is planted in bulk (the sandbox's
// addLicense, one SQLite transaction for the simulated host and for the state, multi-row INSERTs
// into a real MariaDB): only the module's own work is timed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { addDays, type Day } from '../src/dates.js';
import { eligibleFromPool } from '../src/pool/lifecycle.js';
import { RENEWAL_LEAD_DAYS } from '../src/pool/renewal.js';
import { LicenseStore } from '../src/pool/store.js';
import { startMariaDb, type MariaDb } from '../test/support/mariadb.js';
import { seedLicenses, type SeedRow } from '../test/support/seed-state.js';
import { EXE, MODULE, World } from '../test/support/world.js';

/** GNU time: the child's peak resident set (`%M`, KiB, from wait4's ru_maxrss) into a file. */
const GNU_TIME = '/usr/bin/time';
export const RSS_METHOD = existsSync(GNU_TIME) ? 'GNU time -f %M (ru_maxrss of the module process)' : 'not measured (no /usr/bin/time)';

export interface Run {
  ms: number;
  /** Peak RSS in MiB, null when it could not be measured. */
  rssMiB: number | null;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node args` (async: the sandbox answers from this event loop), under GNU time when present. */
export function runMeasured(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'pmisplicense-bench-time-'));
  const rssFile = join(dir, 'rss');
  const [cmd, argv] = existsSync(GNU_TIME) ? [GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      let rssMiB: number | null = null;
      if (existsSync(rssFile)) {
        // GNU time writes "Command exited with non-zero status N" before the figure on failure.
        const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
        if (Number.isFinite(kib) && kib > 0) rssMiB = kib / 1024;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ ms, rssMiB, code: code ?? -1, stdout, stderr });
    });
  });
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const DAY: Day = '2026-01-10';
const LICENSE_BASE = 500_000;
const ITEM_BASE = 20_000;
const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
/** 1 % of the licenses expire within the renewal lead; their services are paid well beyond. */
const needsRenewal = (i: number) => i % 100 === 0;

export interface ScaleWorld {
  w: World;
  mdb: MariaDb;
  n: number;
  /** License ids that maintain must renew. */
  renewing: Set<number>;
  close(): Promise<void>;
}

/**
 * n licenses `Item #<item>` upstream, n active services on the simulated host each naming its
 * license in `license_id` (service_param and MariaDB's itemparam), n bound rows in the state.
 */
export async function scaleWorld(n: number): Promise<ScaleWorld> {
  const mdb = await startMariaDb();
  let w: World | null = null;
  try {
    w = await World.create({ day: DAY, balance: 1_000_000_000 });
    w.host.sim.setParamList(mdb.paramList());
    const renewing = new Set<number>();
    const state: SeedRow[] = [];
    for (let i = 1; i <= n; i++) {
      const id = LICENSE_BASE + i;
      const item = ITEM_BASE + i;
      const expiredate = needsRenewal(i) ? addDays(DAY, 3) : '2026-06-10';
      if (needsRenewal(i)) renewing.add(id);
      w.sandbox.addLicense({ id, licname: `Item #${item}`, ip: ipOf(i), pricelist: '3541', period: 1, createdate: '2025-12-10', expiredate, remoteid: String(item) });
      state.push({ module: MODULE, upstreamId: id, pricelist: '3541', period: 1, state: 'bound', item, ip: ipOf(i), expiredate, ipChangeDate: '2025-12-10', keyChangeDate: '2025-12-10' });
    }
    seedLicenses(w.db, state);
    // The simulated host's services in one transaction (addService is one transaction each).
    const host = new Database(w.host.dbPath);
    try {
      const svc = host.prepare("INSERT INTO service (id, ip, panel, period, expiredate, pricelist, itemtype, processingmodule, status) VALUES (?, ?, '3541', '1', '2026-03-10', '20', 'soft', ?, 2)");
      const param = host.prepare("INSERT INTO service_param (service, name, value) VALUES (?, 'license_id', ?)");
      host.transaction(() => {
        for (let i = 1; i <= n; i++) {
          svc.run(ITEM_BASE + i, ipOf(i), MODULE);
          param.run(ITEM_BASE + i, String(LICENSE_BASE + i));
        }
      })();
    } finally {
      host.close();
    }
    // BILLmanager's own table of the same params, in chunks of multi-row INSERTs.
    for (let from = 1; from <= n; from += 1000) {
      const rows: unknown[] = [];
      const marks: string[] = [];
      for (let i = from; i < Math.min(from + 1000, n + 1); i++) {
        marks.push("(?, 'license_id', ?)");
        rows.push(ITEM_BASE + i, String(LICENSE_BASE + i));
      }
      await mdb.exec(`INSERT INTO itemparam (item, intname, value) VALUES ${marks.join(', ')}`, rows);
    }
    const world = w;
    return {
      w: world,
      mdb,
      n,
      renewing,
      async close() {
        try {
          await world.close();
        } finally {
          await mdb.stop();
        }
      },
    };
  } catch (e) {
    await w?.close().catch(() => {});
    await mdb.stop().catch(() => {});
    throw e;
  }
}

export interface ReconcileFigures {
  runs: Run[];
  bare: Run[];
  findings: Record<string, number>;
  exit: number;
}

/** `reconcile --module 1 --json`, interleaved with bare node starts (same load for both series). */
export async function benchReconcile(s: ScaleWorld, runs: number): Promise<ReconcileFigures> {
  const out: Run[] = [];
  const bare: Run[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await runMeasured(['-e', '0'], s.w.env));
    const r = await runMeasured([EXE, 'reconcile', '--module', String(MODULE), '--json'], s.w.env);
    if (r.code !== 0 && r.code !== 1) throw new Error(`reconcile failed (exit ${r.code}): ${r.stderr.slice(-1000)}`);
    out.push(r);
  }
  const last = out[out.length - 1]!;
  const findings: Record<string, number> = {};
  for (const f of JSON.parse(last.stdout) as { kind: string }[]) findings[f.kind] = (findings[f.kind] ?? 0) + 1;
  return { runs: out, bare, findings, exit: last.code };
}

export interface MaintainFigures {
  run: Run;
  bare: Run;
  /** Licensing-server requests per func. */
  upstream: Record<string, number>;
  /** Licenses named (elid) by per-license upstream calls, and how many of them were not due. */
  perLicense: number;
  notDue: number;
  /** Fake mgrctl calls per func. */
  host: Record<string, number>;
  hostServicesTouched: number;
  renewed: number;
}

export async function benchMaintain(s: ScaleWorld): Promise<MaintainFigures> {
  const { w } = s;
  const bare = await runMeasured(['-e', '0'], w.env);
  w.sandbox.clearRequests();
  const hostBefore = w.host.sim.calls().length;
  const prolongsBefore = w.sandbox.prolongs();
  const run = await runMeasured([EXE, 'maintain', '--module', String(MODULE)], w.env);
  if (run.code !== 0) throw new Error(`maintain failed (exit ${run.code}): ${run.stderr.slice(-1000)}`);
  const upstream: Record<string, number> = {};
  const named = new Set<number>();
  for (const r of w.requests()) {
    upstream[r.func] = (upstream[r.func] ?? 0) + 1;
    if (r.params.elid) named.add(Number(r.params.elid));
  }
  const host: Record<string, number> = {};
  const touched = new Set<string>();
  for (const c of w.host.sim.calls().slice(hostBefore)) {
    host[c.func] = (host[c.func] ?? 0) + 1;
    const elid = c.func === 'processing.edit' ? undefined : c.argv.find((a) => a.startsWith('elid='));
    if (elid) touched.add(elid.slice(5));
  }
  return {
    run,
    bare,
    upstream,
    perLicense: named.size,
    notDue: [...named].filter((id) => !s.renewing.has(id)).length,
    host,
    hostServicesTouched: touched.size,
    renewed: w.sandbox.prolongs() - prolongsBefore,
  };
}

export interface PoolFigures {
  free: number;
  choices: number;
  /** Mean ms per reservePooled (the whole transaction: choice, bind, journal, commit). */
  reserveMs: number;
  /** Mean ms of the choice alone (the candidates read until the first usable one), no write. */
  chooseMs: number;
  plan: string[];
}

/** reservePooled over a state seeded with `free` free licenses of four tariffs. */
export function benchPool(free: number, choices: number): PoolFigures {
  const dir = mkdtempSync(join(tmpdir(), 'pmisplicense-bench-pool-'));
  try {
    const file = join(dir, 'state.db');
    const tariffs = ['3541', '4601', '5001', '5002'];
    const rows: SeedRow[] = [];
    // Deterministic spread: expiry from 10 days ago to ~13 months ahead (some lifetime), change dates
    // within the last 90 days (about a third changed less than a month ago: not yet eligible).
    let x = 12345;
    const rnd = (k: number) => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x % k);
    for (let i = 1; i <= free; i++) {
      const period = rnd(50) === 0 ? 0 : rnd(3) === 0 ? 12 : 1;
      rows.push({
        module: MODULE,
        upstreamId: 1_000_000 + i,
        pricelist: tariffs[i % tariffs.length]!,
        period,
        state: 'free',
        ip: ipOf(i),
        expiredate: period === 0 ? '2099-12-31' : addDays(DAY, rnd(410) - 10),
        ipChangeDate: addDays(DAY, -rnd(90)),
        keyChangeDate: addDays(DAY, -rnd(90)),
      });
    }
    seedLicenses(file, rows);
    const store = LicenseStore.open(file);
    const leadEnd = addDays(DAY, RENEWAL_LEAD_DAYS);
    const usable = (l: Parameters<typeof eligibleFromPool>[0]) => eligibleFromPool(l, DAY);
    let t0 = performance.now();
    for (let i = 0; i < choices; i++) {
      for (const c of store.poolCandidates(MODULE, tariffs[i % tariffs.length]!, DAY, leadEnd)) if (usable(c)) break;
    }
    const chooseMs = (performance.now() - t0) / choices;
    t0 = performance.now();
    for (let i = 0; i < choices; i++) {
      const r = store.reservePooled({ module: MODULE, pricelist: tariffs[i % tariffs.length]!, item: 50_000 + i, ip: ipOf(i), period: 1, today: DAY, leadEnd }, usable);
      if (!r) throw new Error(`pool bench: choice ${i} found nothing`);
    }
    const reserveMs = (performance.now() - t0) / choices;
    store.close();
    const db = new Database(file, { readonly: true });
    const plan = (db.prepare("EXPLAIN QUERY PLAN SELECT * FROM license WHERE module = ? AND state = 'free' AND pricelist = ? AND expiredate > ? AND expiredate <= ? AND period IN (1, 12) ORDER BY expiredate, upstream_id").all(MODULE, '3541', leadEnd, '9999-12-31') as { detail: string }[]).map((r) => r.detail);
    db.close();
    return { free, choices, reserveMs, chooseMs, plan };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
