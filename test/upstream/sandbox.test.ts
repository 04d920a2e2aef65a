// The client against the sandbox licensing server (src/sandbox): every step is asserted on the
// sandbox's own state, not on what the client says it did.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLicensingServer, type LicensingSandbox, type SandboxLicense } from '../../src/sandbox/licensing-server.js';
import { LicensingClient } from '../../src/upstream/client.js';
import { captureLog } from './canned.js';
import {
  CredentialsError,
  LicenseMissingError,
  ModuleError,
  TransportError,
  UpstreamRefusalError,
} from '../../src/errors.js';
import { rejects } from '../support/rejects.js';

const USER = 'sandbox-reseller';
const PASS = 'Sandbox-Pa55word#2025';


describe('upstream/client against the sandbox licensing server', () => {
  let sb: LicensingSandbox;
  let client: LicensingClient;
  let dir = '';
  let logged: ReturnType<typeof captureLog>;
  const keysSeen = new Set<string>();
  const state = (id: number): SandboxLicense => {
    const l = sb.license(id);
    if (!l) throw new Error(`sandbox has no license ${id}`);
    if (l.lickey) keysSeen.add(l.lickey);
    return l;
  };
  const order = (item: number, ip = '192.0.2.10', pricelist = '3541', period = 1) =>
    client.order({ pricelist, period, ip, licname: `Item #${item}`, remoteid: String(item), addons: {} });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pmisplicense-sbx-'));
    logged = captureLog(join(dir, 'pmisplicense.log'));
    sb = await startLicensingServer({ user: USER, password: PASS, balance: 1000, now: '2025-01-10', keyDelayMs: 0 });
    client = new LicensingClient({ url: sb.url, username: USER, password: PASS }, { timeoutMs: 3000 });
  });

  after(async () => {
    logged.stop();
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    sb.clearFaults();
  });

  describe('license lifecycle', () => {
    let id = 0;
    let firstKey = '';

    it('auth: accepted with the right password, CredentialsError with a wrong one', async () => {
      await client.auth();
      const bad = new LicensingClient({ url: sb.url, username: USER, password: 'wrong-password' });
      await rejects(bad.auth(), CredentialsError);
      await rejects(bad.list(), CredentialsError);
      expect(sb.requests('auth').map((r) => r.outcome)).to.deep.equal(['ok', 'error']);
    });

    it('order: the sandbox holds a paid license with our fields, autoprolong off', async () => {
      sb.setKeyDelayMs(-1); // the key comes only when the test says so
      const balance = sb.balance;
      id = await client.order({ pricelist: '4601', period: 1, ip: '192.0.2.10', licname: 'Item #5', remoteid: '5', addons: { addon_4602: '2' } });
      const l = state(id);
      expect(l).to.deep.include({ licname: 'Item #5', ip: '192.0.2.10', pricelist: '4601', period: 1, remoteid: '5', autoprolong: 'null', autoprolongOn: false, status: 5, lickey: '', createdate: '2025-01-10', expiredate: '2025-02-10' });
      expect(l.addons).to.deep.equal({ addon_4602: '2' });
      expect(sb.purchases()).to.equal(1);
      expect(sb.balance).to.equal(balance - 20);
    });

    it('the key appears: processing without key, then active with the key the sandbox issued', async () => {
      let lic = await client.get(id);
      expect([lic.status, lic.lickey]).to.deep.equal([5, '']);
      sb.issueKeys();
      lic = await client.get(id);
      firstKey = state(id).lickey;
      expect(firstKey).to.not.equal('');
      expect(lic).to.deep.include({ id, status: 2, lickey: firstKey, pricelist: '4601', ipChangeDate: '2025-01-10', keyChangeDate: '2025-01-10', autoprolong: false });
      expect(state(id).status).to.equal(2);
    });

    it('list shows it with the tariff id (pricelist_id), not the tariff name', async () => {
      const mine = (await client.list()).find((l) => l.id === id);
      expect(mine).to.deep.include({ pricelist: '4601', status: 2, lickey: '', expiredate: '2025-02-10' });
      expect(state(id).pricelistName).to.equal('ISPmanager Business');
    });

    it('prolong: the sandbox extends the license by the period and charges for it', async () => {
      const balance = sb.balance;
      const newDate = await client.prolong(id, 1);
      expect(state(id).expiredate).to.equal('2025-03-10');
      expect(newDate).to.equal('2025-03-10');
      expect(sb.prolongs()).to.equal(1);
      expect(sb.balance).to.equal(balance - 20);
    });

    it('suspend and resume change the license state', async () => {
      await client.suspend(id);
      expect(state(id)).to.deep.include({ status: 3, manualSuspended: true });
      await client.resume(id);
      expect(state(id)).to.deep.include({ status: 2, manualSuspended: false });
    });

    it('IP change: refused within a month of creation (state unchanged), allowed after, refused again within the month', async () => {
      let e = await rejects(client.edit(id, { ip: '192.0.2.20' }), UpstreamRefusalError);
      expect(e.message).to.include('2025-02-10');
      expect(state(id)).to.deep.include({ ip: '192.0.2.10', ipChangeDate: '2025-01-10' });

      sb.setNow('2025-02-10');
      const lic = await client.edit(id, { ip: '192.0.2.20', licname: 'Item #5 (moved)' });
      expect(state(id)).to.deep.include({ ip: '192.0.2.20', ipChangeDate: '2025-02-10', licname: 'Item #5 (moved)' });
      expect(lic).to.deep.include({ ip: '192.0.2.20', ipChangeDate: '2025-02-10' });

      sb.setNow('2025-03-01');
      e = await rejects(client.edit(id, { ip: '192.0.2.30' }), UpstreamRefusalError);
      expect(e.message).to.include('2025-03-10');
      expect(state(id)).to.deep.include({ ip: '192.0.2.20', ipChangeDate: '2025-02-10' });
    });

    it('newKey: the sandbox has a new key and it is the one returned', async () => {
      const key = await client.newKey(id);
      expect(key).to.equal(state(id).lickey);
      expect(key).to.not.equal(firstKey);
      expect(state(id).keyChangeDate).to.equal('2025-03-01');
      // The second change within a month is refused and changes nothing.
      await rejects(client.newKey(id), UpstreamRefusalError);
      expect(state(id).lickey).to.equal(key);
    });

    it('an expired license reads as suspended; prolonging it reactivates it from today', async () => {
      sb.setNow('2025-03-15');
      expect((await client.get(id)).status).to.equal(3);
      expect(state(id)).to.deep.include({ status: 3, expirySuspended: true, manualSuspended: false });
      await client.prolong(id, 1);
      expect(state(id)).to.deep.include({ status: 2, expiredate: '2025-04-15' });
    });

    it('edit(autoprolong:false) turns auto-renewal off in the sandbox', async () => {
      const seeded = sb.addLicense({ licname: 'free.lic', autoprolong: '12', period: 12, pricelist: '3541' });
      expect(state(seeded.id).autoprolongOn).to.equal(true);
      const lic = await client.edit(seeded.id, { autoprolong: false, licname: 'free.lic' });
      expect(state(seeded.id)).to.deep.include({ autoprolong: 'null', autoprolongOn: false });
      expect(lic.autoprolong).to.equal(false);
      expect(sb.requests('soft.edit').at(-1)!.params).to.deep.include({ autoprolong: 'null', sok: 'ok' });
    });

    it('delete: the sandbox marks it deleted; it then reads as missing and leaves the list', async () => {
      await client.delete(id);
      expect(state(id)).to.deep.include({ deleted: true, deletedBy: 'delete', status: 4 });
      const e = await rejects(client.get(id), LicenseMissingError);
      expect(e.value).to.equal(String(id));
      await rejects(client.delete(id), LicenseMissingError);
      expect((await client.list()).map((l) => l.id)).not.to.include(id);
    });

    it('an order the account cannot pay for is an upstream refusal carrying its message; nothing bought', async () => {
      const purchases = sb.purchases();
      sb.setBalance(1);
      const e = await rejects(order(6), UpstreamRefusalError);
      expect(e.message).to.match(/Not enough money/);
      expect(e.retryable).to.equal(false);
      expect(sb.purchases()).to.equal(purchases);
      sb.setBalance(1000);
    });

    it('an unknown tariff is an upstream refusal', async () => {
      const e = await rejects(order(6, '192.0.2.10', '99999'), UpstreamRefusalError);
      expect(e.upstreamObject).to.equal('pricelist');
    });
  });

  describe('injected faults reach the caller as the right error class', () => {
    let id = 0;
    before(async () => {
      sb.setNow('2025-05-01');
      sb.setKeyDelayMs(0);
      id = await order(7, '192.0.2.70');
    });

    it('HTTP 500 → TransportError (retryable); nothing changed', async () => {
      sb.inject({ kind: 'http500', func: 'soft.suspend' });
      const e = await rejects(client.suspend(id), TransportError);
      expect(e.retryable).to.equal(true);
      expect(e.message).to.match(/soft\.suspend failed: HTTP 500/);
      expect(state(id).manualSuspended).to.equal(false);
    });

    it('HTTP 500 after the work was done → TransportError; the sandbox state shows it happened', async () => {
      sb.inject({ kind: 'http500', func: 'service.prolong', apply: true });
      const before = state(id).expiredate;
      await rejects(client.prolong(id, 1), TransportError);
      expect(state(id).expiredate > before).to.equal(true);
    });

    it('broken XML → TransportError "broken reply"', async () => {
      sb.inject({ kind: 'brokenxml', func: 'soft.edit' });
      const e = await rejects(client.get(id), TransportError);
      expect(e.message).to.match(/broken reply to soft\.edit/);
      sb.inject({ kind: 'brokenxml', func: 'soft' });
      await rejects(client.list(), TransportError);
    });

    it('latency beyond the timeout → TransportError naming the timeout', async () => {
      sb.inject({ kind: 'latency', func: 'soft.resume', delayMs: 1500 });
      const slow = new LicensingClient({ url: sb.url, username: USER, password: PASS }, { timeoutMs: 300 });
      const e = await rejects(slow.resume(id), TransportError);
      expect(e.message).to.match(/soft\.resume failed: no complete reply within 0\.3 s \(timeout/);
      // By progress, not by the wall clock (a loaded machine stretches both): the client gave up
      // while the server still held its reply.
      expect(sb.requests('soft.resume').at(-1)?.outcome, 'the server had not answered yet').to.equal('pending');
    });

    it('latency within the timeout is just slow', async () => {
      sb.inject({ kind: 'latency', func: 'soft.edit', delayMs: 200 });
      expect((await client.get(id)).id).to.equal(id);
    });

    it('dropped connection → TransportError; the sandbox did nothing', async () => {
      sb.inject({ kind: 'drop', func: 'soft.suspend' });
      const e = await rejects(client.suspend(id), TransportError);
      expect(e.message).to.match(/soft\.suspend failed: connection (dropped|reset)/);
      expect(state(id).manualSuspended).to.equal(false);
      expect(sb.requests('soft.suspend').at(-1)).to.deep.include({ outcome: 'dropped', applied: false });
    });

    it('dropped after the order was taken → TransportError saying it may have been carried out; the sandbox holds the paid license', async () => {
      const purchases = sb.purchases();
      sb.inject({ kind: 'dropafter', func: 'soft.order.param' });
      const e = await rejects(order(8, '192.0.2.80'), TransportError);
      expect(e.message).to.match(/may have been carried out/);
      expect(sb.purchases()).to.equal(purchases + 1);
      const taken = sb.licenses().filter((l) => l.licname === 'Item #8');
      expect(taken).to.have.length(1);
      // The caller can find it (SPEC 5.2 step 3): the list shows it with its name, IP and tariff.
      expect((await client.list()).filter((l) => l.licname === 'Item #8')).to.have.length(1);
      expect(taken[0]).to.deep.include({ ip: '192.0.2.80', pricelist: '3541', remoteid: '8' });
    });

    it('an injected <error type="auth"> → CredentialsError', async () => {
      sb.inject({ kind: 'error', func: 'soft', type: 'auth', msg: 'Session expired' });
      const e = await rejects(client.list(), CredentialsError);
      expect(e.message).to.include('Session expired');
      sb.inject({ kind: 'error', func: 'soft.edit', type: 'access', msg: 'Access denied' });
      await rejects(client.get(id), CredentialsError);
    });

    it('an injected <error> of an unknown type → UpstreamRefusalError with type, object and msg', async () => {
      sb.inject({ kind: 'error', func: 'service.prolong', type: 'fraud_check', object: 'account', msg: 'Account under review, try tomorrow' });
      const before = state(id).expiredate;
      const e = await rejects(client.prolong(id, 1), UpstreamRefusalError);
      expect([e.upstreamType, e.upstreamObject]).to.deep.equal(['fraud_check', 'account']);
      expect(e.message).to.include('Account under review, try tomorrow').and.include('service.prolong');
      expect(state(id).expiredate).to.equal(before);
    });

    it('an injected missed/elid → LicenseMissingError', async () => {
      sb.inject({ kind: 'error', func: 'soft.resume', type: 'missed', object: 'elid', msg: 'gone' });
      await rejects(client.resume(id), LicenseMissingError);
    });

    it('faults are one-shot: the next call goes through', async () => {
      sb.inject({ kind: 'http500', func: 'soft.edit' });
      await rejects(client.get(id), TransportError);
      expect((await client.get(id)).id).to.equal(id);
    });
  });

  describe('secrets', () => {
    it('the sandbox received authinfo in the body and never in the URL path', () => {
      const reqs = sb.requests();
      expect(reqs.length).to.be.greaterThan(20);
      for (const r of reqs) {
        expect(r.method).to.equal('POST');
        expect(r.path).to.equal('/billmgr');
        if (r.func !== 'auth') expect(r.params.authinfo).to.equal('***');
        expect(r.params).to.include({ out: 'xml', lang: 'en' });
      }
    });

    it('no password, authinfo or license key in the log file', () => {
      for (const l of sb.licenses()) if (l.lickey) keysSeen.add(l.lickey);
      const text = logged.text();
      expect(text).to.match(/upstream request soft\.order\.param/);
      expect(keysSeen.size).to.be.greaterThan(2);
      for (const s of [PASS, `${USER}:${PASS}`, encodeURIComponent(PASS), ...keysSeen]) {
        expect(text, `log leaks ${s.slice(0, 4)}…`).not.to.include(s);
      }
    });
  });
});
