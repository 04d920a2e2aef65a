// `close`, `suspend`, `setparam` and `sync_item` end to end (SPEC 5.4, 5.6).
import { expect } from 'chai';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from '../support/world.js';

describe('close, suspend, setparam, sync_item', function () {
  this.timeout(60_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  async function open(item: number, ip = `203.0.113.${item % 200}`, expiredate = '2026-02-10'): Promise<number> {
    w.addService({ id: item, ip, expiredate });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(item))!.upstreamId;
  }

  it('close pools a license with paid time left: suspended, free.lic, auto-renewal off, IP kept', async () => {
    const id = await open(130, '203.0.113.130');
    const r = await w.command('close', { item: 130, ro: 1 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.sandbox.license(id)).to.include({ licname: 'free.lic', status: 3, autoprolongOn: false, ip: '203.0.113.130', deleted: false });
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free', item: null, ip: '203.0.113.130' });
    expect(w.host.sim.calls('service.postclose')).to.have.length(1);
  });

  it('close deletes a license without paid time left', async () => {
    const id = await open(131);
    w.setDay('2026-02-15'); // license expired 2026-02-10
    expect((await w.command('close', { item: 131, ro: 1 })).code).to.equal(0);
    expect(w.sandbox.license(id)!.deleted).to.equal(true);
    expect(w.store((s) => s.license(MODULE, id))!.state).to.equal('gone');
  });

  it('close counts "not found" upstream as released', async () => {
    const id = await open(132);
    w.setDay('2026-03-20'); // 30 days after expiry the licensing server deleted it
    expect(w.sandbox.license(id)!.deleted).to.equal(true);
    const r = await w.command('close', { item: 132, ro: 1 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.store((s) => s.license(MODULE, id))!.state).to.equal('gone');
    expect(w.host.sim.calls('service.postclose')).to.have.length(1);
  });

  it('close of a nopanel service makes no request', async () => {
    w.addService({ id: 133, panel: 'nopanel', expiredate: '2026-02-10' });
    expect((await w.command('close', { item: 133, ro: 1 })).code).to.equal(0);
    expect(w.requests()).to.have.length(0);
  });

  it('suspend and resume follow the service', async () => {
    const id = await open(134);
    expect((await w.command('suspend', { item: 134, ro: 1 })).code).to.equal(0);
    expect(w.sandbox.license(id)).to.include({ status: 3, manualSuspended: true });
    expect(w.store((s) => s.license(MODULE, id))!.state).to.equal('suspended');
    expect((await w.command('resume', { item: 134, ro: 2 })).code).to.equal(0);
    expect(w.sandbox.license(id)).to.include({ status: 2, manualSuspended: false });
    expect(w.host.sim.calls('service.postsuspend')).to.have.length(1);
    expect(w.host.sim.calls('service.postresume')).to.have.length(1);
  });

  it('setparam changes the IP once a month and refuses earlier with the first allowed date', async () => {
    const id = await open(135, '203.0.113.135');
    w.setDay('2026-01-20');
    w.host.sim.updateService(135, { ip: '203.0.113.235' });
    const refused = await w.command('setparam', { item: 135, ro: 1 });
    expect(refused.code).to.equal(1);
    expect(refused.stdout).to.match(/<error type="ipchange"/).and.to.match(/2026-02-10/);
    expect(w.host.sim.runningOperation(1)!.manual).to.equal(true);
    expect(w.sandbox.license(id)!.ip).to.equal('203.0.113.135');
    w.setDay('2026-02-10');
    w.host.sim.updateService(135, { expiredate: '2026-03-10' });
    const ok = await w.command('setparam', { item: 135, ro: 2 });
    expect(ok.code, ok.stdout).to.equal(0);
    expect(w.sandbox.license(id)!.ip).to.equal('203.0.113.235');
    expect(w.purchases()).to.equal(1);
  });

  it('setparam to another panel releases the old license and binds one of the new panel', async () => {
    const old = await open(136);
    w.host.sim.updateService(136, { panel: '4601' });
    const r = await w.command('setparam', { item: 136, ro: 1 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.sandbox.license(old)!.licname).to.equal('free.lic');
    const now = w.store((s) => s.licenseOfService(136))!;
    expect(now.pricelist).to.equal('4601');
    expect(w.host.sim.service(136)!.params.license_id).to.equal(String(now.upstreamId));
  });

  it('setparam to nopanel releases the license and clears the service params', async () => {
    const id = await open(137);
    w.host.sim.updateService(137, { panel: 'nopanel' });
    expect((await w.command('setparam', { item: 137, ro: 1 })).code).to.equal(0);
    expect(w.sandbox.license(id)!.licname).to.equal('free.lic');
    const params = w.host.sim.service(137)!.params;
    for (const p of ['license_id', 'lickey', 'license_expiredate']) expect(params[p] ?? '', p).to.equal('');
    expect(w.store((s) => s.licenseOfService(137))).to.equal(null);
  });

  it('sync_item brings the expiry in step and logs drift', async () => {
    const id = await open(138);
    // The upstream changed behind the module's back: an administrator prolonged and suspended it.
    const { LicensingClient } = await import('../../src/upstream/client.js');
    const c = new LicensingClient({ url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
    await c.prolong(id, 1);
    await c.suspend(id);
    expect((await w.command('sync_item', { item: 138 })).code).to.equal(0);
    expect(w.host.sim.service(138)!.params.license_expiredate).to.equal('2026-03-10');
    expect(w.store((s) => s.license(MODULE, id))!.expiredate).to.equal('2026-03-10');
    expect(w.logText()).to.match(/status drift/);
  });
});
