// Crash at every step (issue 4): each item command, and maintain, is SIGKILLed at every upstream
// request it makes, once before the licensing server applied it and once after (the reply never
// reached the module); then the SAME command runs again, as BILLmanager's retry does, and must
// finish: exit 0, nothing bought twice, no license serving two services, the pool as it should
// be, the host's post* call once, and the service's params equal to the upstream license.
// The step list of each command comes from a clean run's requests, not from a hand-picked list.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { LicensingClient } from '../../src/upstream/client.js';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World, type RunResult } from '../support/world.js';
import {
  closeWorld,
  crashAt,
  currentSyscall,
  expectParamsMatch,
  kill,
  lastSeq,
  ordersOf,
  pooledLicense,
  postCalls,
  prng,
  prolongsOf,
  requestsSince,
  run,
  spawnedProcesses,
  startModule,
  stepsOf,
  useBuildSnapshot,
  VARIANTS,
  waitFor,
  type Step,
} from './crash-kit.js';
import { checkInvariants, type InvariantOptions } from './invariants.js';
import { moneyCounts, recordCase } from './record.js';

const DAY = '2026-01-10';

/** One case's subject: the service (and what the family set up around it). */
interface Subject {
  item: number;
  ip: string;
  /** The license the family set up (bound, pooled or seeded), when there is one. */
  license?: number;
  /** A second license (maintain: the free one). */
  other?: number;
  oldKey?: string;
}

interface Family {
  /** '<command> (<path>)', the first part of each case name. */
  name: string;
  /** Steps (by name) the clean run must contain: the path under test was taken. */
  mustInclude: string[];
  /** One World for every case (state allows), or a fresh World per case. */
  shared: boolean;
  prepare(w: World, n: number): Promise<Subject>;
  args(s: Subject): string[];
  verify(w: World, s: Subject): void;
  invariants?(s: Subject): InvariantOptions;
  outcome(w: World, s: Subject): string;
}

function item(command: string, s: Subject): string[] {
  return ['--command', command, '--item', String(s.item), '--runningoperation', String(s.item)];
}

function expectRun(r: RunResult, what: string): void {
  expect(r.code, `${what}: ${r.stdout}`).to.equal(0);
}

function expectClean(w: World, o?: InvariantOptions) {
  const inv = checkInvariants(w, o);
  expect(inv.problems, 'invariants').to.deep.equal([]);
  expect([inv.doublePurchases, inv.doubleBindings, inv.leaks, inv.lostRecords, inv.inconsistencies]).to.deep.equal([0, 0, 0, 0, 0]);
  return inv;
}

async function openService(w: World, s: Subject, expiredate = '2026-02-10'): Promise<number> {
  w.addService({ id: s.item, ip: s.ip, expiredate });
  expectRun(await run(w, item('open', s)), `open ${s.item}`);
  return w.store((st) => st.licenseOfService(s.item))!.upstreamId;
}

/** The pooled license a re-use case starts from: paid for months, changed long ago. */
function seedPooled(w: World, n: number): Promise<number> {
  return pooledLicense(w, { pricelist: '3541', period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: `198.51.100.${10 + (n % 200)}` });
}

// ---- the families -------------------------------------------------------------------------------

const openNew: Family = {
  name: 'open (new order)',
  mustInclude: ['soft.order.param order'],
  shared: true,
  async prepare(w, n) {
    const s = { item: 1000 + n, ip: `203.0.113.${10 + n}` };
    w.addService({ id: s.item, ip: s.ip, expiredate: '2026-02-10', params: { addon_4602: '2' } });
    return s;
  },
  args: (s) => item('open', s),
  verify(w, s) {
    expect(ordersOf(w, s.item), 'orders for the service').to.equal(1);
    const lic = w.store((st) => st.licenseOfService(s.item));
    expect(lic, 'a license bound locally').to.not.equal(null);
    const u = w.sandbox.license(lic!.upstreamId)!;
    expect(u).to.include({ licname: `Item #${s.item}`, ip: s.ip, pricelist: '3541', status: 2, deleted: false, remoteid: String(s.item) });
    expect(lic).to.include({ state: 'bound', ip: s.ip });
    expect(w.store((st) => st.openJournal(s.item)), 'no open journal entry').to.equal(null);
    expectParamsMatch(w, s.item, u.id);
    expect(postCalls(w, 'open', s.item), 'service.postopen').to.equal(1);
  },
  outcome: (w, s) => `rerun exit 0, 1 order for Item #${s.item}, bound to license ${w.store((st) => st.licenseOfService(s.item))!.upstreamId}, postopen once`,
};

