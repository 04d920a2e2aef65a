// A closed service (BILLmanager status 4) gets no license: open, setparam and resume of one buy and
// bind nothing (an old operation restarted by hand can send them; the stress run found a setparam
// of a closed service buying a license for nobody).
import { expect } from 'chai';
import { pooled } from '../support/pool.js';
import { World } from '../support/world.js';

describe('a closed service buys and binds nothing', function () {
  this.timeout(90_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  for (const command of ['open', 'setparam', 'resume'] as const) {
    it(`${command}: a value error naming the status, no purchase, no re-use, the service names nothing`, async () => {
      const free = await pooled(w, { pricelist: '3541', period: 12, createdate: '2025-06-01', expiredate: '2026-06-01', ip: '198.51.100.7' });
      w.addService({ id: 150, ip: '203.0.113.150', expiredate: '2026-02-10', status: 4 });
      const r = await w.command(command, { item: 150, ro: 50 });
      expect(r.code, r.stdout).to.equal(1);
      expect(r.stdout).to.match(/<error type="value" object="status"/).and.to.match(/closed/);
      expect(w.purchases()).to.equal(0);
      expect(w.requests('soft.order.param')).to.have.length(0);
      expect(w.sandbox.license(free)!.licname).to.equal('free.lic');
      expect(w.store((s) => s.licenseOfService(150))).to.equal(null);
      expect(w.host.sim.service(150)!.params.license_id ?? '').to.equal('');
    });
  }
});
