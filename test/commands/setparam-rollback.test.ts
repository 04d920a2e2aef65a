// A setparam that fails during a tariff change (SPEC 5.6 v3, v3.1), end to end: BILLmanager's
// database (a real MariaDB) shows item.lastpricelist, the module asks the simulated host to roll
// the tariff change back and binds back the license it released for the change (same key and IP,
// resumed, named Item #N, params saved); the error is recorded as usual. Without lastpricelist the
// failure stands as before: the service names no license.
import { expect } from 'chai';
import { setSimTariffChange } from '../../src/sandbox/host.js';
import { Catalog, SEED_PANEL_ITEMS, startMariaDb, type MariaDb } from '../support/mariadb.js';
import { World } from '../support/world.js';

const TARIFF = 20;
const PANEL_OPTION = 16660;

describe('setparam: rollback of a failed tariff change', function () {
  this.timeout(120_000);
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
    await cat.itemtype(1, 'soft');
    await cat.tariff(TARIFF, 1);
    await cat.option(TARIFF, { id: PANEL_OPTION, intname: 'panel', addontype: 3, items: SEED_PANEL_ITEMS, defaultItem: 398 });
  });
  afterEach(async () => {
    await w.close();
  });

  /** An ISPmanager Lite service with its license, then a change to ISPmanager Business whose order the licensing server refuses. */
  async function failedPanelChange(item: number, choice: number, lastpricelist: number | null, beforeSetparam?: () => void, env?: Record<string, string>): Promise<{ license: number; key: string; ip: string; stdout: string; code: number }> {
    w.addService({ id: item, panel: '', expiredate: '2026-07-10', ip: `203.0.113.${item % 200}` });
    await cat.service(w.host.sim, item, TARIFF, [{ id: choice, option: PANEL_OPTION, enumerationitem: 398 }]);
    const opened = await w.command('open', { item, ro: item });
    expect(opened.code, opened.stdout).to.equal(0);
    const license = w.store((s) => s.licenseOfService(item))!.upstreamId;
    const { lickey: key, ip } = w.sandbox.license(license)!;
    expect(w.host.sim.service(item)!.params.lickey).to.equal(key);

    await mdb.exec('UPDATE item SET enumerationitem = 399 WHERE id = ?', [choice]);
    if (lastpricelist !== null) {
      await mdb.exec('UPDATE item SET lastpricelist = ? WHERE id = ?', [lastpricelist, item]);
      setSimTariffChange(w.host.sim.dbPath, item, { pricelist: String(lastpricelist), panel: '' });
      w.host.sim.updateService(item, { pricelist: '21' });
    }
    w.sandbox.inject({ kind: 'error', func: 'soft.order.param', type: 'balance', msg: 'Not enough money on the account' });
    beforeSetparam?.();
    const r = await w.command('setparam', { item, ro: item + 1000, env });
    return { license, key, ip, stdout: r.stdout, code: r.code };
  }

  it('with item.lastpricelist > 0: rolls the tariff back and binds the released license back as it was', async () => {
    const { license, key, ip, stdout, code } = await failedPanelChange(240, 9401, TARIFF);
    expect(code).to.equal(1);
    expect(stdout).to.match(/<error type="upstream"/).and.to.include('Not enough money');
    // The error is recorded as usual.
    expect(w.host.sim.runningOperation(1240)!.errorxml).to.include('Not enough money');
    // BILLmanager was asked to roll the change back, once, as ISPsystem's module base does.
    const calls = w.host.sim.calls('service.changepricelist.rollback');
    expect(calls.map((c) => c.argv.slice(4))).to.deep.equal([['service.changepricelist.rollback', 'sok=ok', 'elid=240']]);
    expect(w.host.sim.service(240)!.pricelist).to.equal(String(TARIFF));
    // The license released for the change serves the service again: same key and IP, resumed, renamed.
    expect(w.store((s) => s.licenseOfService(240))?.upstreamId).to.equal(license);
    const l = w.sandbox.license(license)!;
    expect(l).to.include({ licname: 'Item #240', status: 2, lickey: key, ip, remoteid: '240' });
    const params = w.host.sim.service(240)!.params;
    expect(params.license_id).to.equal(String(license));
    expect(params.lickey).to.equal(key);
    expect(params.license_expiredate).to.equal(l.expiredate);
    expect(w.host.sim.calls('service.saveparam').filter((c) => c.argv.includes('name=lickey')).every((c) => c.secretFromEnv)).to.equal(true);
    expect(w.purchases()).to.equal(1); // only the first order
    expect(w.store((s) => s.licenses().filter((x) => x.state === 'free'))).to.have.length(0);
  });

  it('a license that cannot be resumed goes back to the pool, and the service names none', async () => {
    const { license, code } = await failedPanelChange(242, 9421, TARIFF, () => w.sandbox.inject({ kind: 'error', func: 'soft.resume', type: 'value', msg: 'Resume refused' }));
    expect(code).to.equal(1);
    expect(w.host.sim.calls('service.changepricelist.rollback')).to.have.length(1);
    expect(w.store((s) => s.licenseOfService(242))).to.equal(null);
    expect(w.store((s) => s.license(1, license))!.state).to.equal('free');
    expect(w.sandbox.license(license)).to.include({ licname: 'free.lic', status: 3 });
    expect(w.host.sim.service(242)!.params.license_id ?? '').to.equal('');
    expect(w.logText()).to.match(/binding license \d+ back failed .*Resume refused.*; it goes back to the pool/);
  });

  it('a license that cannot be put back upstream either stays bound to the service, never in the pool named for it', async () => {
    // The bind-back's rename is held until the resume and the put-back's rename to free.lic are
    // set to fail: the license must not be free while it is named "Item #243" (issue 17's rule).
    let during: Promise<void> = Promise.resolve();
    const { license, code } = await failedPanelChange(243, 9431, TARIFF, () => {
      w.sandbox.inject({ kind: 'hold', func: 'soft.edit', params: { licname: 'Item #243' } });
      during = (async () => {
        await w.sandbox.waitForHeld(1, 60_000);
        w.sandbox.inject({ kind: 'error', func: 'soft.resume', type: 'value', msg: 'Resume refused' });
        w.sandbox.inject({ kind: 'error', func: 'soft.edit', params: { licname: 'free.lic' }, type: 'value', msg: 'Rename refused' });
        w.sandbox.release();
      })();
    });
    await during;
    expect(code).to.equal(1);
    expect(w.sandbox.license(license)!.licname).to.equal('Item #243');
    expect(w.store((s) => s.license(1, license))).to.include({ state: 'bound', item: 243 });
    expect(w.logText()).to.match(/could not be put back into the pool upstream .*Rename refused.*; it stays bound to service 243/);
  });

  it('a setparam that could not take the service (another process holds it) rolls nothing back', async () => {
    // The rollback belongs to the run that changed the service: a busy run changed nothing, and the
    // holder is still working on the service.
    const { code, stdout } = await failedPanelChange(244, 9441, TARIFF, () => expect(w.store((s) => s.tryLock(244, 'test holder', () => true))).to.equal(null), { PMISPLICENSE_LOCK_WAIT: '1' });
    expect(code).to.equal(1);
    expect(stdout).to.match(/<error type="busy"/);
    expect(w.host.sim.calls('service.changepricelist.rollback')).to.have.length(0);
    expect(w.host.sim.service(244)!.pricelist).to.equal('21');
  });

  it('without lastpricelist: no rollback, the released license stays in the pool and the service names none', async () => {
    const { license, code } = await failedPanelChange(241, 9411, null);
    expect(code).to.equal(1);
    expect(w.host.sim.calls('service.changepricelist.rollback')).to.have.length(0);
    expect(w.store((s) => s.licenseOfService(241))).to.equal(null);
    expect(w.store((s) => s.license(1, license))!.state).to.equal('free');
    expect(w.sandbox.license(license)!.licname).to.equal('free.lic');
    expect(w.host.sim.service(241)!.params.license_id ?? '').to.equal('');
  });
});
