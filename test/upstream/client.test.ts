import { expect } from 'chai';
import { LicensingClient, LIST_PAGE_SIZE } from '../../src/upstream/client.js';
import { startLicensingServer, type LicensingSandbox } from '../../src/sandbox/licensing-server.js';
import {
  BadInputError,
  CredentialsError,
  LicenseMissingError,
  ModuleError,
  TransportError,
  UpstreamRefusalError,
} from '../../src/errors.js';
import { rejects } from '../support/rejects.js';
import { byFunc, startCanned, fixture, type CannedServer, type Handler } from './canned.js';

const USER = 'reseller@example.com';
const PASS = 'Fixture-Pa55word!';


describe('upstream/client: LicensingClient against recorded replies', () => {
  let srv: CannedServer;
  let handler: Handler = byFunc({});
  const client = () => new LicensingClient({ url: srv.url, username: USER, password: PASS }, { timeoutMs: 2000 });

  before(async () => {
    srv = await startCanned((func, form) => handler(func, form));
  });
  after(() => srv.close());
  beforeEach(() => {
    srv.requests.length = 0;
  });

  describe('requests', () => {
    it('POSTs a form with authinfo, out, lang, func, then the params; nothing in the URL', async () => {
      handler = byFunc({ 'soft.edit': 'soft.edit.xml' });
      await client().get(1048576);
      const r = srv.requests[0]!;
      expect(r.method).to.equal('POST');
      expect(r.url).to.equal('/billmgr');
      expect(r.headers['content-type']).to.match(/^application\/x-www-form-urlencoded/);
      expect([...r.form.keys()]).to.deep.equal(['authinfo', 'out', 'lang', 'func', 'elid']);
      expect(r.form.get('authinfo')).to.equal(`${USER}:${PASS}`);
      expect(r.form.get('out')).to.equal('xml');
      expect(r.form.get('lang')).to.equal('en');
      expect(r.form.get('func')).to.equal('soft.edit');
      expect(r.form.get('elid')).to.equal('1048576');
      expect(r.url).not.to.include(PASS);
    });

    it('auth sends username and password instead of authinfo and needs <auth>', async () => {
      handler = byFunc({ auth: 'auth.xml' });
      await client().auth();
      const f = srv.requests[0]!.form;
      expect(f.get('func')).to.equal('auth');
      expect(f.get('username')).to.equal(USER);
      expect(f.get('password')).to.equal(PASS);
      expect(f.has('authinfo')).to.equal(false);
      handler = byFunc({ auth: 'ok.xml' });
      expect((await rejects(client().auth(), TransportError)).message).to.match(/broken reply to auth/);
    });

    it('order sends the fixed order fields, autoprolong=null, remoteid and addons', async () => {
      handler = byFunc({ 'soft.order.param': 'order.xml' });
      const id = await client().order({ pricelist: '4601', period: 12, ip: '203.0.113.10', licname: 'Item #5', remoteid: '5', addons: { addon_4602: '3' } });
      expect(id).to.equal(1048580);
      const f = srv.requests[0]!.form;
      expect(Object.fromEntries([...f].filter(([k]) => k !== 'authinfo'))).to.deep.equal({
        out: 'xml', lang: 'en', func: 'soft.order.param', clicked_button: 'finish', sok: 'ok', skipbasket: 'on',
        pricelist: '4601', period: '12', ip: '203.0.113.10', licname: 'Item #5', autoprolong: 'null', remoteid: '5', addon_4602: '3',
      });
    });

    it('order takes the id from <item.id> when <id> is absent; no id at all is a broken reply', async () => {
      handler = byFunc({ 'soft.order.param': 'order.itemid.xml' });
      const req = { pricelist: '3541', period: 1, ip: '203.0.113.10', licname: 'Item #5', remoteid: '5', addons: {} };
      expect(await client().order(req)).to.equal(1048581);
      handler = byFunc({ 'soft.order.param': 'ok.xml' });
      expect((await rejects(client().order(req), TransportError)).message).to.match(/broken reply.*may have been placed/);
    });

    it('refuses bad order input before calling the server', async () => {
      handler = byFunc({ 'soft.order.param': 'order.xml' });
      const base = { pricelist: '3541', period: 1, ip: '203.0.113.10', licname: 'Item #5', remoteid: '5', addons: {} };
      await rejects(client().order({ ...base, period: 3 }), BadInputError);
      await rejects(client().order({ ...base, addons: { authinfo: 'x' } }), BadInputError);
      await rejects(client().prolong(1, 0), BadInputError);
      await rejects(client().get(0), BadInputError);
      expect(srv.requests).to.have.length(0);
    });

    it('edit(autoprolong:false) sends autoprolong=null with sok=ok and reads a nested reply', async () => {
      handler = byFunc({ 'soft.edit': 'soft.edit.nested.xml' });
      const lic = await client().edit(1048576, { licname: 'free.lic', autoprolong: false });
      const f = srv.requests[0]!.form;
      expect(f.get('sok')).to.equal('ok');
      expect(f.get('licname')).to.equal('free.lic');
      expect(f.get('autoprolong')).to.equal('null');
      expect(f.has('ip')).to.equal(false);
      expect(lic).to.deep.include({ id: 1048576, licname: 'free.lic', pricelist: '3541', period: 12, status: 3, autoprolong: false, lickey: 'FIXTUREKEY-nested-0c1d2e3f' });
    });

    it('edit(autoprolong:true) sends the license period', async () => {
      handler = byFunc({ 'soft.edit': 'soft.edit.xml' });
      await client().edit(1048576, { autoprolong: true });
      expect(srv.requests.map((r) => r.form.get('autoprolong'))).to.deep.equal([null, '1']);
    });

    it('edit reads the license back when the reply only acknowledges', async () => {
      handler = (func, form) => ({ body: fixture(form.get('sok') ? 'ok.xml' : 'soft.edit.xml') });
      const lic = await client().edit(1048576, { ip: '203.0.113.10' });
      expect(lic.id).to.equal(1048576);
      expect(srv.requests).to.have.length(2);
      expect(srv.requests[1]!.form.has('sok')).to.equal(false);
    });

    it('prolong sends elid, period, sok=ok and returns newexpiredate', async () => {
      handler = byFunc({ 'service.prolong': 'prolong.xml' });
      expect(await client().prolong(1048576, 1)).to.equal('2025-04-14');
      const f = srv.requests[0]!.form;
      expect([f.get('elid'), f.get('period'), f.get('sok')]).to.deep.equal(['1048576', '1', 'ok']);
      handler = byFunc({ 'service.prolong': 'ok.xml' });
      await rejects(client().prolong(1048576, 12), TransportError);
    });

    it('suspend, resume and delete send their funcs', async () => {
      handler = byFunc({ 'soft.suspend': 'ok.xml', 'soft.resume': 'ok.xml', 'soft.delete': 'ok.xml' });
      const c = client();
      await c.suspend(7);
      await c.resume(7);
      await c.delete(7);
      expect(srv.requests.map((r) => [r.form.get('func'), r.form.get('elid'), r.form.get('sok')])).to.deep.equal([
        ['soft.suspend', '7', null],
        ['soft.resume', '7', null],
        ['soft.delete', '7', 'ok'],
      ]);
    });

    it('newKey sends clicked_button=newkey and returns the flat /doc/lickey', async () => {
      handler = byFunc({ 'soft.edit': 'soft.edit.newkey.xml' });
      expect(await client().newKey(1048576)).to.equal('FIXTUREKEY-new-5a6b7c8d9e');
      const f = srv.requests[0]!.form;
      expect([f.get('sok'), f.get('clicked_button')]).to.deep.equal(['ok', 'newkey']);
    });
  });

  describe('parsing', () => {
    it('reads the list: pricelist_id preferred, status, dates, change dates, autoprolong', async () => {
      handler = byFunc({ soft: 'soft.list.xml' });
      const list = await client().list();
      expect(list).to.have.length(3);
      expect(list[0]).to.deep.equal({
        id: 1048576, licname: 'Item #5', ip: '203.0.113.10', pricelist: '55227', pricelistName: 'ISPmanager 6 Lite', period: 1, status: 2,
        expiredate: '2025-03-14', createdate: '2025-01-15', lickey: '', ipChangeDate: '2025-01-15',
        keyChangeDate: '2025-02-01', autoprolong: true, remoteid: '5',
      });
      expect(list[1]).to.deep.include({ pricelist: '3541', period: 12, status: 3, ipChangeDate: null, keyChangeDate: null, autoprolong: false, remoteid: '' });
      expect(list[2]).to.deep.include({ ip: '2001:db8::9', pricelist: '55331', period: 0, status: 5, autoprolong: false });
    });

    it('reads soft.edit: elid, key, ip_change_date / lickey_change_date, autoprolong off', async () => {
      handler = byFunc({ 'soft.edit': 'soft.edit.xml' });
      expect(await client().get(1048576)).to.deep.equal({
        id: 1048576, licname: 'Item #5', ip: '203.0.113.10', pricelist: '55227', pricelistName: 'ISPmanager 6 Lite', period: 1, status: 2,
        expiredate: '2025-03-14', createdate: '2025-01-15', lickey: 'FIXTUREKEY-7f3a9c2e41b8d605',
        ipChangeDate: '2025-01-15', keyChangeDate: '2025-02-01', autoprolong: false, remoteid: '5',
      });
    });

    it('a license whose key is not ready has lickey ""', async () => {
      handler = byFunc({ 'soft.edit': 'soft.edit.nokey.xml' });
      expect(await client().get(1048579)).to.deep.include({ status: 5, lickey: '', autoprolong: false, pricelist: '55228' });
    });

    it('soft.edit without elid/status, or for another license, is a broken reply', async () => {
      handler = byFunc({ 'soft.edit': 'soft.edit.incomplete.xml' });
      expect((await rejects(client().get(1048576), TransportError)).message).to.match(/broken reply to soft.edit: license without elid/);
      handler = byFunc({ 'soft.edit': 'soft.edit.xml' });
      expect((await rejects(client().get(42), TransportError)).message).to.match(/asked for license 42/);
      handler = byFunc({ 'soft.edit': { body: '<doc><elid>5</elid><status>9</status><period>1</period></doc>' } });
      expect((await rejects(client().get(5), TransportError)).message).to.match(/status "9"/);
    });

    it('unparseable, HTML and DOCTYPE replies are retryable broken replies', async () => {
      for (const f of ['broken.xml', 'html.xml', 'doctype.xml']) {
        handler = byFunc({ 'soft.edit': f });
        const e = await rejects(client().get(1048576), TransportError);
        expect(e.message, f).to.match(/broken reply to soft.edit/);
        expect(e.retryable).to.equal(true);
      }
      handler = byFunc({ 'soft.edit': 'doctype.xml' });
      expect((await rejects(client().get(1048576), TransportError)).message).to.match(/DOCTYPE/);
      handler = byFunc({ 'soft.edit': { body: '' } });
      await rejects(client().get(1048576), TransportError);
    });
  });

  describe('error classification', () => {
    it('type auth → CredentialsError', async () => {
      handler = byFunc({ 'soft.edit': 'error.auth.xml' });
      const e = await rejects(client().get(1), CredentialsError);
      expect(e.message).to.include('Invalid username or password');
      expect(e.retryable).to.equal(false);
    });

    it('type access → CredentialsError', async () => {
      handler = byFunc({ 'soft.order.param': 'error.access.xml' });
      const e = await rejects(client().order({ pricelist: '3541', period: 1, ip: '203.0.113.1', licname: 'Item #1', remoteid: '1', addons: {} }), CredentialsError);
      expect(e.message).to.include("Access to the function 'soft.order.param' denied");
    });

    it('type missed with object elid → LicenseMissingError with the id', async () => {
      handler = byFunc({ 'soft.edit': 'error.missed.elid.xml', 'soft.delete': 'error.missed.elid.xml' });
      const e = await rejects(client().get(1048599), LicenseMissingError);
      expect(e.value).to.equal('1048599');
      expect(e.message).to.include("does not exist");
      await rejects(client().delete(1048599), LicenseMissingError);
    });

    it('missed with another object, and unknown types → UpstreamRefusalError carrying msg', async () => {
      const req = { pricelist: '99999', period: 1, ip: '203.0.113.1', licname: 'Item #1', remoteid: '1', addons: {} };
      handler = byFunc({ 'soft.order.param': 'error.missed.pricelist.xml' });
      let e = await rejects(client().order(req), UpstreamRefusalError);
      expect([e.upstreamType, e.upstreamObject]).to.deep.equal(['missed', 'pricelist']);
      expect(e.message).to.include("The tariff plan '99999' does not exist").and.include('soft.order.param');
      handler = byFunc({ 'soft.order.param': 'error.unknown.xml' });
      e = await rejects(client().order(req), UpstreamRefusalError);
      expect([e.upstreamType, e.upstreamObject, e.retryable]).to.deep.equal(['balance', 'account', false]);
      expect(e.message).to.include('Insufficient funds on the account: 120.00 RUB needed');
    });

    it('an <error> inside a nested <doc> is classified too', async () => {
      handler = byFunc({ 'soft.edit': 'error.nested.xml' });
      const e = await rejects(client().edit(1048576, { ip: '203.0.113.99' }), UpstreamRefusalError);
      expect(e.message).to.include('can be changed once a month');
    });

    it('every failure is a ModuleError', async () => {
      handler = byFunc({ 'soft.edit': { status: 500, body: fixture('soft.edit.xml') } });
      expect(await client().get(1).catch((e: unknown) => e)).to.be.instanceOf(ModuleError);
    });
  });

  describe('constructor', () => {
    it('validates the URL and the credentials', () => {
      expect(() => new LicensingClient({ url: 'http://api.ispsystem.com/billmgr', username: USER, password: PASS })).to.throw(BadInputError, /plain http/);
      expect(() => new LicensingClient({ url: 'https://api.ispsystem.com/billmgr', username: '', password: PASS })).to.throw(BadInputError, /user name/);
      expect(() => new LicensingClient({ url: 'https://api.ispsystem.com/billmgr', username: USER, password: '' })).to.throw(BadInputError, /password/);
    });
  });
});

