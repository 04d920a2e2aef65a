// SPEC 5.2 step 3 and 5.9 (v3), issue 15 point 4: an order whose reply was lost is looked for
// upstream before anything is bought again. "Not ordered" is concluded only from two whole list
// reads that agree, and IPs are compared canonically (an IPv6 address may come back written
// otherwise than it was sent).
import { expect } from 'chai';
import { LicensingClient } from '../../src/upstream/client.js';
import { pooled } from '../support/pool.js';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from '../support/world.js';

describe('the lost-order search and canonical IPs', function () {
  this.timeout(120_000);
  let w: World;
  afterEach(async () => {
    await w.close();
  });

  const ordersFor = (item: number) => w.sandbox.requests('soft.order.param').filter((r) => r.applied && r.params.licname === `Item #${item}`).length;

  it('a license deleted and another ordered between two page reads do not hide the lost order: adopted, not bought twice', async () => {
    // Pages of 3 rows; the lost order is the first row of page 2.
    w = await World.create({ day: '2026-01-10', maxPageSize: 3 });
    const before = w.sandbox.seedLicenses(3, (i) => ({ licname: `Item #${900 + i}`, ip: `192.0.2.${20 + i}` }));
    w.addService({ id: 150, ip: '203.0.113.150', expiredate: '2026-02-10' });
    w.sandbox.inject({ kind: 'dropafter', func: 'soft.order.param' });
    const lost = await w.command('open', { item: 150, ro: 150 });
    expect(lost.code, lost.stdout).to.equal(1);
    expect(ordersFor(150), 'the order was taken upstream').to.equal(1);
    const ordered = w.sandbox.licenses().find((u) => u.licname === 'Item #150')!.id;
    w.sandbox.seedLicenses(2, (i) => ({ licname: `Item #${910 + i}`, ip: `192.0.2.${30 + i}` }));
    expect(w.store((s) => s.openJournal(150))).to.include({ kind: 'order', upstreamId: null });

    // The rerun's first list read: page 1 answered, page 2 held while a license of page 1 is
    // deleted and another one is ordered (p_elems stays 6; the lost order moves to page 1).
    w.sandbox.inject({ kind: 'hold', func: 'soft', params: { p_num: '2' } });
    const rerun = w.command('open', { item: 150, ro: 150 });
    await w.sandbox.waitForHeld(1, 60_000);
    await new LicensingClient({ url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD }).delete(before[0]!);
    w.sandbox.addLicense({ licname: 'Item #999', ip: '192.0.2.99' });
    w.sandbox.release();
    const r = await rerun;
    expect(r.code, r.stdout).to.equal(0);
    expect(ordersFor(150), 'no second purchase').to.equal(1);
    expect(w.store((s) => s.licenseOfService(150))).to.include({ upstreamId: ordered, state: 'bound' });
    expect(w.host.sim.service(150)!.params.license_id).to.equal(String(ordered));
  });

  it('a lost order whose license shows the IPv6 address written otherwise (upper case, uncompressed) is adopted, not bought twice', async () => {
    w = await World.create({ day: '2026-01-10' });
    w.addService({ id: 151, ip: '2001:db8::151', expiredate: '2026-02-10' });
    // The order goes out and its reply is lost; the licensing server took it and keeps the
    // address in its own writing.
    w.sandbox.inject({ kind: 'drop', func: 'soft.order.param' });
    const lost = await w.command('open', { item: 151, ro: 151 });
    expect(lost.code, lost.stdout).to.equal(1);
    expect(w.store((s) => s.openJournal(151))).to.include({ kind: 'order', upstreamId: null, ip: '2001:db8::151' });
    const taken = w.sandbox.addLicense({ licname: 'Item #151', ip: '2001:0DB8:0000:0000:0000:0000:0000:0151', pricelist: '3541', period: 1, remoteid: '151' }).id;

    const r = await w.command('open', { item: 151, ro: 151 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.purchases(), 'nothing bought').to.equal(0);
    expect(w.sandbox.requests('soft.order.param').filter((x) => x.applied), 'no order applied').to.have.length(0);
    expect(w.store((s) => s.licenseOfService(151))).to.include({ upstreamId: taken, state: 'bound' });
    // The same address: no IP change spent on it.
    expect(w.sandbox.requests('soft.edit').filter((x) => x.params.ip !== undefined), 'no IP change').to.have.length(0);
    expect(w.host.sim.service(151)!.params.license_id).to.equal(String(taken));
  });

  it('a pooled license whose IPv6 address is the service\'s, written otherwise, is re-used without an IP change', async () => {
    w = await World.create({ day: '2026-01-10' });
    const id = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '2001:DB8:0:0:0:0:0:152' });
    w.addService({ id: 152, ip: '2001:db8::152', expiredate: '2026-02-10' });
    const r = await w.command('open', { item: 152, ro: 152 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.purchases()).to.equal(0);
    expect(w.store((s) => s.licenseOfService(152))).to.include({ upstreamId: id });
    expect(w.sandbox.requests('soft.edit').filter((x) => x.params.ip !== undefined), 'no IP change').to.have.length(0);
    // Its monthly IP change is still there for the next customer.
    expect(w.sandbox.license(id)!.ipChangeDate).to.equal('2025-06-01');
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'bound', item: 152 });
  });
});
