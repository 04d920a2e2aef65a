// `pool list` and `pool adopt`.
import { expect } from 'chai';
import { pooled } from '../support/pool.js';
import { World } from '../support/world.js';

describe('pool admin command', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  after(async () => {
    await w.close();
  });

  it('lists every managed license with state, service, IP, expiry and re-use date, and a summary per tariff', async () => {
    await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.1' });
    const recent = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-07-01', ip: '198.51.100.2', keyChangeDate: '2026-01-05' });
    w.addService({ id: 301, ip: '203.0.113.31', panel: '4601', expiredate: '2026-02-10' });
    expect((await w.command('open', { item: 301, ro: 1 })).code).to.equal(0);
    const json = JSON.parse((await w.exec(['pool', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(json).to.have.length(3);
    expect(json.find((r) => r.license === recent)).to.include({ state: 'free', reusableFrom: '2026-02-05', item: null });
    expect(json.find((r) => r.item === 301)).to.include({ state: 'bound', ip: '203.0.113.31', pricelist: 4601 });
    const table = (await w.exec(['pool', 'list'])).stdout;
    expect(table).to.match(/tariff 3541: 0 bound, 2 free, 1 re-usable now \(ISPmanager Lite\)/);
    expect(table).to.match(/ 3541 ISPmanager Lite /); // the licensing server's name beside the id
    expect(table).to.match(/tariff 4601: 1 bound, 0 free, 0 re-usable now/);
    expect(table).to.include('2026-02-05');
  });

  it('adopt refuses a license the module already manages or one without paid time', async () => {
    const known = w.store((s) => s.licenses()[0]!.upstreamId);
    const again = await w.exec(['pool', 'adopt', '--module', '1', '--license', String(known)]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/already managed/);
    const expired = w.sandbox.addLicense({ licname: 'free.lic', createdate: '2025-11-01', expiredate: '2025-12-20' });
    const r = await w.exec(['pool', 'adopt', '--module', '1', '--license', String(expired.id)]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/expired|status/);
  });

  it('adopt never takes a live license silently: a live service\'s "Item #N" or a foreign name is refused and left untouched; --force takes it and says so', async () => {
    w.addService({ id: 320, ip: '203.0.113.32', status: 2 });
    const live = w.sandbox.addLicense({ licname: 'Item #320', period: 12, createdate: '2025-12-01', expiredate: '2026-12-01' });
    const mine = w.sandbox.addLicense({ licname: 'myserver', period: 12, createdate: '2025-12-01', expiredate: '2026-12-01' });
    for (const [lic, why] of [[live, /service 320 is active/], [mine, /named "myserver"/]] as const) {
      const before = { ...w.sandbox.license(lic.id)! };
      const r = await w.exec(['pool', 'adopt', '--module', '1', '--license', String(lic.id)]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(why).and.match(/--force/);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(w.sandbox.license(lic.id)).to.deep.equal(before);
      expect(w.store((s) => s.isKnown(lic.id))).to.equal(false);
    }
    const forced = await w.exec(['pool', 'adopt', '--module', '1', '--license', String(mine.id), '--force']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.stdout).to.match(/forced: it is named "myserver"/);
    expect(w.sandbox.license(mine.id)).to.include({ licname: 'free.lic', status: 3, autoprolongOn: false });
    expect(w.store((s) => s.licenses().find((l) => l.upstreamId === mine.id))).to.include({ state: 'free', item: null });
  });

  it("adopt --force of a live service's license: the service stops naming it before it joins the pool", async () => {
    const lic = w.sandbox.addLicense({ licname: 'Item #321', ip: '203.0.113.34', period: 12, createdate: '2025-12-01', expiredate: '2026-12-01' });
    w.addService({ id: 321, ip: '203.0.113.34', status: 2, params: { license_id: String(lic.id), lickey: lic.lickey, license_expiredate: '2026-12-01' } });
    w.addService({ id: 322, ip: '203.0.113.35', status: 2, params: { license_id: '777' } });
    const other = w.sandbox.addLicense({ licname: 'Item #322', ip: '203.0.113.35', period: 12, createdate: '2025-12-01', expiredate: '2026-12-01' });
    const calls = w.host.sim.calls().length;
    const seq = w.sandbox.lastRequestSeq();
    const forced = await w.exec(['pool', 'adopt', '--module', '1', '--license', String(lic.id), '--force']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.stdout).to.match(/forced: service 321 is active/);
    expect(w.host.sim.service(321)!.params.license_id ?? '').to.equal('');
    expect(w.host.sim.service(321)!.params.lickey ?? '').to.equal('');
    expect(w.host.sim.service(321)!.params.license_expiredate ?? '').to.equal('');
    // Params first: every saveparam before the first change at the licensing server.
    const saves = w.host.sim.calls().slice(calls).filter((c) => c.func === 'service.saveparam');
    expect(saves).to.have.length(3);
    const firstChange = w.sandbox.requestsAfter(seq).find((r) => r.func === 'soft.suspend' || (r.func === 'soft.edit' && r.params.sok !== undefined));
    expect(firstChange, 'the license was suspended or renamed').to.not.equal(undefined);
    for (const c of saves) expect(c.at <= firstChange!.time, `${c.argv.join(' ')} at ${c.at}, the license changed at ${firstChange!.time}`).to.equal(true);
    expect(w.store((s) => s.license(1, lic.id))).to.include({ state: 'free', item: null });
    // A live service whose params name another license keeps them.
    expect((await w.exec(['pool', 'adopt', '--module', '1', '--license', String(other.id), '--force'])).code).to.equal(0);
    expect(w.host.sim.service(322)!.params.license_id).to.equal('777');
  });

  it('adopt takes "Item #N" of a closed or unknown service without --force', async () => {
    w.addService({ id: 330, ip: '203.0.113.33', status: 4 });
    const closed = w.sandbox.addLicense({ licname: 'Item #330', period: 1, createdate: '2026-01-01', expiredate: '2026-02-01' });
    const unknown = w.sandbox.addLicense({ licname: 'Item #99999', period: 1, createdate: '2026-01-01', expiredate: '2026-02-01' });
    for (const lic of [closed, unknown]) {
      const r = await w.exec(['pool', 'adopt', '--module', '1', '--license', String(lic.id)]);
      expect(r.code, r.stderr).to.equal(0);
      expect(w.sandbox.license(lic.id)!.licname).to.equal('free.lic');
    }
  });

  it('maintain: a pooled license with paid time that vanished upstream is a failure, one line on stderr, exit 1', async () => {
    const id = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.9' });
    const { LicensingClient } = await import('../../src/upstream/client.js');
    const { SANDBOX_USER, SANDBOX_PASSWORD } = await import('../support/world.js');
    await new LicensingClient({ url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD }).delete(id);
    const m = await w.exec(['maintain']);
    expect(m.code).to.equal(1);
    const lines = m.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes(String(id)))).to.have.length(1);
    expect(lines.find((l) => l.includes(String(id)))).to.match(/paid until 2026-06-01.*lost/);
    expect(w.store((s) => s.licenses().find((l) => l.upstreamId === id))!.state).to.equal('gone');
    // The next run has nothing left to report about it.
    const again = await w.exec(['maintain']);
    expect(again.stderr).to.not.include(String(id));
  });
});