const openReuse: Family = {
  name: 'open (pool re-use)',
  mustInclude: ['soft.edit newkey', 'soft.resume'],
  shared: false,
  async prepare(w, n) {
    const license = await seedPooled(w, n);
    const s = { item: 1100 + n, ip: `203.0.113.${60 + n}`, license, oldKey: w.sandbox.license(license)!.lickey };
    w.addService({ id: s.item, ip: s.ip, expiredate: '2026-02-10' });
    return s;
  },
  args: (s) => item('open', s),
  verify(w, s) {
    expect(w.purchases(), 'nothing bought').to.equal(0);
    const lic = w.store((st) => st.licenseOfService(s.item));
    expect(lic?.upstreamId, 'the pooled license is bound').to.equal(s.license);
    expect(lic).to.include({ state: 'bound', ip: s.ip });
    const u = w.sandbox.license(s.license!)!;
    expect(u).to.include({ licname: `Item #${s.item}`, ip: s.ip, remoteid: String(s.item), status: 2, manualSuspended: false, deleted: false });
    expect(u.lickey !== s.oldKey, 'a new key').to.equal(true);
    expect(u.keyChangeDate, 'the key changed once, today').to.equal(w.day);
    expect(w.sandbox.requests('soft.edit').filter((r) => r.applied && r.params.clicked_button === 'newkey'), 'one key change').to.have.length(1);
    expect(w.store((st) => st.openJournal(s.item)), 'no open journal entry').to.equal(null);
    expectParamsMatch(w, s.item, u.id);
    expect(postCalls(w, 'open', s.item), 'service.postopen').to.equal(1);
  },
  outcome: (_w, s) => `rerun exit 0, pooled license ${s.license} re-used (new key once, resumed), nothing bought, postopen once`,
};

const prolong: Family = {
  name: 'prolong (within the lead)',
  mustInclude: ['service.prolong'],
  shared: false,
  async prepare(w, n) {
    const s: Subject = { item: 1200 + n, ip: `203.0.113.${110 + n}` };
    s.license = await openService(w, s); // expires 2026-02-10
    w.setDay('2026-02-07');
    w.host.sim.updateService(s.item, { expiredate: '2026-03-10' });
    return s;
  },
  args: (s) => item('prolong', s),
  verify(w, s) {
    const u = w.sandbox.license(s.license!)!;
    expect(prolongsOf(w, s.license!), 'prolonged once').to.equal(1);
    expect(u.expiredate).to.equal('2026-03-10');
    expect(w.purchases()).to.equal(1);
    expect(w.store((st) => st.licenseOfService(s.item))).to.include({ upstreamId: s.license, state: 'bound', expiredate: '2026-03-10' });
    expectParamsMatch(w, s.item, s.license!);
    expect(postCalls(w, 'prolong', s.item), 'service.postprolong').to.equal(1);
  },
  outcome: (_w, s) => `rerun exit 0, license ${s.license} prolonged once to 2026-03-10, postprolong once`,
};

const closePool: Family = {
  name: 'close (into the pool)',
  mustInclude: ['soft.suspend', 'soft.edit change'],
  shared: false,
  async prepare(w, n) {
    const s: Subject = { item: 1300 + n, ip: `203.0.113.${130 + n}` };
    s.license = await openService(w, s);
    return s;
  },
  args: (s) => item('close', s),
  verify(w, s) {
    expect(w.store((st) => st.licenseOfService(s.item)), 'nothing bound to the service').to.equal(null);
    expect(w.store((st) => st.license(MODULE, s.license!))).to.include({ state: 'free', item: null, ip: s.ip });
    expect(w.sandbox.license(s.license!)).to.include({ licname: 'free.lic', status: 3, manualSuspended: true, autoprolongOn: false, deleted: false, ip: s.ip });
    expect(w.purchases()).to.equal(1);
    expect(postCalls(w, 'close', s.item), 'service.postclose').to.equal(1);
  },
  outcome: (_w, s) => `rerun exit 0, license ${s.license} free locally, free.lic suspended upstream, postclose once`,
};

