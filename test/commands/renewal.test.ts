// The renewal rule end to end (SPEC 5.3, 5.7): prolong, resume and the daily maintain.
import { expect } from 'chai';
import { addDays, addMonths } from '../../src/dates.js';
import { pooled } from '../support/pool.js';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from '../support/world.js';

describe('renewal (prolong, maintain)', function () {
  this.timeout(120_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  async function openMonthly(item: number, serviceExpires: string): Promise<number> {
    w.addService({ id: item, ip: `203.0.113.${item % 200}`, period: '1', expiredate: serviceExpires });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(item))!.upstreamId;
  }

  it('buys nothing while the license has more than 5 days left', async () => {
    const id = await openMonthly(120, '2026-04-10');
    w.setDay('2026-02-04'); // license expires 2026-02-10: 6 days left
    expect((await w.command('prolong', { item: 120, ro: 1 })).code).to.equal(0);
    expect(w.sandbox.prolongs()).to.equal(0);
    expect(w.sandbox.license(id)!.expiredate).to.equal('2026-02-10');
  });

  it('buys one period within the lead when the service is paid beyond the license', async () => {
    const id = await openMonthly(121, '2026-04-10');
    w.setDay('2026-02-05');
    expect((await w.command('prolong', { item: 121, ro: 1 })).code).to.equal(0);
    expect(w.sandbox.prolongs()).to.equal(1);
    expect(w.sandbox.license(id)!.expiredate).to.equal('2026-03-10');
    expect(w.host.sim.service(121)!.params.license_expiredate).to.equal('2026-03-10');
    expect(w.host.sim.calls('service.postprolong')).to.have.length(1);
  });

  it('buys nothing when the service is not paid beyond the license', async () => {
    await openMonthly(122, '2026-02-10');
    w.setDay('2026-02-08');
    expect((await w.command('prolong', { item: 122, ro: 1 })).code).to.equal(0);
    expect(w.sandbox.prolongs()).to.equal(0);
  });

  it('maintain walks a service paid a year ahead month by month', async () => {
    const id = await openMonthly(123, '2027-01-10');
    let day = w.day;
    const seen: string[] = [];
    while (day < '2027-01-10') {
      day = addDays(day, 1);
      w.setDay(day);
      if (day.endsWith('-05') || day.endsWith('-06')) {
        const r = await w.exec(['maintain']);
        expect(r.code, r.stdout + r.stderr).to.equal(0);
        seen.push(`${day}:${w.sandbox.license(id)!.expiredate}`);
      }
    }
    // Every month from February to December: bought on the 5th (5 days before the 10th), nothing
    // again on the 6th; in January 2027 the license already covers the service's last day.
    expect(w.sandbox.prolongs()).to.equal(11);
    expect(w.sandbox.license(id)!.expiredate).to.equal('2027-01-10');
    expect(seen[0]).to.equal('2026-02-05:2026-03-10');
    expect(seen[1]).to.equal('2026-02-06:2026-03-10');
    expect(w.purchases()).to.equal(1);
  });

  it('buys nothing for a suspended service, a lifetime license, or a pooled license', async () => {
    await openMonthly(124, '2026-06-10');
    expect((await w.command('suspend', { item: 124, ro: 2 })).code).to.equal(0);
    w.host.sim.updateService(124, { status: 3 });
    expect((await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '12', '--target', '0'])).code).to.equal(0);
    w.addService({ id: 125, ip: '203.0.113.125', period: '12', expiredate: '2027-01-10' });
    expect((await w.command('open', { item: 125, ro: 3 })).code).to.equal(0);
    await pooled(w, { period: 1, createdate: '2025-12-12', expiredate: '2026-02-12' });
    w.setDay('2026-02-09');
    expect((await w.command('prolong', { item: 124, ro: 4 })).code).to.equal(0);
    const m = await w.exec(['maintain']);
    expect(m.code, m.stdout + m.stderr).to.equal(0);
    expect(w.sandbox.prolongs()).to.equal(0);
  });

  it('resume prolongs a license that expired meanwhile, then resumes it', async () => {
    const id = await openMonthly(126, '2026-02-10');
    expect((await w.command('suspend', { item: 126, ro: 5 })).code).to.equal(0);
    expect(w.sandbox.license(id)!.manualSuspended).to.equal(true);
    w.setDay('2026-02-20');
    w.host.sim.updateService(126, { status: 3, expiredate: '2026-03-20' }); // the customer paid while suspended
    expect((await w.command('resume', { item: 126, ro: 6 })).code).to.equal(0);
    const lic = w.sandbox.license(id)!;
    expect(lic.status).to.equal(2);
    expect(lic.expiredate).to.equal(addMonths('2026-02-20', 1));
    expect(w.store((s) => s.licenseOfService(126))!.state).to.equal('bound');
  });

  it('maintain drops expired pooled licenses and turns auto-renewal off on pooled ones', async () => {
    const expiring = await pooled(w, { period: 1, createdate: '2025-12-12', expiredate: '2026-01-12' });
    const renewing = await pooled(w, { period: 12, createdate: '2025-12-12', expiredate: '2026-12-12' });
    w.setDay('2026-01-13');
    await turnAutoRenewalOn(w, renewing); // by hand upstream, behind the module's back

    const m = await w.exec(['maintain']);
    expect(m.code, m.stdout + m.stderr).to.equal(0);
    expect(w.store((s) => s.license(MODULE, expiring))!.state).to.equal('gone');
    expect(w.sandbox.license(renewing)!.autoprolongOn).to.equal(false);
    expect(w.store((s) => s.license(MODULE, renewing))!.state).to.equal('free');
  });

  it('maintain fails (exit 1) when a license fails but still handles the others', async () => {
    await openMonthly(127, '2026-06-10');
    await openMonthly(128, '2026-06-10');
    w.setDay('2026-02-06');
    w.sandbox.inject({ kind: 'http500', func: 'service.prolong', count: 1 });
    const m = await w.exec(['maintain']);
    expect(m.code).to.equal(1);
    expect(m.stdout).to.match(/1 license\(s\) handled, 1 failed/);
    expect(w.sandbox.prolongs()).to.equal(1);
  });
});

/** Turns auto-renewal on for a license through the licensing server's API, as an administrator would. */
async function turnAutoRenewalOn(w: World, id: number): Promise<void> {
  const url = w.sandbox.url;
  const body = new URLSearchParams({ authinfo: `${SANDBOX_USER}:${SANDBOX_PASSWORD}`, out: 'xml', func: 'soft.edit', elid: String(id), sok: 'ok', autoprolong: '12' }).toString();
  const http = await import('node:http');
  await new Promise<void>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
  expect(w.sandbox.license(id)!.autoprolongOn).to.equal(true);
}
