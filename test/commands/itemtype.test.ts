// The service's product type is never read from soft.edit (SPEC 4 v3): a real form does not show it
// (ISPsystem's modules read it by SQL), so a tariff-limited period rule (SPEC 5.1) must apply to a
// service whose soft.edit has no `itemtype` — on open and on every renewal.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { World } from '../support/world.js';

describe('product type of a service (never from soft.edit)', function () {
  this.timeout(120_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  it('the simulated host, like BILLmanager, shows no itemtype in soft.edit', async () => {
    w.addService({ id: 160, expiredate: '2026-02-10' });
    const r = spawnSync(w.host.mgrctl, ['-m', 'billmgr', '-o', 'xml', 'soft.edit', 'elid=160'], { env: { ...process.env, ...w.host.env }, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('<pricelist>20</pricelist>').and.to.not.match(/<itemtype>/);
  });

  it('a tariff-limited rule applies to a service whose soft.edit has no itemtype: bought and renewed by its target', async () => {
    expect((await w.exec(['periods', 'add', '--module', '1', '--source', '1', '--target', '1'])).code).to.equal(0);
    expect((await w.exec(['periods', 'add', '--module', '1', '--source', '1', '--target', '12', '--itemtype', 'soft', '--pricelist', '20'])).code).to.equal(0);
    w.addService({ id: 161, period: '1', pricelist: '20', expiredate: '2027-03-10' });
    w.addService({ id: 162, period: '1', pricelist: '21', expiredate: '2026-02-10', ip: '203.0.113.162' });
    expect((await w.command('open', { item: 161, ro: 61 })).code).to.equal(0);
    expect((await w.command('open', { item: 162, ro: 62 })).code).to.equal(0);
    const lic = (i: number) => w.sandbox.licenses().find((l) => l.licname === `Item #${i}`)!;
    expect(lic(161).period, 'the tariff rule of tariff 20').to.equal(12);
    expect(lic(162).period, 'the global rule for another tariff').to.equal(1);
    // Renewal (no database read): the same rule gives the period it prolongs by.
    w.setDay('2027-01-08');
    expect((await w.command('prolong', { item: 161, ro: 63 })).code).to.equal(0);
    const prolongs = w.requests('service.prolong');
    expect(prolongs).to.have.length(1);
    expect(prolongs[0]!.params.period).to.equal('12');
  });
});