const closeDelete: Family = {
  name: 'close (deletion)',
  mustInclude: ['soft.delete'],
  shared: false,
  async prepare(w, n) {
    const s: Subject = { item: 1400 + n, ip: `203.0.113.${150 + n}` };
    s.license = await openService(w, s); // expires 2026-02-10
    w.setDay('2026-02-15');
    return s;
  },
  args: (s) => item('close', s),
  verify(w, s) {
    expect(w.store((st) => st.licenseOfService(s.item)), 'nothing bound to the service').to.equal(null);
    expect(w.store((st) => st.license(MODULE, s.license!))).to.include({ state: 'gone', item: null });
    expect(w.sandbox.license(s.license!)).to.include({ deleted: true, deletedBy: 'delete' });
    expect(w.purchases()).to.equal(1);
    expect(postCalls(w, 'close', s.item), 'service.postclose').to.equal(1);
  },
  outcome: (_w, s) => `rerun exit 0, license ${s.license} deleted upstream and gone locally, postclose once`,
};

const setparamIp: Family = {
  name: 'setparam (IP change)',
  mustInclude: ['soft.edit change'],
  shared: false,
  async prepare(w, n) {
    const s: Subject = { item: 1500 + n, ip: `203.0.113.${170 + n}` };
    s.license = await openService(w, s);
    w.setDay('2026-02-10'); // a month after the license's creation: one IP change allowed
    s.ip = `198.51.100.${170 + n}`;
    w.host.sim.updateService(s.item, { ip: s.ip });
    return s;
  },
  args: (s) => item('setparam', s),
  verify(w, s) {
    const u = w.sandbox.license(s.license!)!;
    expect(u).to.include({ ip: s.ip, ipChangeDate: '2026-02-10', licname: `Item #${s.item}`, status: 2 });
    expect(w.sandbox.requests('soft.edit').filter((r) => r.applied && r.params.ip === s.ip), 'one IP change').to.have.length(1);
    expect(w.store((st) => st.licenseOfService(s.item))).to.include({ upstreamId: s.license, state: 'bound', ip: s.ip });
    expect(w.purchases()).to.equal(1);
    expectParamsMatch(w, s.item, s.license!);
    expect(postCalls(w, 'setparam', s.item), 'service.postsetparam').to.equal(1);
  },
  outcome: (_w, s) => `rerun exit 0, license ${s.license} moved to ${s.ip} once, postsetparam once`,
};

const setparamPanel: Family = {
  name: 'setparam (panel change)',
  mustInclude: ['soft.suspend', 'soft.order.param order'],
  shared: false,
  async prepare(w, n) {
    // The 3541 license comes from the pool, so that the 4601 order is the service's one purchase.
    const s: Subject = { item: 1600 + n, ip: `203.0.113.${190 + (n % 50)}` };
    s.license = await seedPooled(w, n);
    expect(await openService(w, s)).to.equal(s.license);
    w.host.sim.updateService(s.item, { panel: '4601' });
    return s;
  },
  args: (s) => item('setparam', s),
  verify(w, s) {
    expect(w.store((st) => st.license(MODULE, s.license!)), 'the old license is pooled').to.include({ state: 'free', item: null });
    expect(w.sandbox.license(s.license!)).to.include({ licname: 'free.lic', status: 3, autoprolongOn: false, deleted: false });
    expect(ordersOf(w, s.item), 'one order').to.equal(1);
    const lic = w.store((st) => st.licenseOfService(s.item))!;
    expect(lic).to.include({ pricelist: '4601', state: 'bound' });
    expect(w.sandbox.license(lic.upstreamId)).to.include({ pricelist: '4601', licname: `Item #${s.item}`, ip: s.ip, status: 2 });
    expectParamsMatch(w, s.item, lic.upstreamId);
    expect(postCalls(w, 'setparam', s.item), 'service.postsetparam').to.equal(1);
  },
  outcome: (w, s) => `rerun exit 0, license ${s.license} pooled (free.lic, suspended), one 4601 license ${w.store((st) => st.licenseOfService(s.item))!.upstreamId} bound, postsetparam once`,
};