/** A `func=soft` reply: the rows by id, with the paging fields given (none = an unpaged list). */
function softPage(ids: number[], paging: { elems?: string | number; num?: number } = {}): string {
  const fields = (paging.elems === undefined ? '' : `<p_elems>${paging.elems}</p_elems>`) + (paging.num === undefined ? '' : `<p_num>${paging.num}</p_num>`);
  const rows = ids.map((id) => `<elem><id>${id}</id><licname>Item #${id}</licname><ip>192.0.2.1</ip><pricelist_id>3541</pricelist_id><period>1</period><status>2</status><expiredate>2025-03-01</expiredate></elem>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<doc>${fields}${rows.join('')}</doc>`;
}

describe('upstream/client: list() reads whole lists (SPEC 7 paging), recorded replies', () => {
  let srv: CannedServer;
  /** Page number asked → reply; the count of soft requests so far is passed too. */
  let pages: (num: number, nth: number) => string = () => softPage([]);
  let softCalls = 0;
  const client = (opts: { maxListPages?: number } = {}) => new LicensingClient({ url: srv.url, username: USER, password: PASS }, { timeoutMs: 2000, ...opts });

  before(async () => {
    srv = await startCanned((func, form) => {
      if (func !== 'soft') return { body: '<doc><error type="missed" object="func"><msg>no</msg></error></doc>' };
      softCalls++;
      return { body: pages(Number(form.get('p_num') ?? '1'), softCalls) };
    });
  });
  after(() => srv.close());
  beforeEach(() => {
    srv.requests.length = 0;
    softCalls = 0;
  });

  it('asks p_cnt=1000 and no p_num first; a list without p_elems is complete as it is', async () => {
    pages = () => softPage([7, 8, 9]);
    expect((await client().list()).map((l) => l.id)).to.deep.equal([7, 8, 9]);
    expect(srv.requests).to.have.length(1);
    expect(srv.requests[0]!.form.get('p_cnt')).to.equal(String(LIST_PAGE_SIZE));
    expect(srv.requests[0]!.form.has('p_num')).to.equal(false);
  });

  it('reads p_num=2, 3… while it has fewer rows than p_elems', async () => {
    pages = (num) => softPage(num === 1 ? [1, 2, 3] : num === 2 ? [4, 5, 6] : [7], { elems: 7, num });
    expect((await client().list()).map((l) => l.id)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(srv.requests.map((r) => [r.form.get('p_cnt'), r.form.get('p_num')])).to.deep.equal([['1000', null], ['1000', '2'], ['1000', '3']]);
  });

  it('a p_elems larger than what the pages bring (a lying count) is an error, not a short list', async () => {
    pages = (num) => softPage(num === 1 ? [1, 2, 3] : [], { elems: 5, num });
    const e = await rejects(client().list(), TransportError);
    expect(e.message).to.match(/broken reply to soft: page 2 of the list brought no new license while 2 of 5 are missing/);
    expect(e.retryable).to.equal(true);
  });

  it('a p_elems smaller than the rows, or not a number, is a broken reply', async () => {
    pages = (num) => softPage([1, 2, 3], { elems: 2, num });
    expect((await rejects(client().list(), TransportError)).message).to.match(/3 licenses on 1 page\(s\) of a list of 2/);
    for (const elems of ['lots', '', '-1', '2.5']) {
      pages = (num) => softPage([1, 2, 3], { elems, num });
      expect((await rejects(client().list(), TransportError)).message, elems).to.match(/p_elems ".*" is not a number of rows/);
    }
  });

  it('a server that ignores p_num (page 1 again) is an error, with or without p_num in the reply', async () => {
    pages = () => softPage([1, 2, 3], { elems: 6, num: 1 });
    expect((await rejects(client().list(), TransportError)).message).to.match(/asked for page 2 of the list, got page 1/);
    pages = () => softPage([1, 2, 3], { elems: 6 });
    expect((await rejects(client().list(), TransportError)).message).to.match(/page 2 of the list brought no new license while 3 of 6 are missing/);
  });

  it('duplicate ids across pages that leave it short are an error', async () => {
    pages = (num) => softPage(num === 1 ? [1, 2, 3] : num === 2 ? [3, 4, 5] : [5], { elems: 6, num });
    expect((await rejects(client().list(), TransportError)).message).to.match(/page 3 .*brought no new license while 1 of 6 are missing/);
  });

  it('a later page without p_elems is an error', async () => {
    pages = (num) => (num === 1 ? softPage([1, 2], { elems: 4, num }) : softPage([3, 4]));
    expect((await rejects(client().list(), TransportError)).message).to.match(/page 2 of the list carries no p_elems although page 1 did/);
  });

  it('a list whose size changes between pages is read again from page 1; one that keeps changing is an error', async () => {
    // First pass: 4 licenses, then a fifth appears before page 2; the second pass sees 5 throughout.
    pages = (num, nth) => (nth === 1 ? softPage([1, 2, 3], { elems: 4, num }) : softPage(num === 1 ? [1, 2, 3] : [4, 5], { elems: 5, num }));
    expect((await client().list()).map((l) => l.id)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(srv.requests.map((r) => r.form.get('p_num'))).to.deep.equal([null, '2', null, '2']);
    pages = (num, nth) => softPage(num === 1 ? [1, 2, 3] : [4, 5], { elems: 10 + nth, num });
    expect((await rejects(client().list(), TransportError)).message).to.match(/kept changing size while its pages were read \(3 attempts\)/);
  });

  it('a size change on a page wins over an odd answer to a later page of the same window: read again', async () => {
    // First pass: 7 licenses, 3 a page, so pages 2 and 3 are asked together; the list shrank to 4
    // meanwhile: page 2 says so, and page 3, past the new end, comes back as page 1.
    pages = (num, nth) => {
      if (nth <= 3) return num === 1 ? softPage([1, 2, 3], { elems: 7, num }) : num === 2 ? softPage([4], { elems: 4, num }) : softPage([1, 2, 3], { elems: 4, num: 1 });
      return num === 1 ? softPage([1, 2, 3], { elems: 4, num }) : softPage([4], { elems: 4, num });
    };
    expect((await client().list()).map((l) => l.id)).to.deep.equal([1, 2, 3, 4]);
    expect(srv.requests).to.have.length(5);
  });

  it('more pages than the bound is an error', async () => {
    pages = (num) => softPage([num], { elems: 100, num });
    expect((await rejects(client({ maxListPages: 3 }).list(), TransportError)).message).to.match(/the list needs more than 3 pages/);
    expect(srv.requests).to.have.length(3);
  });
});

describe('upstream/client: list() against the sandbox over HTTP (paging)', () => {
  const SB_USER = 'reseller';
  const SB_PASS = 'Paging-Pa55word';
  let sb: LicensingSandbox;
  let client: LicensingClient;
  beforeEach(async () => {
    sb = await startLicensingServer({ user: SB_USER, password: SB_PASS, now: '2025-01-10' });
    client = new LicensingClient({ url: sb.url, username: SB_USER, password: SB_PASS }, { timeoutMs: 10_000 });
  });
  afterEach(() => sb.close());

  it('2 500 licenses come whole in 3 pages of 1000', async () => {
    const seeded = sb.seedLicenses(2500, (i) => ({ licname: `Item #${i}` }));
    const list = await client.list();
    expect(list.map((l) => l.id)).to.deep.equal(seeded);
    expect(list[2499]).to.include({ licname: 'Item #2499', status: 2 });
    // Pages 2 and 3 are asked side by side: their order of arrival is free.
    const asked = sb.requests('soft').map((r) => [r.params.p_cnt, r.params.p_num ?? '1']);
    expect(asked.sort((a, b) => Number(a[1]) - Number(b[1]))).to.deep.equal([['1000', '1'], ['1000', '2'], ['1000', '3']]);
  });

  it('after page 1, the pages still needed are asked four at a time, and the list keeps page order', async () => {
    const seeded = sb.seedLicenses(6500);
    sb.inject({ kind: 'hold', func: 'soft', params: { p_num: '2' } });
    const reading = client.list();
    await sb.waitForHeld(1);
    const askedPages = () => sb.requests('soft').map((r) => r.params.p_num ?? '1').sort();
    for (let i = 0; i < 200 && askedPages().length < 5; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    // While page 2 is held, pages 3–5 have been asked with it (one window) and page 6 not yet.
    expect(askedPages()).to.deep.equal(['1', '2', '3', '4', '5']);
    sb.release();
    expect((await reading).map((l) => l.id)).to.deep.equal(seeded);
    expect(askedPages()).to.deep.equal(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('a failed page ends the read only when the other pages of its window have answered', async () => {
    sb.seedLicenses(3500);
    sb.inject({ kind: 'drop', func: 'soft', params: { p_num: '2' } });
    sb.inject({ kind: 'hold', func: 'soft', params: { p_num: '3' } });
    let settled = false;
    const reading = client.list().finally(() => (settled = true));
    await sb.waitForHeld(1);
    for (let i = 0; i < 200 && !sb.requests('soft').some((r) => r.params.p_num === '2'); i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    expect(settled, 'list() returned while page 3 was still being read').to.equal(false);
    sb.release();
    expect((await rejects(reading, TransportError)).message).to.match(/soft failed: connection dropped/);
  });

  it('an upstream that serves pages of 7 when asked for 1000 still gives all', async () => {
    sb.setMaxPageSize(7);
    const seeded = sb.seedLicenses(50);
    expect((await client.list()).map((l) => l.id)).to.deep.equal(seeded);
    expect(sb.requestCount('soft')).to.equal(8);
  });

  it('a page dropped, broken, failed or refused in the middle is an error, never a partial list', async () => {
    sb.seedLicenses(2500);
    sb.inject({ kind: 'drop', func: 'soft', params: { p_num: '2' } });
    expect((await rejects(client.list(), TransportError)).message).to.match(/soft failed: connection dropped/);
    sb.inject({ kind: 'brokenxml', func: 'soft', params: { p_num: '3' } });
    expect((await rejects(client.list(), TransportError)).message).to.match(/broken reply to soft/);
    sb.inject({ kind: 'http500', func: 'soft', params: { p_num: '2' } });
    expect((await rejects(client.list(), TransportError)).message).to.match(/HTTP 500/);
    sb.inject({ kind: 'error', func: 'soft', params: { p_num: '3' }, type: 'value', msg: 'Too many requests' });
    expect((await rejects(client.list(), UpstreamRefusalError)).message).to.match(/Too many requests/);
    expect(await client.list()).to.have.length(2500);
  });

  it('a license ordered while the pages are read is in the list (read again from page 1)', async () => {
    sb.seedLicenses(2500);
    sb.inject({ kind: 'hold', func: 'soft', params: { p_num: '2' } });
    const reading = client.list();
    await sb.waitForHeld(1);
    const added = sb.addLicense({ licname: 'Item #late' }).id;
    sb.release();
    const list = await reading;
    expect(list).to.have.length(2501);
    expect(list.map((l) => l.id)).to.include(added);
    // Page 1, then pages 2 and 3 side by side (their order of arrival is free); p_elems changed on
    // page 2, so the whole list again.
    const pages = sb.requests('soft').map((r) => r.params.p_num ?? '1');
    expect([pages[0], pages.slice(1, 3).sort(), pages[3], pages.slice(4).sort()]).to.deep.equal(['1', ['2', '3'], '1', ['2', '3']]);
  });
  // SPEC 5.9 (v3), issue 15 point 4: a license deleted and another ordered between two page reads
  // leave p_elems unchanged, so one read is "complete" by count and still misses a license.
  describe('listAgreed(): two whole reads that agree before "not there"', () => {
    /** While a read's page 2 is held: delete the first license, order another, let the page go. */
    async function shiftUnder(read: Promise<unknown>, times: number): Promise<void> {
      const other = new LicensingClient({ url: sb.url, username: SB_USER, password: SB_PASS }, { timeoutMs: 10_000 });
      let settled = false;
      void read.then(() => (settled = true), () => (settled = true));
      for (let i = 0; i < times && !settled; i++) {
        while (sb.heldCount() === 0 && !settled) await new Promise((r) => setTimeout(r, 5));
        if (settled) break;
        await other.delete(sb.licenses().find((u) => !u.deleted)!.id);
        sb.addLicense({ licname: `Item #late${i}` });
        sb.release();
      }
    }

    it('one read misses the shifted license; listAgreed reads again until two reads agree and has it', async () => {
      sb.setMaxPageSize(3);
      const ids = sb.seedLicenses(6);
      // The hazard: list() alone, complete by count, without the license shifted onto page 1.
      sb.inject({ kind: 'hold', func: 'soft', params: { p_num: '2' } });
      const once = client.list();
      await shiftUnder(once, 1);
      const single = (await once).map((l) => l.id);
      expect(single).to.have.length(6);
      expect(single, 'one read misses the license shifted onto page 1').to.not.include(ids[3]);

      sb.inject({ kind: 'hold', func: 'soft', params: { p_num: '2' } });
      const agreed = client.listAgreed();
      await shiftUnder(agreed, 1);
      const whole = (await agreed).map((l) => l.id);
      const live = sb.licenses().filter((u) => !u.deleted).map((u) => u.id);
      expect(whole.sort((a, b) => a - b)).to.deep.equal(live.sort((a, b) => a - b));
      expect(whole).to.include(ids[4]);
    });

    it('an account that changes under every read is a retryable error, never a guess', async () => {
      sb.setMaxPageSize(3);
      sb.seedLicenses(6);
      sb.inject({ kind: 'hold', func: 'soft', params: { p_num: '2' }, count: -1 });
      const agreed = client.listAgreed();
      await shiftUnder(agreed, 10);
      expect((await rejects(agreed, TransportError)).message).to.match(/no two of them agree/);
    });
  });
});
