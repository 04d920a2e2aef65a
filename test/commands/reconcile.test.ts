// `reconcile` end to end (SPEC 3): planted faults of every kind are found with their paid days,
// `--apply` fixes them through the same transitions as everything else, and a second run is clean.
import { expect } from 'chai';
import { LicensingClient } from '../../src/upstream/client.js';
import { pooled } from '../support/pool.js';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from '../support/world.js';

interface JsonFinding {
  kind: string;
  license: number | null;
  item: number | null;
  paidDaysLeft: number | null;
  detail: string;
  fix: string;
}

describe('reconcile', function () {
  this.timeout(120_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  const client = () => new LicensingClient({ url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });

  async function open(item: number, expiredate = '2026-02-10'): Promise<number> {
    w.addService({ id: item, ip: `203.0.113.${item % 200}`, expiredate });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(item))!.upstreamId;
  }

  async function reconcileJson(...extra: string[]): Promise<{ code: number; findings: JsonFinding[]; stderr: string }> {
    const r = await w.exec(['reconcile', '--module', String(MODULE), '--json', ...extra]);
    const findings = JSON.parse(r.stdout) as JsonFinding[];
    return { code: r.code, findings, stderr: r.stderr };
  }

  it('finds a leak, a lost license, a foreign free.lic, a pooled license renewing itself and a service naming a license it does not hold; --apply fixes them', async () => {
    // leak: service 301 closed in BILLmanager, the module never heard of it.
    const leaked = await open(301);
    w.host.sim.updateService(301, { status: 4 });
    // lost: the license of service 302 deleted at the licensing server behind the module's back.
    const lost = await open(302, '2026-03-10');
    await client().delete(lost);
    // unmanaged: a free.lic the module did not release.
    const foreign = w.sandbox.addLicense({ licname: 'free.lic', period: 1, expiredate: '2026-01-19' }).id;
    // params: service 304 names the license of service 303 (two services naming one license).
    // Without BILLmanager's database (this host names none) only services that the state or the
    // upstream names are read, as SPEC 3 says: 304 is, being bound.
    const named = await open(303);
    await open(304);
    w.host.sim.updateService(304, { params: { license_id: String(named) } });

    // autoprolong: a pooled license whose auto-renewal was switched on at the licensing server.
    const pool = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-05-31', ipChangeDate: '2025-06-01', keyChangeDate: '2025-06-01' });
    await client().edit(pool, { autoprolong: true });
    const first = await reconcileJson();
    expect(first.code).to.equal(1);
    const of = (kind: string) => first.findings.filter((f) => f.kind === kind);
    expect(of('leak').map((f) => [f.license, f.item, f.paidDaysLeft])).to.deep.equal([[leaked, 301, 32]]); // 2026-01-10..2026-02-10
    expect(of('lost').map((f) => [f.license, f.item])).to.deep.equal([[lost, 302]]);
    expect(of('lost')[0]!.paidDaysLeft).to.be.a('number').and.be.greaterThan(0);
    expect(of('unmanaged').map((f) => [f.license, f.paidDaysLeft])).to.deep.equal([[foreign, 10]]);
    expect(of('unmanaged')[0]!.detail).to.match(/adoptable/);
    expect(of('autoprolong').map((f) => [f.license, f.paidDaysLeft])).to.deep.equal([[pool, 142]]); // to 2026-05-31
    expect(of('params').map((f) => [f.license, f.item])).to.deep.equal([[named, 304]]);
    expect(of('params')[0]!.detail).to.match(/bound to service 303/);
    expect(first.stderr).to.match(/1 leak \(32 paid days\)/);
    for (const f of first.findings) expect(Object.keys(f).sort()).to.deep.equal(['detail', 'fix', 'item', 'kind', 'license', 'paidDaysLeft']);

    const purchasesBefore = w.purchases();
    const applied = await reconcileJson('--apply');
    // Left: service 302 is live and its license is gone, so it has none (SPEC 5.9 `unbound`, no candidate).
    expect(applied.code, applied.stderr).to.equal(1);
    expect(applied.stderr).to.match(/after --apply: .* 0 leak, 0 lost, 0 autoprolong, 0 params, 1 unbound/);
    // leak released into the pool (paid time left), suspended and renamed upstream; its service no longer names it.
    expect(w.store((s) => s.license(MODULE, leaked))).to.include({ state: 'free', item: null });
    expect(w.sandbox.license(leaked)).to.include({ licname: 'free.lic', status: 3 });
    expect(w.host.sim.service(301)!.params.license_id ?? '').to.equal('');
    expect(w.store((s) => s.license(MODULE, lost))!.state).to.equal('gone');
    expect(w.host.sim.service(302)!.params.license_id ?? '').to.equal(''); // it no longer names a deleted license
    expect(w.sandbox.license(pool)!.autoprolongOn).to.equal(false);
    expect(w.host.sim.service(304)!.params.license_id ?? '').to.equal('');
    expect(w.host.sim.service(303)!.params.license_id).to.equal(String(named));
    expect(w.store((s) => s.isKnown(foreign))).to.equal(false); // information only: adopt takes it
    expect(w.purchases()).to.equal(purchasesBefore);
    expect(w.sandbox.prolongs()).to.equal(0);

    const second = await reconcileJson();
    expect(second.code).to.equal(1);
    expect(second.findings.map((f) => [f.kind, f.item])).to.deep.equal([['unmanaged', null], ['unbound', 302]]);
  });

  it('text output: one line per finding and the summary; exit 0 when only information is found', async () => {
    await open(310);
    w.sandbox.addLicense({ licname: 'myserver', period: 1 });
    const r = await w.exec(['reconcile', '--module', String(MODULE)]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^unmanaged .*named "myserver"/);
    expect(lines[1]).to.match(/^reconcile: 0 leak, 0 lost, 0 autoprolong, 0 params, 0 unbound, 1 unmanaged \(\d+ paid days\), 0 drift, 0 moved; no fault$/);
  });

  it('--apply does not release a license whose service came back to life meanwhile (the finding is re-checked)', async () => {
    const id = await open(320);
    w.host.sim.updateService(320, { status: 4 });
    const found = await reconcileJson();
    expect(found.findings.filter((f) => f.kind === 'leak')).to.have.length(1);
    w.host.sim.updateService(320, { status: 2 });
    const applied = await reconcileJson('--apply');
    expect(applied.code).to.equal(0); // nothing left: the leak is no longer there
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'bound', item: 320 });
    expect(w.sandbox.license(id)!.licname).to.equal('Item #320');
  });

  it('an address written two ways is no drift (IPs compared canonically, SPEC 5.9)', async () => {
    w.addService({ id: 330, ip: '2001:db8::5', expiredate: '2026-02-10' });
    const r = await w.command('open', { item: 330, ro: 330 });
    expect(r.code, r.stdout).to.equal(0);
    w.host.sim.updateService(330, { ip: '2001:DB8:0:0:0:0:0:5' });
    const { findings } = await reconcileJson();
    expect(findings.filter((f) => f.kind === 'drift')).to.deep.equal([]);
    w.host.sim.updateService(330, { ip: '2001:db8::6' });
    const after = await reconcileJson();
    expect(after.findings.filter((f) => f.kind === 'drift').map((f) => f.item)).to.deep.equal([330]);
  });
});
