// `maintain --dry-run` (SPEC 3 v3): says what a run would renew (with the licensing server's
// prices), fill in and drop — and makes no call that changes anything: the sandbox's request log
// and the simulated host's calls hold only reads, the state file and the account are unchanged.
// Then the real `maintain` does exactly what the dry run said, at the prices it said.
import { expect } from 'chai';
import { pooled } from '../support/pool.js';
import { changingCalls, changingRequests } from '../support/read-only.js';
import { MODULE, World } from '../support/world.js';

describe('maintain --dry-run', function () {
  this.timeout(120_000);
  let w: World;
  let lic201 = 0;
  let lic202 = 0;
  let lic203 = 0;
  let expiredPooled = 0;

  before(async () => {
    w = await World.create({ day: '2026-01-10' });
    // Two monthly services paid ahead; one whose key comes only after open; one pooled license
    // that will have expired.
    w.addService({ id: 201, ip: '203.0.113.21', panel: '3541', period: '1', expiredate: '2026-04-10' });
    w.addService({ id: 202, ip: '203.0.113.22', panel: '4601', period: '1', expiredate: '2026-04-10' });
    for (const item of [201, 202]) expect((await w.command('open', { item, ro: item })).code).to.equal(0);
    w.sandbox.setKeyDelayMs(-1);
    w.addService({ id: 203, ip: '203.0.113.23', panel: '3541', period: '1', expiredate: '2026-02-10' });
    expect((await w.command('open', { item: 203, ro: 203 })).code).to.equal(0);
    w.sandbox.issueKeys();
    expiredPooled = await pooled(w, { period: 1, createdate: '2025-12-01', expiredate: '2026-02-01', ip: '198.51.100.9' });
    const boundTo = (item: number): number => w.store((s) => s.licenseOfService(item))!.upstreamId;
    [lic201, lic202, lic203] = [boundTo(201), boundTo(202), boundTo(203)];
    // Monthly services buy yearly licenses from now on: the renewal is by a year.
    expect((await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '1', '--target', '12'])).code).to.equal(0);
    w.setDay('2026-02-06'); // the monthly licenses expire on 2026-02-10: within the 5-day lead
  });
  after(async () => {
    await w.close();
  });

  let dry = '';
  it('prints the renewals with their prices, the key to fill in and the pooled license to drop', async () => {
    const before = { state: w.store((s) => s.licenses()), sandbox: w.sandbox.snapshot(), seq: w.sandbox.lastRequestSeq(), calls: w.host.sim.calls().length, services: [201, 202, 203].map((i) => w.host.sim.service(i)!.params) };
    const r = await w.exec(['maintain', '--dry-run']);
    expect(r.code, r.stderr).to.equal(0);
    dry = r.stdout;
    expect(dry).to.match(new RegExp(`renew +license ${lic201} of service 201 \\(tariff 3541 ISPmanager Lite\\): expires 2026-02-10, service paid until 2026-04-10; prolong by 12 months: 100\\.00 EUR`));
    expect(dry).to.match(new RegExp(`renew +license ${lic202} of service 202 \\(tariff 4601[^)]*\\): .*prolong by 12 months: 200\\.00 EUR`));
    expect(dry).to.match(new RegExp(`key +license ${lic203} of service 203: `));
    expect(dry).to.match(new RegExp(`drop +license ${expiredPooled} \\(pooled, tariff 3541\\): expired on 2026-02-01`));
    expect(dry).to.match(/would renew 2 license\(s\) for 300\.00 EUR, fill in 1 key\(s\), drop 1 pooled license\(s\)/);
    expect(dry).to.not.match(new RegExp(`renew +license ${lic203}`)); // service 203 is not paid beyond its license

    // Nothing that changes anything was asked of anyone; nothing changed.
    const reqs = w.sandbox.requestsAfter(before.seq);
    expect(reqs.map((x) => x.func)).to.include.members(['soft', 'pricelist.export', 'soft.edit']);
    expect(changingRequests(reqs)).to.deep.equal([]);
    expect(changingCalls(w.host.sim.calls().slice(before.calls))).to.deep.equal([]);
    expect(w.store((s) => s.licenses())).to.deep.equal(before.state);
    const after = w.sandbox.snapshot();
    expect([after.balance, after.ledger, after.licenses]).to.deep.equal([before.sandbox.balance, before.sandbox.ledger, before.sandbox.licenses]);
    expect([201, 202, 203].map((i) => w.host.sim.service(i)!.params)).to.deep.equal(before.services);
    expect(w.sandbox.license(lic203)!.lickey).to.not.equal('');
    expect(r.stdout + r.stderr).to.not.include(w.sandbox.license(lic203)!.lickey);
  });

  it('the real maintain then does what the dry run said, at the prices it said', async () => {
    const ledger = w.sandbox.ledger().length;
    const r = await w.exec(['maintain']);
    expect(r.code, r.stderr).to.equal(0);
    const moves = w.sandbox.ledger().slice(ledger);
    expect(moves.map((m) => [m.kind, m.licenseId, m.period, m.amount])).to.have.deep.members([
      ['prolong', lic201, 12, 100],
      ['prolong', lic202, 12, 200],
    ]);
    expect(w.store((s) => s.license(MODULE, expiredPooled))!.state).to.equal('gone');
    expect(w.host.sim.service(203)!.params.lickey).to.equal(w.sandbox.license(lic203)!.lickey);
    const again = await w.exec(['maintain', '--dry-run']);
    expect(again.stdout).to.match(/would renew 0 license\(s\) for 0\.00, fill in 0 key\(s\), drop 0 pooled license\(s\)/);
  });

  it('--module of another id is checked first (exit 2), and --dry-run with a misspelling is refused', async () => {
    const seq = w.sandbox.lastRequestSeq();
    expect((await w.exec(['maintain', '--dry-run', '--module', '9'])).code).to.equal(2);
    const typo = await w.exec(['maintain', '--dryrun']);
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.match(/did you mean "--dry-run"/);
    expect(w.sandbox.requestsAfter(seq)).to.have.length(0);
  });

  it("shows maintain's SPEC 5.9 part too: the one existing license it would bind, the service with none — and the real run does that", async () => {
    // Two live services of the module with no license bound: 204 has one license on the account
    // that fits (its IP, its panel's tariff; bought before the module), 205 has none.
    w.addService({ id: 204, ip: '203.0.113.24', panel: '3541', period: '1', expiredate: '2026-04-10' });
    w.addService({ id: 205, ip: '203.0.113.25', panel: '3541', period: '1', expiredate: '2026-04-10' });
    const existing = w.sandbox.addLicense({ licname: 'vps204.example.net', ip: '203.0.113.24', pricelist: '3541', period: 12, createdate: '2025-06-01', expiredate: '2026-06-01' }).id;
    const before = { state: w.store((s) => s.licenses()), seq: w.sandbox.lastRequestSeq(), calls: w.host.sim.calls().length, licname: w.sandbox.license(existing)!.licname };
    const r = await w.exec(['maintain', '--dry-run']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`bind +license ${existing} to service 204 as it is .*nothing bought`));
    expect(r.stdout).to.match(/unbound service 205 \(module 1, IP 203\.0\.113\.25, tariff 3541\): no license on the account could be its own/);
    expect(r.stdout).to.match(/bind 1 existing license\(s\); 1 for the administrator/);
    expect(changingRequests(w.sandbox.requestsAfter(before.seq))).to.deep.equal([]);
    expect(changingCalls(w.host.sim.calls().slice(before.calls))).to.deep.equal([]);
    expect(w.store((s) => s.licenses())).to.deep.equal(before.state);
    expect(w.sandbox.license(existing)!.licname).to.equal(before.licname);

    const purchases = w.purchases();
    const real = await w.exec(['maintain']);
    expect(real.code, 'service 205 has no license: a failure of the run').to.equal(1);
    expect(real.stderr).to.match(/service 205 \(no license bound\)/);
    expect(w.store((s) => s.licenseOfService(204))?.upstreamId).to.equal(existing);
    expect(w.sandbox.license(existing)!.licname).to.equal('Item #204');
    expect(w.store((s) => s.licenseOfService(205))).to.equal(null);
    expect(w.purchases()).to.equal(purchases);
  });
});
