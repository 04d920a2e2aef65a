// `pmisplicense tariffs --module N [--json]` (SPEC 3 v3): the licensing server's tariffs and prices
// from pricelist.export, as the built executable prints them against the sandbox; it only reads.
import { expect } from 'chai';
import { changingCalls, changingRequests } from '../support/read-only.js';
import { MODULE, World } from '../support/world.js';

describe('tariffs admin command', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    // 4601 sold monthly and yearly only: its lifetime column must say so, never show 0.
    w = await World.create({ day: '2026-01-10', currency: 'USD', prices: { '4601': { '1': 19.9, '12': 199 } } });
  });
  after(async () => {
    await w.close();
  });

  it('--json prints every tariff with the prices the sandbox charges', async () => {
    const r = await w.exec(['tariffs', '--module', String(MODULE), '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const tariffs = JSON.parse(r.stdout) as Array<{ id: string; name: string; prices: Array<{ period: number; cost: number | null; currency: string | null }> }>;
    const table = w.sandbox.snapshot().prices;
    expect(tariffs.map((t) => t.id).sort()).to.deep.equal(Object.keys(table).sort());
    const business = tariffs.find((t) => t.id === '4601')!;
    expect(business).to.deep.equal({ id: '4601', name: 'ISPmanager Business', prices: [{ period: 1, cost: 19.9, currency: 'USD' }, { period: 12, cost: 199, currency: 'USD' }] });
    for (const t of tariffs) for (const p of t.prices) expect(p.cost).to.equal(table[t.id]![String(p.period) as '1' | '12' | '0']);
  });

  it('the table shows id, name and a column per license period; a period not sold is "-", not 0', async () => {
    const r = await w.exec(['tariffs', '--module', String(MODULE)]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/id\s+name\s+1 month\s+1 year\s+lifetime/);
    expect(r.stdout).to.match(/\n3541\s+ISPmanager Lite\s+10\.00 USD\s+100\.00 USD\s+300\.00 USD\n/);
    expect(r.stdout).to.match(/\n4601\s+ISPmanager Business\s+19\.90 USD\s+199\.00 USD\s+-\n/);
    expect(r.stdout).to.include('internal name');
  });

  it('reads only: one pricelist.export request, no money moved, nothing written to the host', async () => {
    w.sandbox.clearRequests();
    const calls = w.host.sim.calls().length;
    const balance = w.sandbox.balance;
    const r = await w.exec(['tariffs', '--module', String(MODULE)]);
    expect(r.code, r.stderr).to.equal(0);
    expect(w.requests().map((x) => x.func)).to.deep.equal(['pricelist.export']);
    expect(w.sandbox.balance).to.equal(balance);
    expect(changingRequests(w.requests())).to.deep.equal([]);
    expect(changingCalls(w.host.sim.calls().slice(calls))).to.deep.equal([]);
    expect(w.host.sim.calls().slice(calls).map((c) => c.func)).to.include('processing.edit');
  });

  it('an unknown module is a usage error (exit 2) and asks the licensing server nothing', async () => {
    w.sandbox.clearRequests();
    const r = await w.exec(['tariffs', '--module', '77']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/no processing module 77/);
    expect(w.requests()).to.have.length(0);
  });
});
