// Unknown is never destructive (SPEC 5.4, 5.7): a license whose period and expiry the licensing
// server does not show (still being processed) is released into the pool, never deleted, never
// re-used while its paid time is unknown, never dropped from the pool for it — until a later read
// by maintain learns its expiry.
import { expect } from 'chai';
import { MODULE, World } from '../support/world.js';

describe('unknown paid time is never destructive', function () {
  this.timeout(90_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  async function open(item: number, expiredate = '2026-02-10'): Promise<number> {
    w.addService({ id: item, ip: `203.0.113.${item % 200}`, expiredate });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(item))!.upstreamId;
  }

  it('close of a license that shows no expiry keeps it (pool, not deleted), even when it is in fact expired; open does not take it; maintain learns its expiry and only then lets it go', async () => {
    const id = await open(401);
    w.setDay('2026-02-15'); // in fact expired on 2026-02-10: with the dates known, close would delete it
    w.sandbox.withholdDates(id, true);
    const c = await w.command('close', { item: 401, ro: 1 });
    expect(c.code, c.stdout).to.equal(0);
    expect(w.sandbox.license(id)!.deleted).to.equal(false);
    expect(w.sandbox.requests('soft.delete')).to.have.length(0);
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free', item: null, expiredate: null, period: null });
    expect(w.logText()).to.match(new RegExp(`license ${id} released into the pool with its paid time unknown`));

    // While its paid time is unknown it is not offered for re-use: the next service buys.
    w.addService({ id: 402, ip: '203.0.113.42', expiredate: '2026-03-15' });
    expect((await w.command('open', { item: 402, ro: 2 })).code).to.equal(0);
    expect(w.store((s) => s.licenseOfService(402))!.upstreamId).to.not.equal(id);

    // maintain while still unknown: kept in the pool.
    expect((await w.exec(['maintain'])).code).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))!.state).to.equal('free');

    // The upstream shows the dates again: expired, so it leaves the pool — left alone upstream.
    w.sandbox.withholdDates(id, false);
    const m = await w.exec(['maintain']);
    expect(m.code, m.stderr).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))!.state).to.equal('gone');
    expect(w.sandbox.requests('soft.delete')).to.have.length(0);
  });

  it('a pooled license with no expiry known is not deleted by close nor dropped by maintain, and leaves it only once its expiry is known to have passed', async () => {
    const id = await open(411, '2026-06-10');
    w.sandbox.withholdDates(id, true);
    expect((await w.command('close', { item: 411, ro: 11 })).code).to.equal(0);
    w.setDay('2026-02-20');
    expect((await w.exec(['maintain'])).code).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))!.state).to.equal('free');
    // Shown again: its real expiry (2026-02-10, a month from the order) has passed: known → gone.
    w.sandbox.withholdDates(id, false);
    expect((await w.exec(['maintain'])).code).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))!.state).to.equal('gone');
  });

  it('once maintain learns that a pooled license of unknown expiry is paid, the next service re-uses it', async () => {
    w.addService({ id: 421, ip: '203.0.113.121', period: '12', expiredate: '2027-01-10' });
    expect((await w.command('open', { item: 421, ro: 21 })).code).to.equal(0);
    const id = w.store((s) => s.licenseOfService(421))!.upstreamId; // a yearly license, paid to 2027-01-10
    w.sandbox.withholdDates(id, true);
    expect((await w.command('close', { item: 421, ro: 22 })).code).to.equal(0);
    w.host.sim.updateService(421, { status: 4 });
    w.setDay('2026-02-12'); // a month after the order: its IP and key may change again
    w.addService({ id: 422, ip: '203.0.113.122', period: '12', expiredate: '2027-02-12' });
    expect((await w.command('open', { item: 422, ro: 23 })).code).to.equal(0);
    expect(w.purchases()).to.equal(2); // unknown paid time: not offered, a new license was bought
    w.sandbox.withholdDates(id, false);
    expect((await w.exec(['maintain'])).code).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free', period: 12, expiredate: '2027-01-10' });
    w.addService({ id: 423, ip: '203.0.113.123', period: '12', expiredate: '2027-02-12' });
    expect((await w.command('open', { item: 423, ro: 24 })).code).to.equal(0);
    expect(w.purchases()).to.equal(2);
    expect(w.store((s) => s.licenseOfService(423))!.upstreamId).to.equal(id);
  });
});