const maintainFamily: Family = {
  name: 'maintain (renewal + auto-renewal off)',
  mustInclude: ['soft list', 'service.prolong', 'soft.edit change'],
  shared: false,
  async prepare(w, n) {
    const s: Subject = { item: 1700 + n, ip: `203.0.113.${30 + n}` };
    s.license = await openService(w, s); // expires 2026-02-10
    s.other = await seedPooled(w, n);
    // Someone turned auto-renewal on for the pooled license behind the module's back.
    await new LicensingClient({ url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD }).edit(s.other, { autoprolong: true });
    expect(w.sandbox.license(s.other)!.autoprolongOn).to.equal(true);
    w.setDay('2026-02-07');
    w.host.sim.updateService(s.item, { expiredate: '2026-03-10' });
    return s;
  },
  args: () => ['maintain'],
  verify(w, s) {
    expect(prolongsOf(w, s.license!), 'the bound license prolonged once').to.equal(1);
    expect(w.sandbox.license(s.license!)!.expiredate).to.equal('2026-03-10');
    expect(w.store((st) => st.licenseOfService(s.item))).to.include({ upstreamId: s.license, state: 'bound', expiredate: '2026-03-10' });
    expectParamsMatch(w, s.item, s.license!);
    expect(w.sandbox.license(s.other!)).to.include({ autoprolongOn: false, licname: 'free.lic', status: 3 });
    expect(w.store((st) => st.license(MODULE, s.other!))).to.include({ state: 'free', item: null });
    expect(prolongsOf(w, s.other!), 'the pooled license is never prolonged').to.equal(0);
    expect(w.purchases()).to.equal(1);
    expect(w.store((st) => st.openJournal(s.item))).to.equal(null);
  },
  outcome: (_w, s) => `rerun exit 0, license ${s.license} prolonged once, pooled ${s.other} auto-renewal off, nothing bought`,
};

// ---- the runner ---------------------------------------------------------------------------------

let processes = 0;

