import { expect } from 'chai';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { parseXml, childText, childrenNamed, child, type XmlElement } from '../../src/xml.js';
import { startLicensingServer, runSandboxCommand, parseSandboxArgs, type LicensingSandbox } from '../../src/sandbox/licensing-server.js';

const USER = 'reseller';
const PASSWORD = 'pa:ss&w=rd';

interface HttpReply {
  status: number;
  contentType: string;
  body: string;
}

/** Plain node:http, no keep-alive, so a dropped socket fails only its own request. */
function http(url: string, opts: { method?: string; body?: string; contentType?: string } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), agent: false, headers: opts.body === undefined ? {} : { 'Content-Type': opts.contentType ?? 'application/x-www-form-urlencoded' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** One API call the way the module makes it; returns the parsed <doc>. */
async function call(sb: LicensingSandbox, func: string, params: Record<string, string> = {}, authinfo = `${USER}:${PASSWORD}`): Promise<XmlElement> {
  const r = await http(sb.url, { body: form({ authinfo, out: 'xml', lang: 'en', func, ...params }) });
  expect(r.status).to.equal(200);
  return parseXml(r.body);
}

function errorOf(d: XmlElement): { type: string; object: string; msg: string } | undefined {
  const e = child(d, 'error');
  return e && { type: e.attrs.type ?? '', object: e.attrs.object ?? '', msg: childText(e, 'msg') };
}

const ORDER = { clicked_button: 'finish', sok: 'ok', skipbasket: 'on', pricelist: '3541', period: '1', ip: '198.51.100.7', licname: 'Item #5', autoprolong: 'null', remoteid: '5' };

async function order(sb: LicensingSandbox, extra: Record<string, string> = {}): Promise<number> {
  const d = await call(sb, 'soft.order.param', { ...ORDER, ...extra });
  expect(errorOf(d)).to.equal(undefined);
  expect(childText(d, 'item.id')).to.equal(childText(d, 'id'));
  return Number(childText(d, 'id'));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('sandbox licensing server', () => {
  let sb: LicensingSandbox;
  beforeEach(async () => {
    sb = await startLicensingServer({ user: USER, password: PASSWORD, balance: 100, now: '2025-01-31T10:00:00Z' });
  });
  afterEach(async () => {
    await sb.close();
  });

  describe('auth and dispatch', () => {
    it('listens on loopback at /billmgr', () => {
      expect(sb.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/billmgr$/);
    });

    it('auth answers a session for the right credentials and an auth error otherwise', async () => {
      const ok = await call(sb, 'auth', { username: USER, password: PASSWORD }, '');
      expect(child(ok, 'auth')?.attrs.id).to.match(/^[0-9a-f]{32}$/);
      const bad = await call(sb, 'auth', { username: USER, password: 'wrong' }, '');
      expect(errorOf(bad)).to.include({ type: 'auth', object: '' });
      // The session works in place of authinfo.
      const list = await call(sb, 'soft', { auth: child(ok, 'auth')!.attrs.id! }, '');
      expect(errorOf(list)).to.equal(undefined);
    });

    it('every other func needs a valid authinfo', async () => {
      for (const authinfo of ['', USER, `${USER}:nope`, `other:${PASSWORD}`]) {
        expect(errorOf(await call(sb, 'soft', {}, authinfo))?.type).to.equal('auth');
      }
      expect(errorOf(await call(sb, 'soft.order.param', ORDER, 'x:y'))?.type).to.equal('auth');
      expect(sb.purchases()).to.equal(0);
    });

    it('an unknown func is missed/func; a request without out=xml gets HTML', async () => {
      expect(errorOf(await call(sb, 'soft.frobnicate'))).to.include({ type: 'missed', object: 'func' });
      const r = await http(sb.url, { body: form({ authinfo: `${USER}:${PASSWORD}`, func: 'soft' }) });
      expect(r.status).to.equal(200);
      expect(r.contentType).to.match(/html/);
    });

    it('accepts GET with a query string', async () => {
      const q = new URLSearchParams({ authinfo: `${USER}:${PASSWORD}`, out: 'xml', func: 'soft' });
      const r = await http(`${sb.url}?${q}`);
      expect(parseXml(r.body).name).to.equal('doc');
    });
  });

  describe('orders and keys', () => {
    it('an order debits the balance and is processing until its key comes', async () => {
      sb.setKeyDelayMs(150);
      const id = await order(sb, { addon_4602: '3' });
      expect(sb.balance).to.equal(90);
      expect(sb.purchases()).to.equal(1);
      const first = await call(sb, 'soft.edit', { elid: String(id) });
      expect(childText(first, 'status')).to.equal('5');
      expect(childText(first, 'lickey')).to.equal('');
      await sleep(200);
      const later = await call(sb, 'soft.edit', { elid: String(id) });
      expect(childText(later, 'status')).to.equal('2');
      expect(childText(later, 'lickey')).to.match(/^[0-9a-f]{32}$/);
      const lic = sb.license(id)!;
      expect(lic).to.include({ licname: 'Item #5', ip: '198.51.100.7', pricelist: '3541', period: 1, status: 2, createdate: '2025-01-31', remoteid: '5', autoprolongOn: false });
      // Calendar month clamped to the month's end; a new license counts as changed on creation.
      expect(lic).to.include({ expiredate: '2025-02-28', ipChangeDate: '2025-01-31', keyChangeDate: '2025-01-31' });
      expect(lic.addons).to.deep.equal({ addon_4602: '3' });
      expect(lic.lickey).to.equal(childText(later, 'lickey'));
    });

    it('soft.edit and soft carry the tariff name as pricelist and its id as pricelist_id', async () => {
      const id = await order(sb);
      const d = await call(sb, 'soft.edit', { elid: String(id) });
      expect(childText(d, 'elid')).to.equal(String(id));
      expect(childText(d, 'pricelist')).to.equal('ISPmanager Lite');
      expect(childText(d, 'pricelist_id')).to.equal('3541');
      for (const f of ['licname', 'ip', 'period', 'expiredate', 'ip_change_date', 'lickey_change_date', 'autoprolong', 'remoteid']) expect(child(d, f), f).to.not.equal(undefined);
      const elems = childrenNamed(await call(sb, 'soft'), 'elem');
      expect(elems).to.have.length(1);
      const e = elems[0]!;
      expect(childText(e, 'pricelist')).to.equal('ISPmanager Lite');
      expect(childText(e, 'pricelist_id')).to.equal('3541');
      expect(childText(e, 'real_ipchange')).to.equal('2025-01-31');
      expect(childText(e, 'real_keychange')).to.equal('2025-01-31');
      expect(childText(e, 'createdate')).to.equal('2025-01-31');
      expect(child(e, 'lickey')).to.equal(undefined);
    });

    it('keyDelayMs 0 gives the key on the next read; a negative delay holds it until issueKeys()', async () => {
      const a = await order(sb);
      expect(childText(await call(sb, 'soft.edit', { elid: String(a) }), 'status')).to.equal('2');
      sb.setKeyDelayMs(-1);
      const b = await order(sb);
      await sleep(20);
      expect(sb.license(b)!.status).to.equal(5);
      expect(sb.issueKeys()).to.equal(1);
      expect(sb.license(b)!.lickey).to.match(/^[0-9a-f]{32}$/);
    });

    it('not enough money refuses the order and changes nothing', async () => {
      await order(sb, { period: '12' }); // 100 of 100
      expect(sb.balance).to.equal(0);
      const before = sb.licenses();
      const d = await call(sb, 'soft.order.param', ORDER);
      expect(errorOf(d)).to.include({ type: 'account', object: 'balance' });
      expect(errorOf(d)!.msg).to.match(/^Not enough money on the account/);
      expect(sb.balance).to.equal(0);
      expect(sb.licenses()).to.deep.equal(before);
      expect(sb.purchases()).to.equal(1);
      expect(sb.spent).to.equal(100);
    });

    it('refuses an unknown pricelist, a period other than 1/12/0, a bad IP and an order without sok/finish/skipbasket', async () => {
      const cases: [Record<string, string>, string, string][] = [
        [{ pricelist: '99999' }, 'value', 'pricelist'],
        [{ period: '3' }, 'value', 'period'],
        [{ period: 'abc' }, 'value', 'period'],
        [{ ip: '300.1.1.1' }, 'value', 'ip'],
        [{ ip: '' }, 'value', 'ip'],
        [{ sok: '' }, 'value', 'sok'],
        [{ clicked_button: 'next' }, 'value', 'clicked_button'],
        [{ skipbasket: '' }, 'value', 'skipbasket'],
        [{ autoprolong: 'sometimes' }, 'value', 'autoprolong'],
      ];
      for (const [extra, type, object] of cases) {
        expect(errorOf(await call(sb, 'soft.order.param', { ...ORDER, ...extra })), JSON.stringify(extra)).to.include({ type, object });
      }
      expect(sb.licenses()).to.have.length(0);
      expect(sb.balance).to.equal(100);
      await order(sb, { ip: '2001:db8::7' });
      expect(sb.licenses()[0]!.ip).to.equal('2001:db8::7');
    });

    it('a lifetime license expires 2099-12-31, never lapses and cannot be prolonged', async () => {
      sb.setBalance(1000);
      const id = await order(sb, { period: '0' });
      expect(sb.balance).to.equal(700);
      expect(sb.license(id)).to.include({ period: 0, expiredate: '2099-12-31' });
      sb.setNow('2100-06-01');
      expect(sb.license(id)).to.include({ status: 2, deleted: false, expirySuspended: false });
      const d = await call(sb, 'service.prolong', { elid: String(id), period: '12', sok: 'ok' });
      expect(errorOf(d)?.type).to.equal('value');
      expect(sb.balance).to.equal(700);
    });
  });

  describe('prolongation and expiry', () => {
    it('prolongs from expiredate while it is not past, and debits the price', async () => {
      const id = await order(sb); // expires 2025-02-28
      sb.setNow('2025-02-20');
      const d = await call(sb, 'service.prolong', { elid: String(id), period: '1', sok: 'ok' });
      expect(childText(child(d, 'doc')!, 'newexpiredate')).to.equal('2025-03-28');
      expect(sb.license(id)!.expiredate).to.equal('2025-03-28');
      expect(sb.balance).to.equal(80);
      expect(sb.prolongs()).to.equal(1);
      expect(sb.ledger().map((e) => [e.kind, e.amount])).to.deep.equal([
        ['order', 10],
        ['prolong', 10],
      ]);
      // On the expiredate itself it still counts from the expiredate.
      sb.setNow('2025-03-28');
      await call(sb, 'service.prolong', { elid: String(id), period: '1', sok: 'ok' });
      expect(sb.license(id)!.expiredate).to.equal('2025-04-28');
    });

    it('after expiry the license is suspended, prolonging counts from today and reactivates it', async () => {
      sb.setBalance(1000);
      const id = await order(sb); // expires 2025-02-28
      sb.setNow('2025-03-10');
      expect(sb.license(id)).to.include({ status: 3, expirySuspended: true, manualSuspended: false });
      expect(childText(await call(sb, 'soft.edit', { elid: String(id) }), 'status')).to.equal('3');
      expect(childText(childrenNamed(await call(sb, 'soft'), 'elem')[0]!, 'status')).to.equal('3');
      const d = await call(sb, 'service.prolong', { elid: String(id), period: '12', sok: 'ok' });
      expect(childText(child(d, 'doc')!, 'newexpiredate')).to.equal('2026-03-10');
      expect(sb.license(id)).to.include({ status: 2, expirySuspended: false, expiredate: '2026-03-10' });
      expect(sb.balance).to.equal(1000 - 10 - 100);
    });

    it('30 days after expiredate the license is gone: not listed, soft.edit answers missed/elid', async () => {
      const id = await order(sb); // expires 2025-02-28
      sb.setNow('2025-03-29'); // expiredate + 29
      expect(sb.license(id)!.status).to.equal(3);
      sb.setNow('2025-03-30'); // expiredate + 30
      expect(childrenNamed(await call(sb, 'soft'), 'elem')).to.have.length(0);
      const d = await call(sb, 'soft.edit', { elid: String(id) });
      expect(errorOf(d)).to.include({ type: 'missed', object: 'elid' });
      expect(sb.license(id)).to.include({ status: 4, deleted: true, deletedBy: 'expiry', deletedOn: '2025-03-30' });
      expect(errorOf(await call(sb, 'service.prolong', { elid: String(id), period: '1', sok: 'ok' }))?.type).to.equal('missed');
      // Deletion is final: turning the clock back does not bring it back.
      sb.setNow('2025-02-01');
      expect(sb.license(id)!.status).to.equal(4);
    });

    it('prolonging does not lift a manual suspension; soft.resume does', async () => {
      const id = await order(sb);
      expect(errorOf(await call(sb, 'soft.suspend', { elid: String(id) }))).to.equal(undefined);
      sb.setNow('2025-03-10');
      expect(sb.license(id)).to.include({ status: 3, manualSuspended: true, expirySuspended: true });
      await call(sb, 'service.prolong', { elid: String(id), period: '1', sok: 'ok' });
      expect(sb.license(id)).to.include({ status: 3, manualSuspended: true, expirySuspended: false });
      const r = await call(sb, 'soft.resume', { elid: String(id) });
      expect(child(r, 'ok')).to.not.equal(undefined);
      expect(sb.license(id)).to.include({ status: 2, manualSuspended: false });
    });

    it('soft.resume does not lift a suspension by expiry', async () => {
      const id = await order(sb);
      sb.setNow('2025-03-10');
      await call(sb, 'soft.resume', { elid: String(id) });
      expect(sb.license(id)!.status).to.equal(3);
    });

    it('prolong without money changes nothing', async () => {
      const id = await order(sb, { period: '1' }); // 90 left
      const d = await call(sb, 'service.prolong', { elid: String(id), period: '12', sok: 'ok' });
      expect(errorOf(d)).to.include({ type: 'account', object: 'balance' });
      expect(sb.license(id)!.expiredate).to.equal('2025-02-28');
      expect(sb.balance).to.equal(90);
      expect(sb.prolongs()).to.equal(0);
    });
  });

  describe('changes', () => {
    it('an IP change is allowed once a calendar month; the refusal names the first allowed date', async () => {
      const id = await order(sb); // created 2025-01-31
      const same = await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', ip: '198.51.100.7' });
      expect(errorOf(same)).to.equal(undefined);
      const refused = await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', ip: '198.51.100.8', licname: 'renamed' });
      expect(errorOf(refused)).to.include({ type: 'ipchange', object: 'ip' });
      expect(errorOf(refused)!.msg).to.contain('2025-02-28');
      // All or nothing: the licname in the refused request was not applied either.
      expect(sb.license(id)).to.include({ ip: '198.51.100.7', licname: 'Item #5', ipChangeDate: '2025-01-31' });
      sb.setNow('2025-02-28');
      const ok = await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', ip: '198.51.100.8' });
      expect(childText(child(ok, 'doc')!, 'ip')).to.equal('198.51.100.8');
      expect(sb.license(id)).to.include({ ip: '198.51.100.8', ipChangeDate: '2025-02-28' });
      expect(errorOf(await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', ip: 'nonsense' }))).to.include({ type: 'value', object: 'ip' });
    });

    it('a key change is allowed once a calendar month and answers the new key flat', async () => {
      const id = await order(sb);
      const oldKey = sb.license(id)!.lickey;
      const refused = await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', clicked_button: 'newkey' });
      expect(errorOf(refused)).to.include({ type: 'keychange' });
      expect(errorOf(refused)!.msg).to.contain('2025-02-28');
      expect(sb.license(id)!.lickey).to.equal(oldKey);
      sb.setNow('2025-03-01');
      const ok = await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', clicked_button: 'newkey' });
      const key = childText(ok, 'lickey');
      expect(key).to.match(/^[0-9a-f]{32}$/).and.not.equal(oldKey);
      expect(sb.license(id)).to.include({ lickey: key, keyChangeDate: '2025-03-01' });
    });

    it('licname, autoprolong and remoteid are stored; the reply is nested', async () => {
      const id = await order(sb);
      const d = await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', licname: 'free.lic', autoprolong: '1', remoteid: '' });
      const inner = child(d, 'doc')!;
      expect(childText(inner, 'licname')).to.equal('free.lic');
      expect(sb.license(id)).to.include({ licname: 'free.lic', autoprolong: '1', autoprolongOn: true, remoteid: '' });
      await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', autoprolong: 'null' });
      expect(sb.license(id)!.autoprolongOn).to.equal(false);
      await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', autoprolong: '12' });
      await call(sb, 'soft.edit', { elid: String(id), sok: 'ok', autoprolong: '' });
      expect(sb.license(id)).to.include({ autoprolong: 'null', autoprolongOn: false });
    });

    it('suspend, resume and delete; a deleted or unknown elid is missed', async () => {
      const id = await order(sb);
      await call(sb, 'soft.suspend', { elid: String(id) });
      expect(sb.license(id)!.status).to.equal(3);
      await call(sb, 'soft.resume', { elid: String(id) });
      expect(sb.license(id)!.status).to.equal(2);
      expect(errorOf(await call(sb, 'soft.delete', { elid: String(id) }))?.object).to.equal('sok');
      expect(child(await call(sb, 'soft.delete', { elid: String(id), sok: 'ok' }), 'ok')).to.not.equal(undefined);
      expect(sb.license(id)).to.include({ status: 4, deletedBy: 'delete', deletedOn: '2025-01-31' });
      for (const func of ['soft.edit', 'soft.suspend', 'soft.resume', 'soft.delete', 'service.prolong']) {
        expect(errorOf(await call(sb, func, { elid: String(id), sok: 'ok', period: '1' })), func).to.include({ type: 'missed', object: 'elid' });
      }
      expect(errorOf(await call(sb, 'soft.edit', { elid: '424242' }))).to.include({ type: 'missed', object: 'elid' });
      expect(errorOf(await call(sb, 'soft.edit', {}))).to.include({ type: 'missed', object: 'elid' });
    });

    it('a seeded license is on the account without a purchase', async () => {
      const l = sb.addLicense({ licname: 'free.lic', pricelist: '4601', createdate: '2024-11-15', expiredate: '2025-05-15' });
      expect(l).to.include({ id: 1001, status: 2, ipChangeDate: '2024-11-15', pricelistName: 'ISPmanager Business' });
      const elems = childrenNamed(await call(sb, 'soft'), 'elem');
      expect(elems.map((e) => childText(e, 'licname'))).to.deep.equal(['free.lic']);
      expect(sb.purchases()).to.equal(0);
      expect(sb.balance).to.equal(100);
      expect(await order(sb)).to.equal(1002);
      expect(() => sb.addLicense({ id: 1001 })).to.throw(RangeError);
    });
  });

  describe('faults', () => {
    it('http500: HTTP 500 with an HTML body, nothing applied (apply: true applies first)', async () => {
      sb.inject({ kind: 'http500', func: 'soft.order.param' });
      const r = await http(sb.url, { body: form({ authinfo: `${USER}:${PASSWORD}`, out: 'xml', func: 'soft.order.param', ...ORDER }) });
      expect(r.status).to.equal(500);
      expect(r.contentType).to.match(/html/);
      expect(sb.purchases()).to.equal(0);
      sb.inject({ kind: 'http500', apply: true });
      const r2 = await http(sb.url, { body: form({ authinfo: `${USER}:${PASSWORD}`, out: 'xml', func: 'soft.order.param', ...ORDER }) });
      expect(r2.status).to.equal(500);
      expect(sb.purchases()).to.equal(1);
      expect(sb.faults()).to.have.length(0);
      expect(sb.requests().map((q) => [q.outcome, q.applied, q.httpStatus])).to.deep.equal([
        ['http500', false, 500],
        ['http500', true, 500],
      ]);
    });

    it('brokenxml: HTTP 200 with truncated XML', async () => {
      sb.inject({ kind: 'brokenxml', func: 'soft' });
      const r = await http(sb.url, { body: form({ authinfo: `${USER}:${PASSWORD}`, out: 'xml', func: 'soft' }) });
      expect(r.status).to.equal(200);
      expect(r.body).to.match(/^<\?xml/);
      expect(() => parseXml(r.body)).to.throw();
      sb.inject({ kind: 'brokenxml', func: 'soft.order.param', apply: true });
      const r2 = await http(sb.url, { body: form({ authinfo: `${USER}:${PASSWORD}`, out: 'xml', func: 'soft.order.param', ...ORDER }) });
      expect(() => parseXml(r2.body)).to.throw();
      expect(sb.purchases()).to.equal(1);
    });

    it('latency: the reply comes after the delay and is normal', async () => {
      sb.inject({ kind: 'latency', delayMs: 200 });
      const t = Date.now();
      const d = await call(sb, 'soft');
      expect(Date.now() - t).to.be.at.least(190);
      expect(errorOf(d)).to.equal(undefined);
    });

    it('drop: the socket is closed without a reply and nothing is applied', async () => {
      sb.inject({ kind: 'drop', func: 'soft.order.param' });
      let failed: unknown;
      await call(sb, 'soft.order.param', ORDER).catch((e: unknown) => (failed = e));
      expect(String(failed)).to.match(/socket hang up|ECONNRESET/);
      expect(sb.purchases()).to.equal(0);
      expect(sb.balance).to.equal(100);
      expect(sb.requests()[0]).to.include({ outcome: 'dropped', applied: false, fault: 'drop' });
    });

    it('dropafter: the order is taken and paid, then the socket is closed without a reply', async () => {
      sb.inject({ kind: 'dropafter', func: 'soft.order.param' });
      let failed: unknown;
      await call(sb, 'soft.order.param', ORDER).catch((e: unknown) => (failed = e));
      expect(String(failed)).to.match(/socket hang up|ECONNRESET/);
      expect(sb.purchases()).to.equal(1);
      expect(sb.balance).to.equal(90);
      expect(sb.licenses()[0]).to.include({ licname: 'Item #5', ip: '198.51.100.7', remoteid: '5' });
      expect(sb.requests()[0]).to.include({ outcome: 'dropped', applied: true, fault: 'dropafter' });
      // The fault was for one request only.
      expect(await order(sb)).to.be.a('number');
    });

    it('hold: nothing happens while held; a client that goes away leaves nothing behind', async () => {
      sb.inject({ kind: 'hold', func: 'soft.order.param' });
      const req = request(sb.url, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      req.on('error', () => undefined);
      req.end(form({ authinfo: `${USER}:${PASSWORD}`, out: 'xml', func: 'soft.order.param', ...ORDER }));
      await sb.waitForHeld(1);
      expect(sb.purchases()).to.equal(0);
      req.destroy(); // stands for the client being killed mid-request
      for (let i = 0; i < 100 && sb.heldCount() > 0; i++) await sleep(10);
      expect(sb.heldCount()).to.equal(0);
      expect(sb.purchases()).to.equal(0);
      expect(sb.requests()[0]).to.include({ outcome: 'aborted', applied: false, fault: 'hold' });
    });

    it('hold: release() lets the request go on normally; delayMs releases by itself', async () => {
      sb.inject({ kind: 'hold', func: 'soft' });
      const pending = call(sb, 'soft');
      await sb.waitForHeld(1);
      expect(sb.release()).to.equal(1);
      expect(errorOf(await pending)).to.equal(undefined);
      sb.inject({ kind: 'hold', delayMs: 50 });
      expect(errorOf(await call(sb, 'soft'))).to.equal(undefined);
    });

    it('error: an injected <error> reply, nothing applied', async () => {
      sb.inject({ kind: 'error', func: 'soft.order.param', type: 'access', object: 'pricelist', msg: 'Access denied' });
      const d = await call(sb, 'soft.order.param', ORDER);
      expect(errorOf(d)).to.deep.equal({ type: 'access', object: 'pricelist', msg: 'Access denied' });
      expect(sb.purchases()).to.equal(0);
      expect(sb.requests()[0]).to.include({ outcome: 'error', errorType: 'access', fault: 'error' });
    });

    it('faults match their func only, count down, and -1 lasts until cleared', async () => {
      sb.inject({ kind: 'error', func: 'soft.edit', count: 2 });
      expect(errorOf(await call(sb, 'soft'))).to.equal(undefined);
      expect(errorOf(await call(sb, 'soft.edit', { elid: '1' }))?.msg).to.equal('Injected error');
      expect(errorOf(await call(sb, 'soft.edit', { elid: '1' }))?.msg).to.equal('Injected error');
      expect(errorOf(await call(sb, 'soft.edit', { elid: '1' }))?.type).to.equal('missed');
      sb.inject({ kind: 'error', count: -1 });
      for (let i = 0; i < 3; i++) expect(errorOf(await call(sb, 'soft'))?.msg).to.equal('Injected error');
      expect(sb.clearFaults()).to.equal(1);
      expect(errorOf(await call(sb, 'soft'))).to.equal(undefined);
    });
  });

  describe('request log and control endpoints', () => {
    it('records every request with authinfo and password masked', async () => {
      await call(sb, 'auth', { username: USER, password: PASSWORD }, '');
      await order(sb);
      await call(sb, 'soft', {}, 'bad:creds');
      const log = sb.requests();
      expect(log.map((r) => [r.seq, r.func, r.outcome, r.applied, r.user])).to.deep.equal([
        [1, 'auth', 'ok', true, USER],
        [2, 'soft.order.param', 'ok', true, USER],
        [3, 'soft', 'error', false, 'bad'],
      ]);
      expect(log[0]!.params.password).to.equal('***');
      expect(log[1]!.params.authinfo).to.equal('***');
      expect(log[1]!.params).to.include({ pricelist: '3541', ip: '198.51.100.7', func: 'soft.order.param' });
      expect(log[2]).to.include({ errorType: 'auth', day: '2025-01-31' });
      expect(sb.requests('soft.order.param')).to.have.length(1);
      const served = await http(`${sb.url.replace(/\/billmgr$/, '')}/_sandbox/requests`);
      expect(served.body).to.not.contain(PASSWORD).and.not.contain(encodeURIComponent(PASSWORD));
      expect((JSON.parse(served.body) as unknown[]).length).to.equal(3);
    });

    it('serves state, clock, faults, seeds, keys and config under /_sandbox/ without the password', async () => {
      const base = sb.url.replace(/\/billmgr$/, '');
      const json = async (path: string, body?: unknown, asForm = false): Promise<Record<string, unknown>> => {
        const r = await http(base + path, body === undefined ? {} : asForm ? { body: form(body as Record<string, string>) } : { body: JSON.stringify(body), contentType: 'application/json' });
        expect(r.status, `${path}: ${r.body}`).to.equal(200);
        return JSON.parse(r.body) as Record<string, unknown>;
      };
      expect(await json('/_sandbox/clock', { now: '2025-06-15T12:00:00Z' })).to.include({ today: '2025-06-15' });
      expect(sb.today()).to.equal('2025-06-15');
      const seeded = await json('/_sandbox/license', { licname: 'free.lic', pricelist: '3541', expiredate: '2025-09-01', ip_change_date: '2025-03-01' });
      expect(seeded).to.include({ id: 1001, ipChangeDate: '2025-03-01', createdate: '2025-06-15' });
      expect(await json('/_sandbox/fault', { kind: 'error', func: 'soft', type: 'access', msg: 'no' }, true)).to.have.property('id');
      expect(errorOf(await call(sb, 'soft'))?.type).to.equal('access');
      expect(await json('/_sandbox/config', { balance: 55.5, keyDelayMs: -1 })).to.deep.equal({ balance: 55.5, keyDelayMs: -1 });
      await order(sb);
      expect(sb.license(1002)!.status).to.equal(5);
      expect(await json('/_sandbox/keys', {})).to.deep.equal({ issued: 1 });
      const state = await json('/_sandbox/state');
      expect(state).to.include({ today: '2025-06-15', balance: 45.5, purchases: 1, user: USER });
      expect((state.licenses as unknown[]).length).to.equal(2);
      const raw = (await http(`${base}/_sandbox/state`)).body;
      expect(raw).to.not.contain(PASSWORD);
      expect(await json('/_sandbox/fault/clear', {})).to.deep.equal({ cleared: 0 });
      expect((await http(`${base}/_sandbox/nothing`)).status).to.equal(404);
      expect((await http(`${base}/_sandbox/fault`, { body: JSON.stringify({ kind: 'meltdown' }), contentType: 'application/json' })).status).to.equal(400);
    });
  });

  describe('clock', () => {
    it('follows PMISPLICENSE_NOW of its env when no now is given, and setNow(null) returns to it', async () => {
      const env = { PMISPLICENSE_NOW: '2030-04-05T00:00:00Z' };
      const other = await startLicensingServer({ user: USER, password: PASSWORD, env });
      try {
        expect(other.today()).to.equal('2030-04-05');
        env.PMISPLICENSE_NOW = '2030-04-06T00:00:00Z';
        expect(other.today()).to.equal('2030-04-06');
        other.setNow('2031-01-01');
        expect(other.today()).to.equal('2031-01-01');
        other.setNow(null);
        expect(other.today()).to.equal('2030-04-06');
      } finally {
        await other.close();
      }
    });
  });
});

describe('sandbox command', () => {
  it('parses its options', () => {
    expect(parseSandboxArgs(['--port', '0', '--user=u', '--password', 'p', '--balance', '12.5', '--key-delay-ms', '100', '--now', '2025-01-01'])).to.deep.equal({
      port: 0,
      host: undefined,
      user: 'u',
      password: 'p',
      balance: 12.5,
      keyDelayMs: 100,
      now: '2025-01-01',
    });
    expect(() => parseSandboxArgs(['--port', 'x'])).to.throw(/--port/);
  });

  it('prints its URL and that its state lives in memory only, serves, and stops on the signal', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const stop = new AbortController();
    const done = runSandboxCommand(['--port', '0', '--user', USER, '--balance', '50', '--now', '2025-01-31'], { stdout: out, env: { PMISPLICENSE_SANDBOX_PASSWORD: PASSWORD }, signal: stop.signal });
    for (let i = 0; i < 200 && printed.split('\n').length < 3; i++) await sleep(10);
    const m = /^pmisplicense sandbox listening on (http:\/\/127\.0\.0\.1:\d+\/billmgr)\n(.*)\n$/.exec(printed);
    if (!m) stop.abort();
    expect(m, printed).to.not.equal(null);
    expect(m![2]).to.match(/state .*lives in memory only.*lost when the sandbox stops/);
    const url = m![1]!;
    const r = await http(url, { body: form({ authinfo: `${USER}:${PASSWORD}`, out: 'xml', func: 'soft.order.param', ...ORDER }) });
    expect(childText(parseXml(r.body), 'id')).to.equal('1001');
    const state = JSON.parse((await http(url.replace(/\/billmgr$/, '/_sandbox/state'))).body) as { balance: number };
    expect(state.balance).to.equal(40);
    stop.abort();
    expect(await done).to.equal(0);
    let failed: unknown;
    await http(url).catch((e: unknown) => (failed = e));
    expect(String(failed)).to.match(/ECONNREFUSED/);
  });

  it('refuses to start without a user or password', async () => {
    let failed: unknown;
    await runSandboxCommand(['--user', 'u'], { env: {} }).catch((e: unknown) => (failed = e));
    expect(String(failed)).to.match(/--password/);
  });
});
