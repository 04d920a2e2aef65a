// Many module processes at once on one state file (SPEC 5.5: "two services must never get the
// same license, also when BILLmanager runs many module processes at once"). Real processes, not
// one event loop.
import { expect } from 'chai';
import { pooled } from '../support/pool.js';
import { World } from '../support/world.js';

describe('parallel opens', function () {
  this.timeout(180_000);
  let w: World;
  before(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  after(async () => {
    await w.close();
  });

  it('8 processes, 8 services, 3 eligible pooled licenses: 3 re-used, 5 bought, none bound twice', async () => {
    const pool: number[] = [];
    for (let i = 0; i < 3; i++) pool.push(await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: `2026-0${6 + i}-01`, ip: `198.51.100.${i + 1}` }));
    const items = [201, 202, 203, 204, 205, 206, 207, 208];
    for (const item of items) w.addService({ id: item, ip: `203.0.113.${item - 100}`, expiredate: '2026-02-10' });
    const results = await Promise.all(items.map((item) => w.command('open', { item, ro: item })));
    results.forEach((r, i) => expect(r.code, `item ${items[i]}: ${r.stdout}`).to.equal(0));

    expect(w.purchases()).to.equal(5);
    const bound = w.store((s) => items.map((item) => s.licenseOfService(item)!.upstreamId));
    expect(new Set(bound).size).to.equal(8);
    expect(bound.filter((id) => pool.includes(id))).to.have.members(pool);
    for (const item of items) {
      const lic = w.store((s) => s.licenseOfService(item))!;
      const up = w.sandbox.license(lic.upstreamId)!;
      expect(up.licname, `item ${item}`).to.equal(`Item #${item}`);
      expect(up.ip).to.equal(`203.0.113.${item - 100}`);
      expect(w.host.sim.service(item)!.params.license_id).to.equal(String(lic.upstreamId));
    }
  });

  it('the same service opened by 4 processes at once is bought once', async () => {
    w.addService({ id: 220, ip: '203.0.113.220', expiredate: '2026-02-10' });
    const before = w.purchases();
    const results = await Promise.all([1, 2, 3, 4].map(() => w.command('open', { item: 220, ro: 220 })));
    results.forEach((r) => expect(r.code, r.stdout).to.equal(0));
    expect(w.purchases() - before).to.equal(1);
  });
});
