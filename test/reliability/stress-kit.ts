// The randomized interleaving stress test of issue 7 (SPEC 5.8): dozens of services on three
// tariffs, 2–4 module processes at a time running a seeded random mix of every protocol command,
// `maintain` and (when the build has it) `reconcile --apply`, against the sandbox with random
// latency and faults, host (mgrctl) faults — service.saveparam and service.post* failing, mgrctl
// killed, hanging or printing garbage — and occasional SIGKILLs, the clock moved by days and months. BILLmanager is
// played plausibly: a failed or killed operation is run again (same runningoperation) before
// anything else happens to that service, a closed service stays closed, prolong follows a payment
// (the service's expiredate moves first), an expired service is paid or suspended, a long-suspended
// one is closed. After every round the four invariants of SPEC 5.8 are checked across the three
// views: the state file (LicenseStore.licenses()), the upstream account (the sandbox) and the
// host's services (its SQLite file, read directly: every service, whatever its id). The run ends with
// a fault-free settling phase — every failed operation run again (also those BILLmanager left to
// the administrator), then `maintain` and `reconcile --apply` — and a final check that excuses
// nothing: no pending retry, no mismatch a fault once explained, no license left `releasing`.
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { SandboxLicense } from '../../src/sandbox/licensing-server.js';
import type { ManagedLicense } from '../../src/pool/store.js';
import { pooled } from '../support/pool.js';
import { EXE, MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from '../support/world.js';
import { prng } from '../support/prng.js';

// ---- seeded randomness -------------------------------------------------------------------------

export { prng };

// ---- calendar (UTC days, months clamp to the month's end: SPEC 1) -------------------------------

function parseDay(d: string): Date {
  return new Date(`${d}T00:00:00Z`);
}
function fmt(d: Date): string {
  return d.toISOString().slice(0, 10);
}
export function addDays(day: string, n: number): string {
  const d = parseDay(day);
  d.setUTCDate(d.getUTCDate() + n);
  return fmt(d);
}
export function addMonths(day: string, n: number): string {
  const d = parseDay(day);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + n;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return fmt(new Date(Date.UTC(y, m, Math.min(d.getUTCDate(), last))));
}

// ---- the scenario ---------------------------------------------------------------------------------

export const TARIFFS = ['3541', '4601', '55331'] as const;
const PERIODS = ['1', '1', '12', '3'] as const;
const FAULT_FUNCS = ['soft', 'soft.edit', 'soft.order.param', 'service.prolong', 'soft.suspend', 'soft.resume', 'soft.delete'] as const;
const FAULT_KINDS = ['latency', 'latency', 'http500', 'drop', 'dropafter'] as const;
/** Host calls a fault hits (SPEC 4): the params a command saves, the post-operation that tells
 *  BILLmanager it is done, and '*' (any mgrctl call: reads, runningoperation.edit, task.edit). */
const HOST_FAULT_FUNCS = ['service.saveparam', 'service.saveparam', 'service.postopen', 'service.postclose', 'service.postsetparam', 'service.postsuspend', 'service.postresume', 'service.postprolong', '*'] as const;
/** exit: mgrctl exits 1; error: a <doc><error>; garbage: non-XML; kill: mgrctl dies by SIGKILL;
 *  hang: it answers late. All but hang also come "after apply" (the host did it, the reply was lost). */
const HOST_FAULT_KINDS = ['exit', 'error', 'garbage', 'kill', 'kill', 'hang'] as const;

export type OpKind = 'open' | 'close' | 'prolong' | 'suspend' | 'resume' | 'setparam-ip' | 'setparam-panel' | 'setparam-nopanel' | 'sync_item' | 'maintain' | 'reconcile' | 'panel-periods' | 'panel-reconcile';

export interface Op {
  kind: OpKind;
  item: number | null;
  ro: number | null;
  attempt: number;
  /** For setparam: the new IP or panel (already written to the host). */
  arg?: string;
}

export type Life = 'new' | 'active' | 'suspended' | 'closing' | 'closed' | 'stuck';

export interface ServiceModel {
  id: number;
  life: Life;
  /** A closed or stuck service whose customer has been followed by a new one (churn). */
  replaced?: boolean;
  pending: Op | null;
  /** Applied orders named `Item #<id>` when the current panel was set: more than one order
   *  since then is a second purchase for one need (SPEC 5.2 "never pay twice"). */
  ordersAtEpoch: number;
  /** The last operation BILLmanager stopped retrying (manual, or given up): the settling phase
   *  runs it again, as the administrator restarting it would. */
  abandoned?: Op | null;
  /** Migration (withMigration): the license bought outside the module for this live service. */
  legacyLicense?: number;
}

export interface Violation {
  /** SPEC 5.8 invariant number. */
  invariant: 1 | 2 | 3 | 4;
  kind: 'doubleBindings' | 'doublePurchases' | 'leaks' | 'lostRecords' | 'inconsistencies';
  key: string;
  message: string;
  round: number;
}

export interface StressOptions {
  seed: number;
  /** Module processes to run (retries and maintain included). */
  ops: number;
  services?: number;
  /** Stop starting rounds after this many ms (the rest is the drain)… */
  budgetMs?: number;
  /** …but not before this many module processes ran: a loaded machine makes the run slower,
   *  never shorter than this (a minimum by progress, not by the clock). */
  minOps?: number;
  /** Progress lines (the op log as it grows). */
  progress?: (line: string) => void;
  /** Host (mgrctl) faults in the mix; default on. */
  hostFaults?: boolean;
  /**
   * SPEC 5.9 in the mix (issue 14; default off until that behaviour is merged): live services
   * whose license was bought outside the module (migration: `prolong`/`resume`/`sync_item`/
   * `maintain`/`reconcile --apply` must bind it as it is), and services BILLmanager moves to a
   * second processing module (their license stays with the module that bought it; their close
   * releases it through that module's account). The final check requires every such license to
   * be known to the module (bound, pooled or gone), and the usual checks see a moved service's
   * license like any other.
   */
  withMigration?: boolean;
}

export interface StressResult {
  seed: number;
  operations: number;
  rounds: number;
  /** Pairs of module processes that ran at the same time, summed over the rounds. */
  concurrentPairs: number;
  checks: number;
  kills: number;
  /** Faults injected, upstream and host together. */
  faults: number;
  /** Of those, host (mgrctl) faults. */
  hostFaults: number;
  /** Host faults an mgrctl call actually ran into. */
  hostFaultsHit: number;
  retries: number;
  abandoned: number;
  clockMoves: number;
  reconcileAvailable: boolean;
  violations: Violation[];
  opLog: string[];
  seconds: number;
}

interface HostService {
  id: number;
  status: number;
  ip: string;
  panel: string;
  expiredate: string;
  params: Record<string, string>;
}

/** Every service of the simulated host, read from its SQLite file (its API reads one id at a time). */
export function hostServices(dbPath: string): HostService[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 15000');
    const rows = db.prepare('SELECT id, status, ip, panel, expiredate FROM service ORDER BY id').all() as Omit<HostService, 'params'>[];
    const params = db.prepare('SELECT service, name, value FROM service_param').all() as { service: number; name: string; value: string }[];
    const byId = new Map(rows.map((r) => [r.id, { ...r, params: {} as Record<string, string> }]));
    for (const p of params) {
      const s = byId.get(p.service);
      if (s) s.params[p.name] = p.value;
    }
    return [...byId.values()];
  } finally {
    db.close();
  }
}

