// SPEC 5.4 "Order (v3)" (issue 15 point 2): a service stops naming a license — its license_id,
// lickey and license_expiredate cleared — before the license becomes free anywhere. Each case makes
// the host's service.saveparam fail once, where the clearing happens, and checks that the license
// did not reach the pool: no live service names a pooled license, and the next open of another
// service does not get it. The rerun then finishes.
import { expect } from 'chai';
import { checkInvariants } from '../reliability/invariants.js';
import { MODULE, World } from '../support/world.js';

describe('params before release (SPEC 5.4 v3)', function () {
  this.timeout(120_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  /** A yearly license bound to `item`; a month later it is eligible for re-use once pooled. */
  async function boundAMonthAgo(item: number): Promise<number> {
    w.addService({ id: item, ip: `203.0.113.${item % 200}`, period: '12', expiredate: '2027-01-10' });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    const id = w.store((s) => s.licenseOfService(item))!.upstreamId;
    expect(w.host.sim.service(item)!.params.license_id).to.equal(String(id));
    w.setDay('2026-02-15');
    return id;
  }

  /** The clearing failed, so the license is where it was: bound, named for the service, not free. */
  function expectNotReleased(item: number, id: number): void {
    expect(w.store((s) => s.license(MODULE, id)), 'the license is not released').to.include({ item, state: 'bound' });
    expect(w.sandbox.license(id)!.licname, 'not renamed upstream').to.equal(`Item #${item}`);
  }

  /** Another service's open does not get the license; nobody live names a pooled license. */
  async function expectOtherOpenDoesNotGetIt(other: number, id: number): Promise<void> {
    w.addService({ id: other, ip: `203.0.113.${other % 200}`, period: '12', expiredate: '2027-02-15' });
    const r = await w.command('open', { item: other, ro: other });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.store((s) => s.licenseOfService(other))!.upstreamId, 'the other service got another license').to.not.equal(id);
    const inv = checkInvariants(w);
    expect(inv.problems, 'invariants').to.deep.equal([]);
    expect(inv.doubleBindings).to.equal(0);
  }

  it('close: a failed clearing releases nothing; the rerun clears, then pools', async () => {
    const id = await boundAMonthAgo(140);
    w.host.sim.injectFault({ func: 'service.saveparam', kind: 'exit' });
    const r = await w.command('close', { item: 140, ro: 1 });
    expect(r.code, r.stdout).to.equal(1);
    await expectOtherOpenDoesNotGetIt(141, id);
    expectNotReleased(140, id);
    const rerun = await w.command('close', { item: 140, ro: 1 });
    expect(rerun.code, rerun.stdout).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free', item: null });
    expect(w.host.sim.service(140)!.params.license_id ?? '').to.equal('');
  });

  it('setparam to another panel: a failed clearing releases nothing; the rerun swaps the license', async () => {
    const id = await boundAMonthAgo(142);
    w.host.sim.updateService(142, { panel: '4601' });
    w.host.sim.injectFault({ func: 'service.saveparam', kind: 'exit' });
    const r = await w.command('setparam', { item: 142, ro: 2 });
    expect(r.code, r.stdout).to.equal(1);
    await expectOtherOpenDoesNotGetIt(143, id);
    expectNotReleased(142, id);
    const rerun = await w.command('setparam', { item: 142, ro: 2 });
    expect(rerun.code, rerun.stdout).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free' });
    expect(w.store((s) => s.licenseOfService(142))).to.include({ pricelist: '4601' });
  });

  it('setparam to nopanel: a failed clearing releases nothing; the rerun clears, then pools', async () => {
    const id = await boundAMonthAgo(144);
    w.host.sim.updateService(144, { panel: 'nopanel' });
    w.host.sim.injectFault({ func: 'service.saveparam', kind: 'exit' });
    const r = await w.command('setparam', { item: 144, ro: 3 });
    expect(r.code, r.stdout).to.equal(1);
    await expectOtherOpenDoesNotGetIt(145, id);
    expectNotReleased(144, id);
    const rerun = await w.command('setparam', { item: 144, ro: 3 });
    expect(rerun.code, rerun.stdout).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free' });
  });

  it('open of a service whose bound license is of another panel (the re-match): a failed clearing releases nothing', async () => {
    const id = await boundAMonthAgo(146);
    w.host.sim.updateService(146, { panel: '4601' });
    w.host.sim.injectFault({ func: 'service.saveparam', kind: 'exit' });
    const r = await w.command('open', { item: 146, ro: 4 });
    expect(r.code, r.stdout).to.equal(1);
    await expectOtherOpenDoesNotGetIt(147, id);
    expectNotReleased(146, id);
    const rerun = await w.command('open', { item: 146, ro: 4 });
    expect(rerun.code, rerun.stdout).to.equal(0);
    expect(w.store((s) => s.licenseOfService(146))).to.include({ pricelist: '4601' });
  });

  it('reconcile --apply of a leak: a failed clearing releases nothing; the next apply does both', async () => {
    const id = await boundAMonthAgo(148);
    // BILLmanager closed the service without the module's close: its params still name the license.
    w.host.sim.updateService(148, { status: 4 });
    w.host.sim.injectFault({ func: 'service.saveparam', kind: 'exit' });
    const r = await w.exec(['reconcile', '--apply']);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expectNotReleased(148, id);
    const again = await w.exec(['reconcile', '--apply']);
    expect(again.code, again.stdout + again.stderr).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free', item: null });
    expect(w.host.sim.service(148)!.params.license_id ?? '').to.equal('');
  });
});
