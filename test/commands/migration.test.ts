// SPEC 5.9 migration (reconcile kind `unbound`): live services whose licenses were bought outside
// the module (by hand, by a previous module) get them bound as they are — key, IP and period kept,
// renamed "Item #N" — by reconcile --apply, or by prolong/resume/sync_item/maintain when exactly one
// license fits; otherwise those commands fail and say why. Nothing is ever bought for it.
import { expect } from 'chai';
import { MODULE, World } from '../support/world.js';

interface JsonFinding {
  kind: string;
  license: number | null;
  item: number | null;
  detail: string;
}

describe('migration of existing licenses (SPEC 5.9)', function () {
  this.timeout(900_000); // the 20-service case runs ~40 module processes on a shared machine
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  /** A license bought outside the module for a service (its name as a previous module left it). */
  function existing(ip: string, o: { licname?: string; pricelist?: string; expiredate?: string; period?: number } = {}) {
    return w.sandbox.addLicense({ licname: o.licname ?? 'srv.example.com', ip, pricelist: o.pricelist ?? '3541', period: o.period ?? 12, createdate: '2025-03-01', expiredate: o.expiredate ?? '2026-02-28' });
  }

  const moneyMoves = () => w.requests().filter((q) => q.func === 'soft.order.param' || q.func === 'service.prolong' || q.params.clicked_button === 'newkey').length;

  it('prolong of a live service with one candidate binds it as it is and goes on; the log says so', async () => {
    // The service's IP and the license's are written differently: the same address (SPEC 5.9).
    w.addService({ id: 102, ip: '2001:db8::102', period: '12', expiredate: '2027-06-10' });
    const lic = existing('2001:DB8:0:0::102', { licname: 'Item #102', expiredate: '2026-01-12' });
    existing('2001:db8::102', { pricelist: '4601' }); // another tariff: not a candidate
    const key = w.sandbox.license(lic.id)!.lickey;
    const r = await w.command('prolong', { item: 102, ro: 7 });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.store((s) => s.licenseOfService(102))).to.include({ module: MODULE, upstreamId: lic.id, state: 'bound' });
    const after = w.sandbox.license(lic.id)!;
    expect(after).to.include({ licname: 'Item #102', remoteid: '102', lickey: key, ip: '2001:DB8:0:0::102', period: 12 });
    // prolong applied the renewal rule: expiring within 5 days, the service paid beyond.
    expect(w.sandbox.prolongs()).to.equal(1);
    expect(after.expiredate).to.equal('2027-01-12');
    expect(w.purchases()).to.equal(0);
    const params = w.host.sim.service(102)!.params;
    expect(params).to.include({ license_id: String(lic.id), lickey: key, license_expiredate: '2027-01-12' });
    // The key reached the host only through mgrctl's environment, never argv.
    for (const c of w.host.sim.calls('service.saveparam')) expect(c.argv.join(' ')).not.to.include(key);
    expect(w.logText()).to.match(new RegExp(`service 102: bound existing license ${lic.id} .*as it is`));
  });

  it('prolong, resume and sync_item fail (value) naming the candidates, or saying there is none, and point to reconcile', async () => {
    w.addService({ id: 110, ip: '203.0.113.110', expiredate: '2026-06-10' });
    const a = existing('203.0.113.110');
    const b = existing('203.0.113.110', { licname: 'Item #110' });
    const two = await w.command('prolong', { item: 110, ro: 1 });
    expect(two.code).to.equal(1);
    expect(two.stdout).to.match(/type="value"/);
    expect(two.stdout).to.include(String(a.id)).and.include(String(b.id));
    expect(two.stdout).to.match(/pmisplicense reconcile --module 1/);

    w.addService({ id: 111, ip: '203.0.113.111', status: 3, expiredate: '2026-06-10' });
    const none = await w.command('resume', { item: 111, ro: 2 });
    expect(none.code).to.equal(1);
    expect(none.stdout).to.match(/type="value"/).and.match(/has no license for it/).and.match(/reconcile/);
    const sync = await w.command('sync_item', { item: 111 });
    expect(sync.code).to.equal(1);
    expect(sync.stdout).to.match(/has no license for it/);

    expect(w.store((s) => [s.licenseOfService(110), s.licenseOfService(111)])).to.deep.equal([null, null]);
    expect(w.sandbox.license(a.id)!.licname).to.equal('srv.example.com');
    expect(moneyMoves()).to.equal(0);
  });

  it('a live service with no panel needs no license: prolong passes as before', async () => {
    w.addService({ id: 120, panel: 'nopanel', expiredate: '2026-06-10' });
    const r = await w.command('prolong', { item: 120, ro: 1 });
    expect(r.code, r.stdout).to.equal(0);
  });

  it('maintain binds the one candidate of a live service and fails for an ambiguous one (stderr)', async () => {
    w.addService({ id: 130, ip: '203.0.113.130', expiredate: '2026-06-10' });
    w.addService({ id: 131, ip: '203.0.113.131', expiredate: '2026-06-10' });
    const one = existing('203.0.113.130');
    existing('203.0.113.131');
    existing('203.0.113.131');
    const r = await w.exec(['maintain']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/service 131 \(no license bound\): .*2 licenses that could be its own/);
    expect(r.stderr).not.to.match(/service 130/);
    expect(w.store((s) => s.licenseOfService(130)?.upstreamId)).to.equal(one.id);
    expect(w.sandbox.license(one.id)!.licname).to.equal('Item #130');
    expect(moneyMoves()).to.equal(0);
  });

  it('20 live services with licenses bought outside the module: one reconcile --apply binds every unambiguous one without buying or changing a key; the next prolong renews each', async () => {
    // Services 201..220 on module 1, IP 198.51.100.<n>; every license bought by hand a year ago.
    const ambiguous = [205, 212, 218];
    const missing = 220;
    const expected = new Map<number, number>(); // service → its license
    for (let n = 201; n <= 220; n++) {
      // Yearly and monthly services: prolong renews by the license period of the service (5.1, 5.3).
      w.addService({ id: n, ip: `198.51.100.${n - 200}`, period: n % 3 ? '12' : '1', expiredate: '2027-03-10' });
      if (n === missing) continue;
      const l = existing(`198.51.100.${n - 200}`, { licname: n % 2 ? `Item #${n}` : `vps${n}.example.net`, expiredate: '2026-01-14', period: n % 3 ? 12 : 1 });
      if (ambiguous.includes(n)) existing(`198.51.100.${n - 200}`, { licname: 'spare' }); // same IP and tariff: two candidates
      else expected.set(n, l.id);
    }
    // Noise that is no candidate: a deleted license, another tariff, a pooled free.lic of another IP.
    w.sandbox.addLicense({ licname: 'old', ip: '198.51.100.1', pricelist: '3541', deleted: true });
    w.sandbox.addLicense({ licname: 'other tariff', ip: '198.51.100.2', pricelist: '55331' });
    const keys = new Map(w.sandbox.licenses().map((l) => [l.id, l.lickey]));
    const before = w.sandbox.licenses().map((l) => ({ id: l.id, ip: l.ip, period: l.period, expiredate: l.expiredate }));
    const balance = w.sandbox.balance;

    // Fresh state: reconcile without --module covers module 1 all the same (the host's processing list).
    const dry = await w.exec(['reconcile', '--json']);
    expect(dry.code).to.equal(1);
    const found = (JSON.parse(dry.stdout) as JsonFinding[]).filter((f) => f.kind === 'unbound');
    expect(found.map((f) => f.item).sort()).to.deep.equal([...Array(20).keys()].map((i) => 201 + i));
    expect(found.filter((f) => f.license !== null).map((f) => [f.item, f.license])).to.deep.equal([...expected]);
    // The same license, listed as unmanaged, points to the binding, not to pool adopt.
    const first = (JSON.parse(dry.stdout) as Array<JsonFinding & { fix: string }>).find((f) => f.kind === 'unmanaged' && f.license === expected.get(201))!;
    expect(first.fix).to.match(/one license that fits live service 201 .*reconcile --apply binds it/);
    w.sandbox.clearRequests();

    const r = await w.exec(['reconcile', '--apply']);
    expect(r.code).to.equal(1); // the ambiguous ones and the missing one remain
    for (const n of ambiguous) expect(r.stdout).to.match(new RegExp(`not fixed: unbound license - service ${n}: .*2 account licenses could be its own`));
    expect(r.stdout).to.match(new RegExp(`not fixed: unbound license - service ${missing}: .*has no unmanaged active or suspended license`));
    expect(r.stdout).to.match(/after --apply: reconcile: .*4 unbound/);

    // Bound as they were: same key, IP, period and expiry; renamed Item #N with remoteid N.
    for (const [n, id] of expected) {
      expect(w.store((s) => s.licenseOfService(n)), `service ${n}`).to.include({ upstreamId: id, state: 'bound', module: MODULE });
      const l = w.sandbox.license(id)!;
      expect(l).to.include({ licname: `Item #${n}`, remoteid: String(n), lickey: keys.get(id) });
      expect(w.host.sim.service(n)!.params).to.include({ license_id: String(id), license_expiredate: '2026-01-14' });
    }
    for (const l of w.sandbox.licenses()) {
      expect(l.lickey, `license ${l.id}`).to.equal(keys.get(l.id));
      expect({ id: l.id, ip: l.ip, period: l.period, expiredate: l.expiredate }).to.deep.equal(before.find((b) => b.id === l.id));
    }
    for (const n of [...ambiguous, missing]) expect(w.store((s) => s.licenseOfService(n))).to.equal(null);
    // Nothing bought, nothing prolonged, no key changed: the balance and the request log say so.
    expect(w.sandbox.balance).to.equal(balance);
    expect(moneyMoves()).to.equal(0);
    expect(w.requests('soft.suspend').length + w.requests('soft.resume').length + w.requests('soft.delete').length).to.equal(0);

    // Four days on, each license expires within the renewal lead and its service is paid beyond it.
    w.setDay('2026-01-12');
    for (const [n, id] of expected) {
      const p = await w.command('prolong', { item: n, ro: 1000 + n });
      expect(p.code, p.stdout).to.equal(0);
      const l = w.sandbox.license(id)!;
      expect(l.expiredate, `license of service ${n}`).to.equal(n % 3 ? '2027-01-14' : '2026-02-14');
      expect(l.lickey).to.equal(keys.get(id));
    }
    expect(w.sandbox.prolongs()).to.equal(expected.size);
    expect(w.purchases()).to.equal(0);
  });
});