/** Host faults injected and not yet consumed by an mgrctl call (read from the host's file). */
function hostFaultsLeft(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 15000');
    return (db.prepare('SELECT COALESCE(SUM(remaining), 0) AS n FROM fault').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export function reconcileAvailable(): boolean {
  const r = spawnSync(process.execPath, [EXE, 'reconcile', '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return r.status === 0 && r.stdout.includes('--apply');
}

interface Running {
  op: Op;
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; ms: number }>;
  killedAt: number | null;
}

/**
 * The panel pages as COREmanager drives them (SPEC 8): `pmisplicense panel` with PARAM_* in the
 * environment. panel-periods saves a rule and deletes one (rules feed open's license period);
 * panel-reconcile reads the Reconcile list and applies every fault it shows, as an administrator
 * ticking them all would — both beside the protocol commands and maintain.
 */
const PANEL_SCRIPT = `
const { execFileSync } = require('node:child_process');
const [exe, kind, source, target, victim] = process.argv.slice(1);
const run = (params) => {
  const env = { ...process.env, AUTH_USER: 'admin', AUTH_LEVEL: '29' };
  for (const [k, v] of Object.entries(params)) env['PARAM_' + k] = v;
  return execFileSync(process.execPath, [exe, 'panel'], { env, input: '<doc/>', encoding: 'utf8' });
};
let out = '';
if (kind === 'panel-periods') {
  out += run({ func: 'pmisplicense.periods.edit', plid: '1', sok: 'ok', source, target, compare_pricelist: 'off' });
  out += run({ func: 'pmisplicense.periods.delete', plid: '1', elid: victim });
} else {
  const list = run({ func: 'pmisplicense.reconcile', plid: '1' });
  const ids = [...list.matchAll(/<id>((?:leak|lost|autoprolong|params):[^<]*)<\\/id>/g)].map((m) => m[1]);
  out += list;
  if (ids.length) out += run({ func: 'pmisplicense.reconcile.apply', plid: '1', elid: ids.join(', '), sok: 'ok' });
}
process.stdout.write(out);
`;

function start(w: World, op: Op): Running {
  const panel = op.kind === 'panel-periods' || op.kind === 'panel-reconcile';
  const args = panel
    ? ['-e', PANEL_SCRIPT, EXE, op.kind, ...(op.arg ?? '1 12 1').split(' ')]
    : [EXE, ...(op.kind === 'maintain' ? ['maintain'] : op.kind === 'reconcile' ? ['reconcile', '--apply'] : ['--command', op.kind.startsWith('setparam') ? 'setparam' : op.kind, '--item', String(op.item)])];
  if (op.ro !== null) args.push('--runningoperation', String(op.ro));
  const began = Date.now();
  // An order whose reply was lost may still be carried out upstream (latency faults run up to 2.5 s):
  // the product's own guard (ORDER_SETTLE, 180 s by default) must be on, as in production. World's
  // 0, which lets reruns order again at once, would make the stress test buy twice by design.
  const child = spawn(process.execPath, args, { env: { ...w.env, PMISPLICENSE_LOCK_WAIT: '10', PMISPLICENSE_ORDER_SETTLE: '5' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', () => {});
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; ms: number }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, ms: Date.now() - began }));
  });
  return { op, child, done, killedAt: null };
}

