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
    expect(table).to.match(/tariff 3541: 0 bound, 2 free, 1 re-usable now/);
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
});
