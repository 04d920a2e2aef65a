// The seeded interleaving stress test (issue 7 point 5) with a bounded budget for `npm test`;
// `npm run test:stress -- --seed S --ops N` runs it longer (scripts/stress.ts). The seed is fixed
// unless PMISPLICENSE_STRESS_SEED says otherwise, so a failure here replays with the same choices.
import { expect } from 'chai';
import { World } from '../support/world.js';
import { checkInvariants } from './invariants.js';
import { recordCase } from './record.js';
import { checkViews, runStress, type OpKind, type ServiceModel } from './stress-kit.js';

const SEED = Number(process.env.PMISPLICENSE_STRESS_SEED ?? 20260110);
const OPS = Number(process.env.PMISPLICENSE_STRESS_OPS ?? 150);
const BUDGET_MS = 150_000;
/** Module processes the run makes whatever the budget: the budget only cuts a run short of OPS. */
const MIN_OPS = 41;
// SPEC 5.9's migration and module moves in the mix (issue 14); PMISPLICENSE_STRESS_MIGRATION=0 leaves them out.
const WITH_MIGRATION = process.env.PMISPLICENSE_STRESS_MIGRATION !== '0';

describe('reliability: randomized interleavings (stress)', function () {
  // A generous bound on a hang, not a timing goal: under load each process can take tens of seconds.
  this.timeout(BUDGET_MS + 1_800_000);

  it(`seed ${SEED}, up to ${OPS} module processes, 2–4 at a time: SPEC 5.8's invariants hold after every round in all three views`, async () => {
    const r = await runStress({ seed: SEED, ops: OPS, budgetMs: BUDGET_MS, minOps: Math.min(MIN_OPS, OPS), withMigration: WITH_MIGRATION });
    const count = (k: string): number => r.violations.filter((v) => v.kind === k).length;
    recordCase({
      suite: 'stress',
      name: `seed ${r.seed}, ${r.operations} processes`,
      ok: r.violations.length === 0,
      doublePurchases: count('doublePurchases'),
      doubleBindings: count('doubleBindings'),
      leaks: count('leaks'),
      lostRecords: count('lostRecords'),
      inconsistencies: count('inconsistencies'),
      counts: { seed: r.seed, operations: r.operations, rounds: r.rounds, concurrentPairs: r.concurrentPairs, checks: r.checks, kills: r.kills, faults: r.faults, hostFaults: r.hostFaults, hostFaultsHit: r.hostFaultsHit, clockMoves: r.clockMoves, violations: r.violations.length },
      outcome: r.violations.length === 0 ? `0 violations in ${r.checks} checks` : `${r.violations.length} violation(s); first: ${r.violations[0]!.message}`,
    });
    const report = `seed ${r.seed}: ${r.violations.length} violation(s) — replay with: npm run test:stress -- --seed ${r.seed} --ops ${r.operations}\n` +
      r.violations.map((v) => `  round ${v.round}, invariant ${v.invariant} (${v.kind}): ${v.message}`).join('\n') +
      `\noperation log:\n${r.opLog.join('\n')}`;
    expect(r.violations, report).to.deep.equal([]);
    // What the run could really miss (the process count is the loop's own condition): processes
    // that ran side by side, and faults that hit them — without both it proves nothing.
    expect(r.concurrentPairs, 'processes ran side by side').to.be.above(0);
    expect(r.faults, 'faults in the mix').to.be.above(0);
  });
});

// The checkers themselves (issue 15 point 5): states the module must never leave behind, built
// directly, and what each checker says of them — mid-run, after a faulty round, and at the final
// check after the settling phase, which excuses nothing.
describe('reliability: the checkers see what the stress run must catch', function () {
  this.timeout(600_000);
  let w: World;
  afterEach(async () => {
    await w?.close();
  });

  const models = (...ids: number[]): Map<number, ServiceModel> => new Map(ids.map((id) => [id, { id, life: 'active', pending: null, ordersAtEpoch: 0 }]));
  const views = (o: { skip?: number[]; chaos?: boolean; excused: Set<string> | null; succeeded?: number[]; touched?: Array<[number, OpKind[]]>; services?: Map<number, ServiceModel> }) => {
    const notes: string[] = [];
    const found = checkViews(
      w,
      o.services ?? models(1001, 1002),
      new Set(o.skip ?? []),
      new Map(o.touched ?? []),
      new Set(o.succeeded ?? []),
      w.store((s) => s.licenses()),
      w.sandbox.ledger().length,
      new Set(),
      () => 1,
      () => 0,
      7,
      o.chaos ?? false,
      o.excused,
      (l) => notes.push(l),
    );
    return { found: found.map((v) => `${v.kind}:${v.key}`), notes };
  };

  async function openOne(id: number): Promise<number> {
    w.addService({ id, ip: `203.0.113.${id % 250}`, panel: '3541', period: '1', expiredate: '2026-02-10' });
    const r = await w.command('open', { item: id, ro: id });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(id))!.upstreamId;
  }

  it('a paid license left releasing: a leak unless its rerun is to come; excused after a fault only until the final check', async () => {
    w = await World.create({ day: '2026-01-10' });
    const L = await openOne(1001);
    // What a close cut short between unbinding and releasing leaves (SPEC 5.8 point 4).
    expect(w.store((s) => s.unbind(s.licenseOfService(1001)!))).to.include({ state: 'releasing', releasedFrom: 1001 });
    w.host.sim.updateService(1001, { status: 4 });

    const inv = checkInvariants(w);
    expect(inv.leaks, inv.problems.join('; ')).to.equal(1);
    expect(inv.problems.join('; ')).to.match(new RegExp(`paid license ${L} was taken off service 1001 and left releasing`));
    expect(checkInvariants(w, { rerunPending: [1001] }).leaks, 'rerun still to come').to.equal(0);

    const key = `leaks:3:releasing:${L}:1001`;
    expect(views({ skip: [1001], excused: new Set() }).found, 'rerun still to come').to.deep.equal([]);
    expect(views({ excused: new Set() }).found, 'after a fault-free round').to.deep.equal([key]);
    expect(views({ succeeded: [1001], touched: [[1001, ['close']]], chaos: true, excused: new Set() }).found, 'a close that exited 0 left it, faults or not').to.deep.equal([key]);
    const excused = new Set<string>();
    const faulty = views({ chaos: true, excused });
    expect(faulty.found, 'after a faulty round: noted').to.deep.equal([]);
    expect(faulty.notes.join('\n')).to.match(/left releasing/);
    expect(views({ excused }).found, 'mid-run, a fault once explained it').to.deep.equal([]);
    expect(views({ excused: null }).found, 'the final check excuses nothing').to.deep.equal([key]);
  });

  it('a live service naming a pooled license is a double binding also while its failed operation waits for a retry', async () => {
    w = await World.create({ day: '2026-01-10' });
    const L = await openOne(1001);
    // What a close that released first and then failed to clear the params leaves (SPEC 5.4 v3).
    w.store((s) => {
      const taken = s.unbind(s.licenseOfService(1001)!)!;
      return s.settle(taken, 'free', null);
    });
    const key = `doubleBindings:1:stale:${L}:1001`;
    expect(views({ skip: [1001], excused: new Set() }).found).to.deep.equal([key]);
    // Without a retry to come, the upstream side shows it too (named for the live service, pooled).
    expect(views({ excused: null }).found).to.deep.equal([key, `doubleBindings:3:freeserving:${L}:1001`]);
  });
});
