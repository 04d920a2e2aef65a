// The customer's panel choice read the way BILLmanager stores it (SPEC 4, issue 8), end to end:
// the built executable run as BILLmanager runs it, the simulated host's mgrctl answering paramlist
// with a real MariaDB on a private socket, and the sandbox licensing server.
import { expect } from 'chai';
import { Catalog, SEED_PANEL_ITEMS, startMariaDb, type MariaDb } from '../support/mariadb.js';
import type { NewSimService } from '../../src/sandbox/host.js';
import { World } from '../support/world.js';

const TARIFF = 20;
const PANEL_OPTION = 16660;
const NODES_OPTION = 16661;

describe('panel and add-ons from the tariff options in BILLmanager database (end to end)', function () {
  this.timeout(60_000);
  let mdb: MariaDb;
  let w: World;
  let cat: Catalog;

  before(async () => {
    mdb = await startMariaDb();
  });
  after(async () => {
    await mdb?.stop();
  });
  beforeEach(async () => {
    await mdb.reset();
    w = await World.create({ day: '2026-01-10' });
    w.host.sim.setParamList(mdb.paramList());
    cat = new Catalog(mdb);
  });
  afterEach(async () => {
    const seen = [w.logText()].join('\n');
    await w.close();
    expect(seen, 'the database password reached the log').to.not.include(mdb.password);
  });

  /** The seed's tariff: the "Control panel license" enumeration named panel, and ISPmanager Business nodes. */
  async function seedTariff(o: { panelName?: string | null; defaultItem?: number | null } = {}): Promise<void> {
    await cat.tariff(TARIFF);
    await cat.option(TARIFF, { id: PANEL_OPTION, intname: o.panelName === undefined ? 'panel' : o.panelName, addontype: 3, items: SEED_PANEL_ITEMS, defaultItem: o.defaultItem === undefined ? 398 : o.defaultItem });
    await cat.option(TARIFF, { id: NODES_OPTION, intname: 'addon_4602', addontype: 2, addonlimit: 1 });
  }

  /** A service as BILLmanager shows it: no product-type parameter panel unless given. */
  function addService(id: number, extra: Partial<NewSimService> = {}): void {
    w.addService({ id, panel: '', expiredate: '2026-02-10', ...extra });
  }

  it('orders the tariff the customer chose in the option "panel", with the addon_4602 total, and sends no host add-on id', async () => {
    await seedTariff();
    // A stale product-type parameter and a soft.edit param named like an add-on must both be ignored.
    addService(201, { panel: '3541', params: { addon_4602: '9' } });
    await cat.service(w.host.sim, 201, TARIFF, [
      { id: 9001, option: PANEL_OPTION, enumerationitem: 399 },
      { id: 9002, option: NODES_OPTION, intvalue: 2 },
    ]);
    const r = await w.command('open', { item: 201, ro: 1 });
    expect(r.code, r.stdout).to.equal(0);
    const [lic] = w.sandbox.licenses();
    expect(w.sandbox.licenses()).to.have.length(1);
    expect(lic).to.include({ pricelist: '4601', licname: 'Item #201' });
    expect(lic!.addons).to.deep.equal({ addon_4602: '3' }); // 1 included + 2 ordered
    const [order] = w.requests('soft.order.param');
    const sentAddons = Object.keys(order!.params).filter((k) => k.startsWith('addon_'));
    expect(sentAddons).to.deep.equal(['addon_4602']);
    expect(order!.params.addon_4602).to.equal('3');
    // soft.edit really showed the host's ids (the form the module must not forward).
    const form = w.host.sim.service(201);
    expect(form).to.not.equal(undefined);
    expect(order!.params).to.not.have.property(`addon_${PANEL_OPTION}`);
    expect(order!.params).to.not.have.property(`addon_${NODES_OPTION}`);
    expect(w.logText()).to.match(/panel 4601 from tariff option "panel"/);
  });

  it("uses the option's default item when the service chose none", async () => {
    await seedTariff({ defaultItem: 398 });
    addService(202);
    await cat.service(w.host.sim, 202, TARIFF, [{ id: 9011, option: PANEL_OPTION, enumerationitem: null }]);
    const r = await w.command('open', { item: 202, ro: 2 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.sandbox.licenses().map((l) => l.pricelist)).to.deep.equal(['3541']);
    // The integer option the service has no row for: the included amount.
    expect(w.sandbox.licenses()[0]!.addons).to.deep.equal({ addon_4602: '1' });
  });

  it('buys nothing for nopanel', async () => {
    await seedTariff();
    addService(203);
    await cat.service(w.host.sim, 203, TARIFF, [{ id: 9021, option: PANEL_OPTION, enumerationitem: 400 }]);
    const r = await w.command('open', { item: 203, ro: 3 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.requests()).to.have.length(0);
    expect(w.host.sim.calls('service.postopen')).to.have.length(1);
  });

  it('takes the product-type parameter panel when the tariff has no panel option', async () => {
    await cat.tariff(30);
    await cat.option(30, { id: 17001, intname: 'addon_4602', addontype: 2, addonlimit: 2 });
    addService(204, { pricelist: '30', panel: '4601' });
    await cat.service(w.host.sim, 204, 30, []);
    const r = await w.command('open', { item: 204, ro: 4 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.sandbox.licenses()[0]).to.include({ pricelist: '4601' });
    expect(w.sandbox.licenses()[0]!.addons).to.deep.equal({ addon_4602: '2' });
  });

  it('recognises the seed enumeration left without an internal name (its detail names it)', async () => {
    await cat.itemtype(77, 'licensetype');
    await cat.tariff(TARIFF);
    await cat.option(TARIFF, { id: PANEL_OPTION, intname: null, itemtype: 77, addontype: 3, items: SEED_PANEL_ITEMS, defaultItem: 398 });
    addService(205);
    await cat.service(w.host.sim, 205, TARIFF, [{ id: 9031, option: PANEL_OPTION, enumerationitem: 399 }]);
    const r = await w.command('open', { item: 205, ro: 5 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.sandbox.licenses()[0]).to.include({ pricelist: '4601' });
  });

  it('refuses two panel-like enumerations, naming both, and buys nothing', async () => {
    await cat.tariff(TARIFF);
    await cat.option(TARIFF, { id: 16670, intname: 'ispmgr', addontype: 3, items: [{ id: 501, intname: '3541', name: 'Lite' }], defaultItem: 501 });
    await cat.option(TARIFF, { id: 16671, intname: 'billmgr', addontype: 3, items: [{ id: 502, intname: '55331', name: 'Startup' }], defaultItem: 502 });
    addService(206);
    await cat.service(w.host.sim, 206, TARIFF, []);
    const r = await w.command('open', { item: 206, ro: 6 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="value" object="panel"/).and.to.include('option 16670 &quot;ispmgr&quot;').and.to.include('option 16671 &quot;billmgr&quot;');
    expect(w.purchases()).to.equal(0);
    expect(w.requests('soft.order.param')).to.have.length(0);
  });

  it('without a panel option nor parameter: a value error that says what to configure, the operation goes manual, nothing bought', async () => {
    await cat.tariff(TARIFF);
    addService(207);
    await cat.service(w.host.sim, 207, TARIFF, []);
    const r = await w.command('open', { item: 207, ro: 7 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="value" object="panel"/).and.to.match(/internal name &quot;panel&quot;/).and.to.match(/diagnose --item 207/);
    expect(w.requests()).to.have.length(0);
    expect(w.host.sim.runningOperation(7)!.manual).to.equal(true);
    expect(w.host.sim.calls('service.postopen')).to.have.length(0);
  });

  it('an unreachable database is a retryable host error: nothing bought, no task, and the password stays secret', async () => {
    await seedTariff();
    addService(208, { panel: '3541' });
    await cat.service(w.host.sim, 208, TARIFF, [{ id: 9041, option: PANEL_OPTION, enumerationitem: 398 }]);
    w.host.sim.setParamList({ DBSocket: `${mdb.dir}/no-such.sock` });
    const r = await w.command('open', { item: 208, ro: 8 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="host"/).and.to.match(/Cannot connect to BILLmanager&apos;s database|Cannot connect to BILLmanager's database/);
    expect(r.stdout + r.stderr).to.not.include(mdb.password);
    expect(w.host.sim.runningOperation(8)!.manual).to.equal(false);
    expect(w.host.sim.tasks()).to.have.length(0);
    expect(w.requests()).to.have.length(0);
    // The database is back: the retry buys the license.
    w.host.sim.setParamList(mdb.paramList());
    const retry = await w.command('open', { item: 208, ro: 8 });
    expect(retry.code, retry.stdout).to.equal(0);
    expect(w.purchases()).to.equal(1);
  });

  it('a wrong database password is the same retryable host error, and the password is not shown', async () => {
    await seedTariff();
    addService(209);
    await cat.service(w.host.sim, 209, TARIFF, [{ id: 9051, option: PANEL_OPTION, enumerationitem: 398 }]);
    w.host.sim.setParamList({ DBPassword: 'Wrong-Db-Secret-1234' });
    const r = await w.command('open', { item: 209, ro: 9 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="host"/).and.to.match(/ER_ACCESS_DENIED_ERROR/);
    expect(r.stdout + w.logText()).to.not.include('Wrong-Db-Secret-1234');
    expect(w.host.sim.runningOperation(9)!.manual).to.equal(false);
    expect(w.purchases()).to.equal(0);
  });

  it('setparam follows a panel changed in the option: the license is swapped', async () => {
    await seedTariff();
    addService(210);
    await cat.service(w.host.sim, 210, TARIFF, [{ id: 9061, option: PANEL_OPTION, enumerationitem: 398 }]);
    expect((await w.command('open', { item: 210, ro: 10 })).code).to.equal(0);
    await mdb.exec('UPDATE item SET enumerationitem = 399 WHERE id = 9061');
    const r = await w.command('setparam', { item: 210, ro: 11 });
    expect(r.code, r.stdout).to.equal(0);
    const bound = w.sandbox.licenses().find((l) => l.licname === 'Item #210')!;
    expect(bound.pricelist).to.equal('4601');
  });

  it('other item commands do not need the database', async () => {
    await seedTariff();
    addService(211);
    await cat.service(w.host.sim, 211, TARIFF, [{ id: 9071, option: PANEL_OPTION, enumerationitem: 398 }]);
    expect((await w.command('open', { item: 211, ro: 12 })).code).to.equal(0);
    w.host.sim.setParamList({ DBSocket: `${mdb.dir}/no-such.sock` });
    for (const c of ['prolong', 'suspend', 'resume', 'sync_item']) {
      const r = await w.command(c, { item: 211, ro: c === 'sync_item' ? undefined : 13 });
      expect(r.code, `${c}: ${r.stdout}`).to.equal(0);
    }
    expect(w.host.sim.calls('paramlist')).to.have.length(1); // only open's
  });

  describe('diagnose --item', () => {
    it('shows each source, the panel, the add-ons and why; masks the key and the password', async () => {
      await seedTariff();
      addService(220, { params: { lickey: 'LICKEY-SECRET-220-abcdef' } });
      await cat.service(w.host.sim, 220, TARIFF, [
        { id: 9101, option: PANEL_OPTION, enumerationitem: 399 },
        { id: 9102, option: NODES_OPTION, intvalue: 4 },
      ]);
      const r = await w.exec(['diagnose', '--item', '220']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`addon_${PANEL_OPTION} = 399`).and.to.include('never sent upstream');
      expect(r.stdout).to.include('lickey = ***').and.to.not.include('LICKEY-SECRET-220');
      expect(r.stdout).to.include('DBPassword = ***').and.to.not.include(mdb.password);
      expect(r.stdout).to.match(/option 16660 "panel", enumeration = 4601 \(the service's value; items in use: 3541, 4601\)/);
      expect(r.stdout).to.match(/option 16661 "addon_4602", integer = 5/);
      expect(r.stdout).to.match(/Panel: 4601 .*from tariff option "panel"/);
      expect(r.stdout).to.include('Upstream add-ons: addon_4602=5');
      if (process.env.PMISPLICENSE_SHOW_DIAGNOSE) process.stdout.write(`${r.stdout}\n`);
    });

    it('exits 1 and says what to configure when the panel cannot be determined', async () => {
      await cat.tariff(TARIFF);
      addService(221);
      await cat.service(w.host.sim, 221, TARIFF, []);
      const r = await w.exec(['diagnose', '--item', '221']);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/Panel: cannot be determined\. .*internal name "panel"/);
    });

    it('exits 1 when the database cannot be read', async () => {
      w.host.sim.setParamList({ DBSocket: `${mdb.dir}/no-such.sock` });
      addService(222, { panel: '3541' });
      const r = await w.exec(['diagnose', '--item', '222']);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/Tariff options: cannot be read: Cannot connect/).and.to.match(/Panel: cannot be determined/);
      expect(r.stdout).to.not.include(mdb.password);
    });

    it('without a database: the product-type parameter, no add-ons', async () => {
      w.host.sim.setParamList({ DBName: null, DBPassword: null, DBUser: null, DBSocket: null, DBHost: null });
      addService(223, { panel: '3541', params: { addon_4602: '3' } });
      const r = await w.exec(['diagnose', '--item', '223']);
      expect(r.code, r.stdout).to.equal(0);
      expect(r.stdout).to.include('DBName = (none)').and.to.match(/Panel: 3541 .*product-type parameter "panel" \(paramlist names no database/);
      expect(r.stdout).to.include('Upstream add-ons: none');
    });

    it('refuses a missing or malformed --item with exit 2', async () => {
      expect((await w.exec(['diagnose'])).code).to.not.equal(0);
      expect((await w.exec(['diagnose', '--item', 'abc'])).code).to.equal(2);
    });
  });
});