export async function runStress(o: StressOptions): Promise<StressResult> {
  const started = Date.now();
  const rnd = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number): boolean => rnd() < p;
  const opLog: string[] = [];
  const say = (line: string): void => {
    opLog.push(line);
    o.progress?.(line);
  };

  const w = await World.create({ day: '2026-01-10', balance: 10_000_000 });
  const canReconcile = reconcileAvailable();
  const result: StressResult = {
    seed: o.seed, operations: 0, rounds: 0, concurrentPairs: 0, checks: 0, kills: 0, faults: 0, hostFaults: 0, hostFaultsHit: 0, retries: 0, abandoned: 0,
    clockMoves: 0, reconcileAvailable: canReconcile, violations: [], opLog, seconds: 0,
  };
  try {
    say(`seed ${o.seed}, ops ${o.ops}, day ${w.day}, reconcile ${canReconcile ? 'available' : 'not built'}`);
    // Pooled licenses to start with: some re-usable now, some with a recent key change.
    for (let i = 0; i < 6; i++) {
      const tariff = TARIFFS[i % TARIFFS.length]!;
      const id = await pooled(w, { pricelist: tariff, period: 12, createdate: '2025-06-01', expiredate: addMonths('2026-01-10', 1 + i), ip: `198.51.100.${200 + i}`, keyChangeDate: i % 3 === 2 ? '2026-01-05' : '2025-06-01' });
      say(`seed pooled license ${id} tariff ${tariff}`);
    }
    const services = new Map<number, ServiceModel>();
    const n = o.services ?? 30;
    for (let i = 0; i < n; i++) {
      const id = 1001 + i;
      const period = pick(PERIODS);
      const panel = chance(0.08) ? 'nopanel' : pick(TARIFFS);
      w.addService({ id, ip: `203.0.113.${1 + i}`, panel, period, status: 1, expiredate: addMonths(w.day, Number(period)) });
      services.set(id, { id, life: 'new', pending: null, ordersAtEpoch: 0 });
    }
    // Churn: a customer who left is followed by a new one, so a long run keeps live services
    // (and the pool keeps being fed and drawn from) instead of running dry.
    let nextId = 1001 + n;
    const newCustomers = (round: number): void => {
      for (const s of [...services.values()]) {
        if ((s.life !== 'closed' && s.life !== 'stuck') || s.replaced || !chance(0.25)) continue;
        s.replaced = true;
        const id = nextId++;
        const period = pick(PERIODS);
        const panel = chance(0.08) ? 'nopanel' : pick(TARIFFS);
        w.addService({ id, ip: `203.0.113.${1 + (id % 250)}`, panel, period, status: 1, expiredate: addMonths(w.day, Number(period)) });
        services.set(id, { id, life: 'new', pending: null, ordersAtEpoch: 0 });
        say(`r${round} new customer: service ${id}, panel ${panel}, period ${period}`);
      }
    };
    say(`${n} services 1001..${1000 + n}, status 1 (ordered)`);
    // SPEC 5.9 (withMigration): live services with a license bought by hand (an `unbound`
    // candidate: same IP and tariff, a name the module does not give), and a second processing
    // module of the same account for services BILLmanager moves.
    const OTHER_MODULE = MODULE + 1;
    if (o.withMigration) {
      w.host.sim.addModule({ id: OTHER_MODULE, url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
      for (let i = 0; i < 3; i++) {
        const id = nextId++;
        const panel = TARIFFS[i % TARIFFS.length]!;
        const ip = `203.0.113.${1 + (id % 250)}`;
        w.addService({ id, ip, panel, period: '1', status: 2, expiredate: addMonths(w.day, 2) });
        const lic = w.sandbox.addLicense({ licname: `bought by hand ${id}`, ip, pricelist: panel, period: 1, createdate: '2025-12-10', expiredate: addMonths(w.day, 1) });
        services.set(id, { id, life: 'active', pending: null, ordersAtEpoch: 0, legacyLicense: lic.id });
        say(`migration: live service ${id} (panel ${panel}) with license ${lic.id} bought outside the module`);
      }
    }

    let nextRo = 1;
    let ipCounter = 0;
    const newIp = (): string => `192.0.2.${1 + (ipCounter++ % 250)}`;
    const ordersOf = (id: number): number => w.requests('soft.order.param').filter((r) => r.applied && r.params.licname === `Item #${id}`).length;
    /** Of a service's orders from the `from`-th on, those whose license lapsed and the licensing
     *  server deleted (no renewal in time: this model's cron does not run daily while the clock
     *  jumps by months). Buying again for a license that no longer exists is a new need, not a
     *  second charge for one. Applied orders and the ledger's order entries pair up one to one. */
    const lapsedOrders = (id: number, from: number): number => {
      const ledger = w.sandbox.ledger().filter((e) => e.kind === 'order');
      const mine = w
        .requests('soft.order.param')
        .filter((r) => r.applied)
        .flatMap((r, i) => (r.params.licname === `Item #${id}` && ledger[i] ? [ledger[i]!.licenseId] : []));
      return mine.slice(from).filter((lid) => w.sandbox.license(lid)?.deletedBy === 'expiry').length;
    };

    // The previous check's view, for "never prolonged while pooled" and "never deleted while bound".
    let prevState: ManagedLicense[] = w.store((s) => s.licenses());
    let prevLedger = w.sandbox.ledger().length;
    let prevDeleted = new Set(w.sandbox.licenses().filter((u) => u.deleted).map((u) => u.id));
    const seen = new Set<string>();

    /** An operation the host starts for one service (the host's side of it done first). */
    const issue = (s: ServiceModel, kind: OpKind): Op => {
      const op: Op = { kind, item: s.id, ro: nextRo++, attempt: 1 };
      // A newer operation supersedes one left to the administrator (nobody restarts a setparam
      // of a service that was closed since).
      s.abandoned = null;
      const svc = w.host.sim.service(s.id)!;
      if (kind === 'prolong') {
        const months = Number(svc.period) > 0 ? Number(svc.period) : 1;
        const base = svc.expiredate && svc.expiredate >= w.day ? svc.expiredate : w.day;
        w.host.sim.updateService(s.id, { expiredate: addMonths(base, months) });
        op.arg = addMonths(base, months);
      } else if (kind === 'setparam-ip') {
        op.arg = newIp();
        w.host.sim.updateService(s.id, { ip: op.arg });
      } else if (kind === 'setparam-panel' || kind === 'setparam-nopanel') {
        op.arg = kind === 'setparam-nopanel' ? 'nopanel' : pick(TARIFFS.filter((t) => t !== svc.panel));
        w.host.sim.updateService(s.id, { panel: op.arg });
        s.ordersAtEpoch = ordersOf(s.id);
      } else if (kind === 'resume' && svc.expiredate !== '' && svc.expiredate < w.day) {
        // The customer paid the overdue service: that is why it is resumed.
        op.arg = addMonths(w.day, Number(svc.period) > 0 ? Number(svc.period) : 1);
        w.host.sim.updateService(s.id, { expiredate: op.arg });
      } else if (kind === 'close') {
        s.life = 'closing';
      }
      return op;
    };

    /** What BILLmanager would do next for a service, or null. */
    const nextFor = (s: ServiceModel): OpKind | null => {
      const svc = w.host.sim.service(s.id)!;
      const overdue = svc.expiredate !== '' && svc.expiredate < w.day;
      switch (s.life) {
        case 'new':
          return 'open';
        case 'active':
          if (overdue) return chance(0.75) ? 'prolong' : 'suspend';
          return pick(['prolong', 'prolong', 'suspend', 'close', 'setparam-ip', 'setparam-panel', 'setparam-panel', 'setparam-nopanel', 'sync_item', 'sync_item'] as const);
        case 'suspended':
          if (overdue && svc.expiredate < addDays(w.day, -20)) return 'close';
          return pick(['resume', 'resume', 'close', 'sync_item'] as const);
        default:
          return null;
      }
    };

    const excused = new Set<string>();
    const check = (round: number, skip: Set<number>, touched: Map<number, OpKind[]>, chaos: boolean, final = false, succeeded = new Set<number>()): void => {
      result.checks++;
      for (const v of checkViews(w, services, skip, touched, succeeded, prevState, prevLedger, prevDeleted, ordersOf, lapsedOrders, round, chaos, final ? null : excused, say)) {
        if (seen.has(v.key)) continue;
        seen.add(v.key);
        result.violations.push(v);
        say(`r${round} VIOLATION (invariant ${v.invariant}, ${v.kind}): ${v.message}`);
      }
      prevState = w.store((s) => s.licenses());
      prevLedger = w.sandbox.ledger().length;
      prevDeleted = new Set(w.sandbox.licenses().filter((u) => u.deleted).map((u) => u.id));
    };

    const runRound = async (round: number, ops: Op[], allowChaos: boolean): Promise<void> => {
      const touched = new Map<number, OpKind[]>();
      let chaos = false;
      let hostFaultsInjected = 0;
      let hostFaultFails = false;
      for (const op of ops) if (op.item !== null) touched.set(op.item, [...(touched.get(op.item) ?? []), op.kind]);
      if (allowChaos && chance(0.5)) {
        for (let f = 0, nf = chance(0.3) ? 2 : 1; f < nf; f++) {
          const kind = pick(FAULT_KINDS);
          const func = pick(FAULT_FUNCS);
          const delayMs = kind === 'latency' ? 200 + Math.floor(rnd() * 2300) : undefined;
          w.sandbox.inject({ kind, func, count: 1, ...(delayMs ? { delayMs } : {}) });
          if (kind !== 'latency') chaos = true;
          result.faults++;
          say(`r${round} fault ${kind} on ${func}${delayMs ? ` ${delayMs}ms` : ''}`);
        }
      }
      if (allowChaos && (o.hostFaults ?? true) && chance(0.35)) {
        const kind = pick(HOST_FAULT_KINDS);
        const func = pick(HOST_FAULT_FUNCS);
        const ms = kind === 'hang' ? 300 + Math.floor(rnd() * 3000) : undefined;
        const afterApply = kind !== 'hang' && chance(0.5);
        w.host.sim.injectFault({ kind, func, ...(ms ? { ms } : {}), ...(afterApply ? { afterApply } : {}), ...(kind === 'error' ? { message: 'Simulated host error' } : {}) });
        hostFaultFails = kind !== 'hang';
        result.faults++;
        result.hostFaults++;
        hostFaultsInjected++;
        say(`r${round} host fault ${kind}${afterApply ? ' after apply' : ''} on mgrctl ${func}${ms ? ` ${ms}ms` : ''}`);
      }
      const running: Running[] = [];
      for (const op of ops) {
        running.push(start(w, op));
        await new Promise((r) => setTimeout(r, Math.floor(rnd() * 250)));
      }
      result.operations += ops.length;
      result.concurrentPairs += (ops.length * (ops.length - 1)) / 2;
      if (allowChaos && running.length > 0 && chance(0.15)) {
        const victim = pick(running);
        const after = 50 + Math.floor(rnd() * 1500);
        setTimeout(() => {
          if (victim.child.exitCode === null && victim.child.signalCode === null) {
            victim.killedAt = after;
            chaos = true;
            victim.child.kill('SIGKILL');
          }
        }, after);
      }
      const outcomes = await Promise.all(running.map((r) => r.done));
      w.sandbox.clearFaults();
      if (hostFaultsInjected > 0) {
        const hit = hostFaultsInjected - hostFaultsLeft(w.host.dbPath);
        result.hostFaultsHit += hit;
        // Only a failure that happened explains (and excuses, until the final check) a mismatch.
        if (hit > 0 && hostFaultFails) chaos = true;
        say(`r${round} host fault ${hit > 0 ? 'hit' : 'not hit (no matching mgrctl call)'}`);
      }
      w.host.sim.clearFaults();
      for (const [i, r] of running.entries()) {
        const out = outcomes[i]!;
        const { op } = r;
        const what = `${op.kind}${op.item !== null ? ` ${op.item}` : ''}${op.arg ? ` (${op.arg})` : ''}${op.ro !== null ? ` ro=${op.ro}` : ''} try ${op.attempt}`;
        const s = op.item !== null ? services.get(op.item)! : null;
        const killed = out.signal === 'SIGKILL';
        if (killed) result.kills++;
        const error = /<error type="([^"]+)"/.exec(out.stdout)?.[1];
        say(`r${round} ${what} → ${killed ? `SIGKILL after ${r.killedAt}ms` : `exit ${out.code}${error ? ` (${error})` : ''}`} ${out.ms}ms`);
        if (!s) continue;
        if (out.code === 0) {
          s.pending = null;
          if (s.abandoned?.ro === op.ro) s.abandoned = null;
        } else if (op.ro !== null && !killed && w.host.sim.runningOperation(op.ro)?.manual) {
          // BILLmanager stops retrying: the operation waits for the administrator.
          s.pending = null;
          s.abandoned = op;
          result.abandoned++;
          if (op.kind === 'open') s.life = 'stuck';
          say(`r${round} ${what}: manual (left for the administrator)`);
        } else if (op.attempt >= 4) {
          s.pending = null;
          s.abandoned = op;
          result.abandoned++;
          if (op.kind === 'open') s.life = 'stuck';
          say(`r${round} ${what}: given up after ${op.attempt} tries`);
        } else {
          s.pending = { ...op, attempt: op.attempt + 1 };
        }
        const status = w.host.sim.service(s.id)!.status;
        if (status === 4) s.life = 'closed';
        else if (s.life !== 'closing' && s.life !== 'stuck') s.life = status === 2 ? 'active' : status === 3 ? 'suspended' : s.life;
      }
      const skip = new Set([...services.values()].filter((s) => s.pending !== null).map((s) => s.id));
      const succeeded = new Set(running.flatMap((r, i) => (r.op.item !== null && outcomes[i]!.code === 0 ? [r.op.item] : [])));
      check(round, skip, touched, chaos, false, succeeded);
    };

    let round = 0;
    while (result.operations < o.ops && (result.operations < (o.minOps ?? 0) || Date.now() - started < (o.budgetMs ?? Infinity))) {
      round++;
      newCustomers(round);
      if (o.withMigration && chance(0.05)) {
        // BILLmanager moves a live service with a license to the second processing module.
        const movable = [...services.values()].filter((s) => s.pending === null && (s.life === 'active' || s.life === 'suspended') && w.host.sim.service(s.id)!.processingmodule === MODULE && w.store((st) => st.licenseOfService(s.id)) !== null);
        if (movable.length > 0) {
          const s = pick(movable);
          w.host.sim.updateService(s.id, { processingmodule: OTHER_MODULE });
          say(`r${round} service ${s.id} moved to processing module ${OTHER_MODULE}`);
        }
      }
      if (chance(0.3)) {
        const to = chance(0.3) ? addMonths(w.day, 1) : addDays(w.day, 1 + Math.floor(rnd() * 12));
        w.setDay(to);
        result.clockMoves++;
        say(`r${round} day → ${to}`);
      }
      const k = 2 + Math.floor(rnd() * 3);
      const ops: Op[] = [];
      const busy = new Set<number>();
      if (chance(0.3)) ops.push({ kind: 'maintain', item: null, ro: null, attempt: 1 });
      if (canReconcile && chance(0.1)) ops.push({ kind: 'reconcile', item: null, ro: null, attempt: 1 });
      if (chance(0.1)) ops.push({ kind: 'panel-periods', item: null, ro: null, attempt: 1, arg: `${pick(['1', '3', '6', '12'])} ${pick(['1', '12'])} ${1 + Math.floor(rnd() * 6)}` });
      if (canReconcile && chance(0.08)) ops.push({ kind: 'panel-reconcile', item: null, ro: null, attempt: 1 });
      const retries = [...services.values()].filter((s) => s.pending !== null);
      while (ops.length < k) {
        let s: ServiceModel | undefined;
        if (retries.length > 0 && chance(0.7)) s = retries.splice(Math.floor(rnd() * retries.length), 1)[0];
        else s = pick([...services.values()].filter((x) => !busy.has(x.id) && x.pending === null && nextFor(x) !== null));
        if (!s) break;
        if (busy.has(s.id)) continue;
        busy.add(s.id);
        if (s.pending) {
          result.retries++;
          ops.push(s.pending);
          continue;
        }
        const kind = nextFor(s)!;
        ops.push(issue(s, kind));
      }
      result.rounds++;
      await runRound(round, ops, true);
    }
    // Settling, without faults (issue 15 point 5): BILLmanager keeps retrying what failed; the
    // administrator restarts what it left manual (a stuck open, a close, a setparam); then the daily
    // maintain and reconcile --apply run as the design has them. After that nothing is excused.
    const drain = async (what: string): Promise<void> => {
      for (let pass = 0; pass < 8; pass++) {
        const retries = [...services.values()].filter((s) => s.pending !== null).map((s) => s.pending!);
        if (retries.length === 0) break;
        round++;
        result.rounds++;
        result.retries += retries.length;
        say(`r${round} ${what}: ${retries.length} retr${retries.length === 1 ? 'y' : 'ies'}`);
        for (let i = 0; i < retries.length; i += 4) await runRound(round, retries.slice(i, i + 4), false);
      }
    };
    await drain('drain');
    const restarts = [...services.values()].filter((s) => s.abandoned && s.pending === null && (s.abandoned.kind === 'close' || w.host.sim.service(s.id)!.status !== 4));
    if (restarts.length > 0) {
      round++;
      result.rounds++;
      say(`r${round} settle: the administrator restarts ${restarts.length} operation(s) left manual`);
      const ops = restarts.map((s) => ({ ...s.abandoned!, attempt: s.abandoned!.attempt + 1 }));
      for (const s of restarts) s.abandoned = null;
      for (let i = 0; i < ops.length; i += 4) await runRound(round, ops.slice(i, i + 4), false);
      await drain('settle');
    }
    round++;
    result.rounds++;
    say(`r${round} settle: maintain${canReconcile ? ', then reconcile --apply' : ''}`);
    await runRound(round, [{ kind: 'maintain', item: null, ro: null, attempt: 1 }], false);
    if (canReconcile) await runRound(round, [{ kind: 'reconcile', item: null, ro: null, attempt: 1 }], false);
    const unsettled = [...services.values()].filter((s) => s.pending !== null).map((s) => s.id);
    if (unsettled.length > 0) say(`r${round + 1} final check with operations still failing for service(s) ${unsettled.join(', ')} (checked all the same)`);
    check(round + 1, new Set(), new Map(), false, true);
    if (o.withMigration) {
      // After maintain and reconcile --apply, no license bought outside the module for a live
      // service is still unknown to it (SPEC 5.9: the migration is one command).
      const known = new Set(w.store((st) => st.licenses()).filter((l) => l.state !== 'gone').map((l) => l.upstreamId));
      for (const s of services.values()) {
        const u = s.legacyLicense !== undefined ? w.sandbox.license(s.legacyLicense) : undefined;
        if (!u || !paid(u, w.sandbox.today()) || known.has(u.id)) continue;
        const v: Violation = { invariant: 3, kind: 'lostRecords', key: `m:legacy:${u.id}`, message: `license ${u.id} ("${u.licname}") of live service ${s.id}, bought outside the module, is still unknown to it after maintain and reconcile --apply`, round: round + 1 };
        result.violations.push(v);
        say(`r${round + 1} VIOLATION (invariant 3, lostRecords): ${v.message}`);
      }
    }
    return result;
  } finally {
    result.seconds = Math.round((Date.now() - started) / 1000);
    await w.close();
  }
}