async function discover(f: Family, w: World): Promise<Step[]> {
  const s = await f.prepare(w, 0);
  const since = lastSeq(w);
  const r = await run(w, f.args(s));
  processes++;
  expectRun(r, `${f.name}: clean run`);
  f.verify(w, s);
  expectClean(w, f.invariants?.(s));
  const steps = stepsOf(requestsSince(w, since));
  const names = steps.map((x) => x.name.replace(/ #\d+$/, ''));
  for (const m of f.mustInclude) expect(names, `${f.name}: the clean run's steps`).to.include(m);
  // eslint-disable-next-line no-console
  console.log(`      ${f.name}: ${steps.length} steps: ${steps.map((x) => x.name).join(', ')}`);
  return steps;
}

async function runFamily(f: Family): Promise<void> {
  const shared = f.shared ? await World.create({ day: DAY }) : null;
  const failures: string[] = [];
  let cases = 0;
  try {
    const w0 = shared ?? (await World.create({ day: DAY }));
    let steps: Step[];
    try {
      steps = await discover(f, w0);
    } finally {
      if (!shared) await closeWorld(w0);
    }
    let n = 1;
    for (let i = 0; i < steps.length; i++) {
      for (const variant of VARIANTS) {
        const name = `${f.name} / ${steps[i]!.name} / ${variant}`;
        const w = shared ?? (await World.create({ day: DAY }));
        const spawnedBefore = spawnedProcesses();
        try {
          const s = await f.prepare(w, n++);
          const crash = await crashAt(w, f.args(s), steps, i, variant);
          processes++;
          const r = await run(w, f.args(s));
          processes++;
          expectRun(r, `${name}: rerun`);
          f.verify(w, s);
          const inv = expectClean(w, f.invariants?.(s));
          cases++;
          recordCase({
            suite: 'crash',
            name,
            ok: true,
            ...moneyCounts(inv),
            counts: { processes: spawnedProcesses() - spawnedBefore, requestsBeforeKill: crash.requests },
            outcome: `killed ${variant === 'before' ? 'before' : 'after'} ${steps[i]!.name} was applied; ${f.outcome(w, s)}`,
          });
        } catch (e) {
          failures.push(`${name}: ${(e as Error).message}`);
        } finally {
          if (!shared) await closeWorld(w);
        }
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
    expect(cases).to.equal(steps.length * 2);
  } finally {
    if (shared) await closeWorld(shared);
  }
}

describe('crash at every step (SIGKILL, then the same command again)', function () {
  this.timeout(600_000);
  let undoSnapshot: () => void = () => {};
  before(async () => {
    undoSnapshot = await useBuildSnapshot();
  });

  for (const f of [openNew, openReuse, prolong, closePool, closeDelete, setparamIp, setparamPanel, maintainFamily]) {
    it(`${f.name}: every upstream step, before and after it was applied`, async () => {
      await runFamily(f);
    });
  }

  describe('kill while the module waits for the SQLite write lock', () => {
    let w: World;
    beforeEach(async () => {
      w = await World.create({ day: DAY });
    });
    afterEach(async () => {
      await closeWorld(w);
    });

    /** Holds the state file's write lock from this process, as another writer would. */
    function lockState(): Database.Database {
      const db = new Database(w.db, { timeout: 1000 });
      db.exec('BEGIN IMMEDIATE');
      return db;
    }

    async function killWhileBlocked(args: string[], func: string, nth: number): Promise<void> {
      const since = lastSeq(w);
      if (nth > 1) w.sandbox.inject({ kind: 'latency', func, delayMs: 0, count: nth - 1 });
      w.sandbox.inject({ kind: 'hold', func });
      const p = startModule(w, args);
      let db: Database.Database | null = null;
      try {
        await waitFor(() => w.sandbox.heldCount() === 1, `${func} held`, 60_000, p);
        // The module holds no transaction while it waits on the network: the lock is ours.
        db = lockState();
        w.sandbox.release();
        const target = () => requestsSince(w, since, func)[nth - 1];
        await waitFor(() => target()?.outcome === 'ok' && target()!.applied, `${func} applied and answered`, 30_000, p);
        // The reply reached the module; its next step is a write, which waits for our lock
        // (SQLite's busy handler sleeps: nanosleep / clock_nanosleep on x86_64 Linux).
        await waitFor(() => [35, 230].includes(currentSyscall(p.child.pid!) ?? -1), 'the module sleeping on the SQLite lock', 30_000, p);
        p.child.kill('SIGKILL');
        expect((await p.exited).signal).to.equal('SIGKILL');
        processes++;
      } finally {
        await kill(p);
        w.sandbox.clearFaults();
        db?.exec('ROLLBACK');
        db?.close();
      }
    }

    it('open: killed after the order was taken, before it was recorded; the rerun adopts it', async () => {
      expect(w.store((st) => st.licenses())).to.deep.equal([]); // creates the state file
      const s: Subject = { item: 1800, ip: '203.0.113.180' };
      w.addService({ id: s.item, ip: s.ip, expiredate: '2026-02-10' });
      await killWhileBlocked(item('open', s), 'soft.order.param', 1);
      // The kill landed inside the gap: the order is paid upstream, the journal knows it was sent.
      expect(ordersOf(w, s.item)).to.equal(1);
      expect(w.store((st) => st.licenseOfService(s.item))).to.equal(null);
      expect(w.store((st) => st.openJournal(s.item))).to.include({ kind: 'order', upstreamId: null });
      const r = await run(w, item('open', s));
      processes++;
      expectRun(r, 'rerun');
      expect(ordersOf(w, s.item), 'no second purchase').to.equal(1);
      const lic = w.store((st) => st.licenseOfService(s.item))!;
      expect(w.sandbox.license(lic.upstreamId)!.licname).to.equal(`Item #${s.item}`);
      expect(w.logText()).to.match(new RegExp(`adopted license ${lic.upstreamId}`));
      expectParamsMatch(w, s.item, lic.upstreamId);
      expect(postCalls(w, 'open', s.item)).to.equal(1);
      const inv = expectClean(w);
      recordCase({
        suite: 'crash',
        name: 'open (new order) / SQLite write lock after soft.order.param / after',
        ok: true,
        ...moneyCounts(inv),
        counts: { processes: 2 },
        outcome: `killed waiting for the state lock with the order paid and unrecorded; rerun adopted license ${lic.upstreamId}, 1 order`,
      });
    });

    it('open (pool re-use): killed after the last step, before the binding was recorded; the rerun finishes it', async () => {
      const license = await seedPooled(w, 1);
      const oldKey = w.sandbox.license(license)!.lickey;
      const s: Subject = { item: 1801, ip: '203.0.113.181', license };
      w.addService({ id: s.item, ip: s.ip, expiredate: '2026-02-10' });
      await killWhileBlocked(item('open', s), 'soft.resume', 1);
      expect(w.store((st) => st.openJournal(s.item))).to.include({ kind: 'reuse', upstreamId: license });
      const r = await run(w, item('open', s));
      processes++;
      expectRun(r, 'rerun');
      expect(w.purchases(), 'nothing bought').to.equal(0);
      expect(w.store((st) => st.licenseOfService(s.item))).to.include({ upstreamId: license, state: 'bound' });
      const u = w.sandbox.license(license)!;
      expect(u).to.include({ licname: `Item #${s.item}`, ip: s.ip, status: 2 });
      expect(u.lickey !== oldKey).to.equal(true);
      expect(w.sandbox.requests('soft.edit').filter((x) => x.applied && x.params.clicked_button === 'newkey')).to.have.length(1);
      expect(w.store((st) => st.openJournal(s.item))).to.equal(null);
      expectParamsMatch(w, s.item, license);
      expect(postCalls(w, 'open', s.item)).to.equal(1);
      const inv = expectClean(w);
      recordCase({
        suite: 'crash',
        name: 'open (pool re-use) / SQLite write lock after soft.resume / after',
        ok: true,
        ...moneyCounts(inv),
        counts: { processes: 2 },
        outcome: `killed waiting for the state lock after the re-use steps; rerun finished re-using ${license}, key changed once, nothing bought`,
      });
    });
  });

  it('random kills: open/close cycles killed after a random delay, each rerun', async () => {
    const seed = Number(process.env.PMISPLICENSE_CRASH_SEED ?? 20260110);
    const rnd = prng(seed);
    const w = await World.create({ day: DAY });
    const counts = { runs: 0, killed: 0, finishedBeforeKill: 0, reused: 0, ordered: 0 };
    const took = { open: 1500, close: 1000 };
    try {
      // Some opens re-use a pooled license, the others order.
      const pool = [await seedPooled(w, 1), await seedPooled(w, 2), await seedPooled(w, 3)];
      for (let c = 0; c < 10; c++) {
        const s: Subject = { item: 1900 + c, ip: `203.0.113.${200 + c}` };
        w.addService({ id: s.item, ip: s.ip, expiredate: '2026-02-10' });
        for (const command of ['open', 'close'] as const) {
          // Anywhere within the command's usual run time (the last clean rerun's), on this machine now.
          const delay = Math.floor(rnd() * took[command]);
          const what = `cycle ${c} (seed ${seed}) ${command} killed after ${delay} ms`;
          const p = startModule(w, item(command, s));
          await new Promise((r) => setTimeout(r, delay));
          const killed = !p.hasExited();
          await kill(p);
          processes++;
          counts.runs++;
          if (killed) counts.killed++;
          else counts.finishedBeforeKill++;
          const started = Date.now();
          const r = await run(w, item(command, s));
          processes++;
          expectRun(r, `${what}: rerun`);
          took[command] = Date.now() - started;
          if (command === 'open') {
            const lic = w.store((st) => st.licenseOfService(s.item));
            expect(lic, `${what}: bound`).to.not.equal(null);
            s.license = lic!.upstreamId;
            expect(w.sandbox.license(s.license)!, what).to.include({ licname: `Item #${s.item}`, ip: s.ip, status: 2 });
            expect(ordersOf(w, s.item), `${what}: orders`).to.be.at.most(1);
            if (pool.includes(s.license)) counts.reused++;
            else counts.ordered++;
            expectParamsMatch(w, s.item, s.license);
            expect(postCalls(w, 'open', s.item), `${what}: postopen`).to.be.at.least(1);
          } else {
            expect(w.store((st) => st.licenseOfService(s.item)), `${what}: nothing bound`).to.equal(null);
            expect(w.store((st) => st.license(MODULE, s.license!)), what).to.include({ state: 'free', item: null });
            expect(w.sandbox.license(s.license!), what).to.include({ licname: 'free.lic', status: 3, autoprolongOn: false });
            expect(postCalls(w, 'close', s.item), `${what}: postclose`).to.be.at.least(1);
          }
          expect(w.store((st) => st.openJournal(s.item)), `${what}: journal closed`).to.equal(null);
          const inv = checkInvariants(w);
          expect(inv.problems, what).to.deep.equal([]);
        }
      }
      // Every pooled license was used before anything was bought for a service that could use it.
      expect(counts.reused, 'pooled licenses re-used').to.equal(pool.length);
      // eslint-disable-next-line no-console
      console.log(`      random kills (seed ${seed}): ${JSON.stringify(counts)}`);
      expect(counts.killed, 'most runs were killed mid-way').to.be.at.least(counts.runs / 2);
      const inv = expectClean(w);
      recordCase({
        suite: 'crash',
        name: 'random kills / open+close cycles / random',
        ok: true,
        ...moneyCounts(inv),
        // Timing decides how many runs a kill caught mid-way: only fixed figures go into the document.
        counts: { runs: counts.runs, processes: counts.runs * 2, seed },
        outcome: `each run killed after a random delay (seeded) or done first, then rerun: exit 0, invariants held after every run, every pooled license re-used`,
      });
    } finally {
      await closeWorld(w);
    }
  });

  after(() => {
    undoSnapshot();
    // eslint-disable-next-line no-console
    console.log(`      crash suite: ${spawnedProcesses()} module processes (${processes} killed runs, reruns and clean runs)`);
  });
});
