// The "License pool" page (SPEC 8, 5.5): every managed license with its tariff, IP, state, service,
// paid-until date, when it can be re-used and why not before, paid days; the summary line; paging.
// (Adopt and Reconcile: test/panel/adopt-reconcile.test.ts.)
import { expect } from 'chai';
import { child, childText } from '../../src/xml.js';
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

  it('lists the module\'s licenses with the summary line: 4 in the pool, 91 paid days (and 1 lifetime), 1 re-use', async () => {
    const a = await runPanelExe(w, { fixture: 'pool-list.xml' });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc)).to.equal(null);
    expect([childText(a.doc, 'pool_licenses'), childText(a.doc, 'pool_paiddays'), childText(a.doc, 'pool_reuses')]).to.deep.equal(['4', '91', '1']);
    expect(childText(child(a.doc, 'banner')!, 'msg')).to.equal('Licenses in the pool: 4; paid days they hold: 91 (plus 1 lifetime); re-uses so far (purchases avoided): 1.');
    const r = rows(a.doc);
    expect(r.map((x) => x.id)).to.deep.equal(['501', '502', '503', '504', '505', '506']);
    expect(r[0]).to.deep.equal({ id: '501', tariff: 'ISPmanager Lite (3541)', ip: '203.0.113.1', state: 'Free (in the pool)', item: '', expiredate: '2026-02-09', reusable: 'Now', paiddays: '31' });
    expect(r[1]).to.deep.include({ state: 'Free (in the pool)', reusable: 'From 2026-02-05: IP changed on 2026-01-05 (one change per calendar month)', paiddays: '60' });
    expect(r[2]).to.deep.include({ state: 'Bound', item: '77', reusable: 'In use by service 77', paiddays: '23' });
    expect(r[3]).to.deep.include({ state: 'Gone', paiddays: '0' });
    expect(r[4]).to.deep.include({ expiredate: 'Lifetime', paiddays: 'Lifetime', reusable: 'Now' });
    expect(r[5]).to.deep.include({ tariff: '#9<9>&', expiredate: '', paiddays: '' });
    expect(r[5]!.reusable).to.match(/paid time is not known/);
    expect(a.stdout).to.not.include('\u0007');
    expect([childText(a.doc, 'p_elems'), childText(a.doc, 'p_num')]).to.deep.equal(['6', '1']);
  });

  it('pages in Russian: page 2 of 2 rows', async () => {
    const a = await runPanelExe(w, { fixture: 'pool-list-ru-page.xml' });
    expect(rows(a.doc).map((x) => [x.id, x.state])).to.deep.equal([
      ['503', 'Привязана'],
      ['504', 'Выбыла'],
    ]);
    expect(childText(child(a.doc, 'banner')!, 'msg')).to.match(/^В пуле лицензий: 4;/);
    expect([childText(a.doc, 'p_elems'), childText(a.doc, 'p_num'), childText(a.doc, 'p_cnt')]).to.deep.equal(['6', '2', '2']);
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