function paid(u: SandboxLicense, today: string): boolean {
  return !u.deleted && (u.period === 0 || u.expiredate >= today);
}

/** The four invariants of SPEC 5.8 over the three views. Services with an operation still to be
 *  retried (`skip`) are left out of the checks that depend on that operation finishing; the final
 *  check skips nothing, and is given no `excused` set: nothing a fault once explained is excused
 *  after the settling phase. */
export function checkViews(
  w: World,
  services: Map<number, ServiceModel>,
  skip: Set<number>,
  touched: Map<number, OpKind[]>,
  /** Services whose operation of this round exited 0: nothing of theirs is left half-done. */
  succeeded: Set<number>,
  prevState: ManagedLicense[],
  prevLedger: number,
  prevDeleted: Set<number>,
  ordersOf: (id: number) => number,
  lapsedOrders: (id: number, from: number) => number,
  round: number,
  chaos: boolean,
  excused: Set<string> | null,
  note: (line: string) => void,
): Violation[] {
  const out: Violation[] = [];
  const v = (invariant: Violation['invariant'], kind: Violation['kind'], key: string, message: string): void => {
    out.push({ invariant, kind, key, message, round });
  };
  // SPEC 5.2 step 4 puts a license whose re-use failed back "best effort" upstream (renamed
  // free.lic, auto-renewal off, suspended). A pooled row that the upstream shows otherwise is a
  // violation only when it appears after a round without faults or kills; one that a fault or kill
  // explains is noted, and stays excused.
  const upstreamSide = (invariant: Violation['invariant'], kind: Violation['kind'], key: string, message: string): void => {
    if (excused === null) return v(invariant, kind, key, message);
    if (excused.has(key)) return;
    if (chaos) {
      excused.add(key);
      note(`r${round} note (after a fault or kill, best effort): ${message}`);
      return;
    }
    v(invariant, kind, key, message);
  };
  const today = w.sandbox.today();
  const state = w.store((s) => s.licenses());
  const byLicense = new Map(state.map((l) => [l.upstreamId, l]));
  const upstream = w.sandbox.licenses();
  const host = hostServices(w.host.dbPath);
  const live = host.filter((s) => s.status !== 4);

  // 1. No license bound to two services: in the state, and in the license_id of live services.
  //    Services with a pending retry are not skipped here (issue 15 point 5): SPEC 5.4 (v3) has a
  //    service stop naming a license before the license becomes free anywhere, so no failure or
  //    kill at any step may leave a live service naming a license it is not bound to — the next
  //    open of another service would re-use it.
  const namers = new Map<string, number[]>();
  for (const s of live) if (s.params.license_id) namers.set(s.params.license_id, [...(namers.get(s.params.license_id) ?? []), s.id]);
  for (const [lid, ids] of namers) {
    if (ids.length > 1) v(1, 'doubleBindings', `1:names:${lid}:${ids.join(',')}`, `license ${lid} is the license_id of live services ${ids.join(', ')}`);
    for (const id of ids) {
      const pendingNote = skip.has(id) ? ' (its failed operation is still to be retried)' : '';
      const row = byLicense.get(Number(lid));
      if (row && row.item !== null && row.item !== id) v(1, 'doubleBindings', `1:cross:${lid}:${id}:${row.item}`, `license ${lid} is bound to service ${row.item} in the state, and live service ${id} names it too${pendingNote}`);
      else if (!row || row.item === null) v(1, 'doubleBindings', `1:stale:${lid}:${id}`, `live service ${id} names license ${lid}, which the state holds as ${row ? row.state : 'unknown'} (the pool may give it to another service)${pendingNote}`);
    }
  }
  const boundTo = new Map<number, number[]>();
  for (const l of state) if (l.item !== null) boundTo.set(l.item, [...(boundTo.get(l.item) ?? []), l.upstreamId]);

  // 2. No service bound to two licenses; no service charged twice for one need.
  for (const [item, lics] of boundTo) if (lics.length > 1) v(2, 'doubleBindings', `2:state:${item}`, `service ${item} is bound to licenses ${lics.join(', ')} in the state`);
  const namedUp = new Map<number, number[]>();
  for (const u of upstream) {
    const m = /^Item #(\d+)$/.exec(u.licname);
    if (m && !u.deleted) namedUp.set(Number(m[1]), [...(namedUp.get(Number(m[1])) ?? []), u.id]);
  }
  for (const [item, ids] of namedUp) {
    const s = host.find((x) => x.id === item);
    const notPooled = ids.filter((id) => byLicense.get(id)?.state !== 'free');
    if (ids.length > 1 && notPooled.length < 2 && s && s.status !== 4 && !skip.has(item)) upstreamSide(2, 'doubleBindings', `2:up:${item}:${ids.join(',')}`, `live service ${item} has ${ids.length} licenses named "Item #${item}" upstream (${ids.join(', ')}), one of them pooled`);
    else if (ids.length > 1 && s && s.status !== 4 && !skip.has(item)) v(2, 'doubleBindings', `2:up:${item}:${ids.join(',')}`, `live service ${item} has ${ids.length} licenses named "Item #${item}" upstream: ${ids.join(', ')}`);
  }
  for (const s of services.values()) {
    const since = ordersOf(s.id) - s.ordersAtEpoch - lapsedOrders(s.id, s.ordersAtEpoch);
    if (since > 1) v(2, 'doublePurchases', `2:orders:${s.id}:${s.ordersAtEpoch}`, `service ${s.id} was charged ${since} orders for one panel choice`);
  }

  // 3. No paid license the module released or adopted is outside the pool.
  for (const u of upstream) {
    if (!paid(u, today)) continue;
    const row = byLicense.get(u.id);
    const named = /^Item #(\d+)$/.exec(u.licname);
    const owner = named ? Number(named[1]) : null;
    if (owner !== null && skip.has(owner)) continue;
    if (!row || row.state === 'gone') {
      if (owner !== null || u.licname === 'free.lic') v(3, 'lostRecords', `3:lost:${u.id}`, `upstream license ${u.id} ("${u.licname}", paid until ${u.period === 0 ? 'lifetime' : u.expiredate}) is ${row ? 'gone' : 'unknown'} in the state`);
      continue;
    }
    if (row.item !== null) {
      const s = host.find((x) => x.id === row.item);
      if (!skip.has(row.item) && (!s || s.status === 4)) v(3, 'leaks', `3:closed:${u.id}:${row.item}`, `paid license ${u.id} is bound to service ${row.item}, which is ${s ? 'closed' : 'unknown'} in the host`);
      else if (!skip.has(row.item) && u.licname !== `Item #${row.item}`) v(3, 'inconsistencies', `3:name:${u.id}:${row.item}`, `license ${u.id} is bound to ${row.item} in the state but named "${u.licname}" upstream`);
    } else if (row.state === 'releasing') {
      // Taken off a service and not put into the pool: neither in use nor re-usable, and nothing
      // stops paying for it. SPEC 5.8 point 4 allows it only while the failed command's rerun is
      // to come (that service is in `skip`); an operation left to the administrator, or a fault
      // or kill in maintain / reconcile, may leave it to the daily maintain (excused until the
      // final check). An open, close or setparam that exited 0 never leaves one (each finishes the
      // service's unfinished releases first), faults or not.
      const from = row.releasedFrom;
      if (from !== null && skip.has(from)) continue;
      const what = `paid license ${u.id} (paid until ${u.period === 0 ? 'lifetime' : u.expiredate}) was taken off service ${from} and left releasing: neither bound nor in the pool`;
      const finishing = (touched.get(from ?? -1) ?? []).some((k) => k === 'open' || k === 'close' || k.startsWith('setparam'));
      if (from !== null && succeeded.has(from) && finishing) v(3, 'leaks', `3:releasing:${u.id}:${from}`, `${what}, though the service's ${(touched.get(from) ?? []).join('/')} exited 0`);
      else if (from !== null && services.get(from)?.abandoned && excused !== null) {
        if (!excused.has(`3:releasing:${u.id}:${from}`)) note(`r${round} note (operation left to the administrator; maintain or its restart finishes it): ${what}`);
        excused.add(`3:releasing:${u.id}:${from}`);
      } else upstreamSide(3, 'leaks', `3:releasing:${u.id}:${from}`, what);
    } else if (row.state === 'free') {
      if (owner !== null) {
        const s = host.find((x) => x.id === owner);
        if (s && s.status !== 4) upstreamSide(1, 'doubleBindings', `3:freeserving:${u.id}:${owner}`, `license ${u.id} is free in the state but serves live service ${owner} upstream ("${u.licname}")`);
        else upstreamSide(3, 'inconsistencies', `3:freename:${u.id}`, `pooled license ${u.id} is still named "${u.licname}" upstream`);
      } else if (u.licname !== 'free.lic') upstreamSide(3, 'inconsistencies', `3:freename:${u.id}`, `pooled license ${u.id} is named "${u.licname}" upstream`);
      if (u.autoprolongOn) upstreamSide(4, 'inconsistencies', `3:autoprolong:${u.id}`, `pooled license ${u.id} has auto-renewal on upstream`);
      if (u.status === 2 && owner === null) upstreamSide(3, 'inconsistencies', `3:active:${u.id}`, `pooled license ${u.id} is active (not suspended) upstream`);
    }
  }

  // 4. A pooled license is never prolonged; a license bound to a service that is not being
  //    closed (or moved to another panel) is never deleted.
  const ledger = w.sandbox.ledger().slice(prevLedger);
  const prevById = new Map(prevState.map((l) => [l.upstreamId, l]));
  for (const e of ledger) {
    if (e.kind !== 'prolong') continue;
    const before = prevById.get(e.licenseId);
    const now = byLicense.get(e.licenseId);
    if (before?.state === 'free' && now?.state === 'free') v(4, 'inconsistencies', `4:prolong:${e.licenseId}:${e.day}`, `pooled license ${e.licenseId} was prolonged on ${e.day}`);
  }
  for (const u of upstream) {
    if (!u.deleted || u.deletedBy !== 'delete' || prevDeleted.has(u.id)) continue;
    const before = prevById.get(u.id);
    const now = byLicense.get(u.id);
    for (const item of [before?.item, now?.item]) {
      if (item === null || item === undefined) continue;
      if (host.find((x) => x.id === item)?.status === 4) continue;
      const why = touched.get(item) ?? [];
      if (!why.some((k) => k === 'close' || k === 'setparam-panel' || k === 'setparam-nopanel' || k === 'reconcile' || k === 'panel-reconcile')) {
        v(4, 'inconsistencies', `4:deleted:${u.id}:${item}`, `license ${u.id}, bound to service ${item}, was deleted upstream though the service was not being closed`);
      }
    }
  }
  return out;
}
