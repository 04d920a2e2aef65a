// `diagnose --item N` (SPEC 3 v3): besides the panel's sources, the period rule that applies and
// the pool license the service would get — or why none, with the price of a new one — all from
// reads; then `open` takes exactly the license diagnose named.
import { expect } from 'chai';
import { pooled } from '../support/pool.js';
import { changingCalls, changingRequests } from '../support/read-only.js';
import { MODULE, World } from '../support/world.js';

describe('diagnose --item: the period rule and the pool license', function () {
  this.timeout(120_000);
  let w: World;
  let ipChanged = 0;
  let keyChanged = 0;
  let rule = 0;

  before(async () => {
    w = await World.create({ day: '2026-11-25' });
    ipChanged = await pooled(w, { period: 12, createdate: '2026-03-01', expiredate: '2027-03-01', ipChangeDate: '2026-11-20', keyChangeDate: '2026-03-01' });
    keyChanged = await pooled(w, { period: 12, createdate: '2026-02-01', expiredate: '2027-05-01', ipChangeDate: '2026-02-01', keyChangeDate: '2026-11-24' });
    const r = await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '1', '--target', '12']);
    rule = Number(r.stdout);
    w.addService({ id: 301, ip: '203.0.113.31', panel: '3541', period: '1', expiredate: '2027-01-25' });
  });
  after(async () => {
    await w.close();
  });

  async function diagnose(): Promise<string> {
    const seq = w.sandbox.lastRequestSeq();
    const calls = w.host.sim.calls().length;
    const state = w.store((s) => s.licenses());
    const r = await w.exec(['diagnose', '--item', '301']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(changingRequests(w.sandbox.requestsAfter(seq))).to.deep.equal([]);
    expect(changingCalls(w.host.sim.calls().slice(calls))).to.deep.equal([]);
    expect(w.store((s) => s.licenses())).to.deep.equal(state);
    return r.stdout;
  }

  it('names the rule and why no pooled license is eligible yet, with the price of a new one', async () => {
    const out = await diagnose();
    expect(out).to.include(`Period rule: service period 1 month → license 12 months (rule ${rule}: 1 month → 12 months, for all tariff plans)`);
    expect(out).to.include(`the pool has 2 license(s) of tariff 3541, none eligible: ${ipChanged} changed its IP on 2026-11-20, first allowed 2026-12-20; ${keyChanged} changed its key on 2026-11-24, first allowed 2026-12-24 — a new one would be ordered (tariff 3541, 12 months: 100.00 EUR)`);
    expect(w.sandbox.requestsAfter(0).map((r) => r.func)).to.include('pricelist.export');
  });

  it('once the IP-change month has passed, names the pooled license open then takes', async () => {
    w.setDay('2026-12-20');
    const out = await diagnose();
    expect(out).to.match(new RegExp(`License on open: pooled license ${ipChanged} \\(12 months, paid until 2027-03-01, IP [^)]+\\): the eligible one that expires first`));
    const purchases = w.purchases();
    expect((await w.command('open', { item: 301, ro: 1 })).code).to.equal(0);
    expect(w.store((s) => s.licenseOfService(301))!.upstreamId).to.equal(ipChanged);
    expect(w.purchases()).to.equal(purchases);
    expect(await diagnose()).to.match(new RegExp(`License: bound to license ${ipChanged} \\(tariff 3541, 12 months, paid until 2027-03-01, IP 203\\.0\\.113\\.31\\)`));
  });

  it('a tariff-plan rule wins over the global one and says so', async () => {
    const limited = Number((await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '1', '--target', '0', '--itemtype', 'soft', '--pricelist', '20'])).stdout);
    const out = await diagnose();
    expect(out).to.include(`license lifetime (rule ${limited}: 1 month → lifetime, limited to product type soft, tariff plan 20 (it wins over global rule ${rule}))`);
  });
});
