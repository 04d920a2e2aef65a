// The "License pool" page (SPEC 8, 5.5): every managed license with its tariff, IP, state (the raw
// key of a type="msg" column), service, paid-until date, when it can be re-used and why not
// before, paid days; the summary banner; all rows whatever page COREmanager asks for.
// (Adopt and Reconcile: test/panel/adopt-reconcile.test.ts; the conventions: conventions.test.ts.)
import { expect } from 'chai';
import { child, childText, childrenNamed } from '../../src/xml.js';
import { seedLicenses } from '../support/seed-state.js';
import { World } from '../support/world.js';
import { errorOf, rows, runPanelExe } from './run.js';

describe('panel: License pool', function () {
  this.timeout(30_000);
  let w: World;
  before(async () => {
    w = await World.create(); // today is 2026-01-10
    const base = { module: 1, period: 1, item: null, ipChangeDate: null, keyChangeDate: null, hasKey: true };
    seedLicenses(w.db, [
      { ...base, upstreamId: 501, pricelist: '3541', tariffName: 'ISPmanager Lite', state: 'free', ip: '203.0.113.1', expiredate: '2026-02-09', ipChangeDate: '2025-12-01' },
      { ...base, upstreamId: 502, pricelist: '4601', state: 'free', ip: '203.0.113.2', expiredate: '2026-03-10', ipChangeDate: '2026-01-05' },
      { ...base, upstreamId: 503, pricelist: '3541', state: 'bound', item: 77, ip: '203.0.113.3', expiredate: '2026-02-01' },
      { ...base, upstreamId: 504, pricelist: '3541', state: 'gone', ip: '203.0.113.4', expiredate: '2025-12-01' },
      { ...base, upstreamId: 505, pricelist: '55331', state: 'free', period: 0, ip: '203.0.113.5', expiredate: null },
      { ...base, upstreamId: 506, pricelist: '9<9>&\u0007', state: 'free', ip: '203.0.113.6', expiredate: null },
      { ...base, module: 2, upstreamId: 601, pricelist: '3541', state: 'free', ip: '203.0.113.9', expiredate: '2026-05-01' },
    ]);
    w.store((s) => {
      const reused = s.startJournal({ module: 1, item: 9, kind: 'reuse', upstreamId: 501, pricelist: '3541', ip: '203.0.113.1', period: 1 });
      s.finishJournal(reused.id, 'reused');
      const failed = s.startJournal({ module: 1, item: 10, kind: 'reuse', upstreamId: 502, pricelist: '4601', ip: '203.0.113.2', period: 1 });
      s.finishJournal(failed.id, 'not re-usable: ip changed');
    });
  });
  after(async () => {
    await w.close();
  });

  it('lists the module\'s licenses with the summary banner: 4 in the pool, 91 paid days (and 1 lifetime), 1 re-use', async () => {
    const a = await runPanelExe(w, { fixture: 'pool-list.xml' });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc)).to.equal(null);
    expect([childText(a.doc, 'pool_licenses'), childText(a.doc, 'pool_paiddays'), childText(a.doc, 'pool_lifetime'), childText(a.doc, 'pool_reuses')]).to.deep.equal(['4', '91', '1', '1']);
    const banner = child(a.doc, 'banner')!;
    expect(banner.attrs).to.deep.equal({ id: 'pmisplicense_pool_summary', status: '3' });
    expect(Object.fromEntries(childrenNamed(banner, 'param').map((p) => [p.attrs.name, p.text]))).to.deep.equal({ licenses: '4', paiddays: '91', lifetime: '1', reuses: '1' });
    expect(childText(banner, 'msg')).to.equal('Licenses in the pool: 4 (lifetime: 1); paid days they hold: 91; re-uses so far (purchases avoided): 1.');
    // Issue 16: the re-use's value at the sandbox's price (3541, one month: 10 EUR) and the advice line.
    const byId = Object.fromEntries(childrenNamed(a.doc, 'banner').map((b) => [b.attrs.id, b]));
    expect(childText(byId.pmisplicense_pool_value!, 'msg')).to.equal("Re-uses avoided 1 purchases worth 10.00 EUR at today's prices.");
    expect(childText(byId.pmisplicense_pool_advice!, 'msg')).to.equal('Period advice: no service history recorded yet (pmisplicense advise --module 1).');
    const r = rows(a.doc);
    expect(r.map((x) => x.id)).to.deep.equal(['501', '502', '503', '504', '505', '506']);
    expect(r[0]).to.deep.equal({ id: '501', tariff: 'ISPmanager Lite (3541)', ip: '203.0.113.1', state: 'free', item: '', expiredate: '2026-02-09', reusable: 'Now', paiddays: '31' });
    expect(r[1]).to.deep.include({ state: 'free', reusable: 'From 2026-02-05: IP changed on 2026-01-05 (one change per calendar month)', paiddays: '60' });
    expect(r[2]).to.deep.include({ state: 'bound', item: '77', reusable: 'In use by service 77', paiddays: '23' });
    expect(r[3]).to.deep.include({ state: 'gone', paiddays: '0' });
    expect(r[4]).to.deep.include({ expiredate: 'Lifetime', paiddays: 'Lifetime', reusable: 'Now' });
    expect(r[5]).to.deep.include({ tariff: '#9<9>&', expiredate: '', paiddays: '' });
    expect(r[5]!.reusable).to.match(/paid time is not known/);
    expect(a.stdout).to.not.include('\u0007');
    expect(childrenNamed(a.doc, 'p_elems'), 'COREmanager counts the rows itself').to.deep.equal([]);
  });

  it('in Russian, asked for page 2 of 2 rows: every row (COREmanager pages), the paging parameters back as given', async () => {
    const a = await runPanelExe(w, { fixture: 'pool-list-ru-page.xml' });
    expect(rows(a.doc).map((x) => [x.id, x.state])).to.deep.equal([
      ['501', 'free'],
      ['502', 'free'],
      ['503', 'bound'],
      ['504', 'gone'],
      ['505', 'free'],
      ['506', 'free'],
    ]);
    expect(rows(a.doc)[0]!.reusable).to.equal('Сейчас');
    expect(childText(child(a.doc, 'banner')!, 'msg')).to.equal('Лицензий в пуле: 4 (из них бессрочных: 1); оплаченных дней в них: 91; повторных использований (покупок не понадобилось): 1.');
    // Given in <tparams>: they come back there, untouched, and not a second time.
    expect([childText(child(a.doc, 'tparams')!, 'p_num'), childText(child(a.doc, 'tparams')!, 'p_cnt')]).to.deep.equal(['2', '2']);
    expect(childrenNamed(a.doc, 'p_num')).to.deep.equal([]);
    expect(childrenNamed(a.doc, 'p_elems')).to.deep.equal([]);
  });

  it('refuses a customer', async () => {
    const a = await runPanelExe(w, { fixture: 'pool-list.xml', level: '16' });
    expect(errorOf(a.doc)).to.deep.include({ type: 'access' });
    expect(rows(a.doc)).to.deep.equal([]);
  });

  it('a module the host does not know is a value error naming elid', async () => {
    const a = await runPanelExe(w, { fixture: 'pool-list.xml', params: { elid: '42' } });
    expect(errorOf(a.doc)).to.deep.include({ type: 'value', object: 'elid' });
  });
});
