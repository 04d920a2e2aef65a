// pricelist.export (SPEC 7 v3): the sandbox serves the account's tariffs and prices, the client
// reads them into typed tariffs; a price the export does not give is unknown (null), never 0.
import { expect } from 'chai';
import { startLicensingServer, type LicensingSandbox } from '../../src/sandbox/licensing-server.js';
import { LicensingClient, parseTariffs, priceOf } from '../../src/upstream/client.js';
import { parseXml } from '../../src/xml.js';
import { CredentialsError } from '../../src/errors.js';
import { rejects } from '../support/rejects.js';

const USER = 'tariff-reseller';
const PASS = 'Tariff-Pa55word#2026';

describe('upstream/client tariffs(): pricelist.export against the sandbox', () => {
  let sb: LicensingSandbox;
  let client: LicensingClient;

  before(async () => {
    sb = await startLicensingServer({
      user: USER,
      password: PASS,
      balance: 500,
      now: '2026-03-01',
      currency: 'RUB',
      // 3541 at its own prices; 4601 sold monthly and yearly only (no lifetime price).
      prices: { '3541': { '1': 11.5, '12': 115, '0': 345 }, '4601': { '1': 21, '12': 210 } },
      tariffNames: { '3541': 'ISPmanager Lite <test>' },
    });
    client = new LicensingClient({ url: sb.url, username: USER, password: PASS }, { timeoutMs: 5000 });
  });

  after(async () => {
    await sb.close();
  });

  it('answers the XML shape of the price export: <pricelist> rows with id, name and price/period@cost', async () => {
    const body = new URLSearchParams({ authinfo: `${USER}:${PASS}`, out: 'xml', func: 'pricelist.export', itemtype: 'soft', onlyavailable: 'on' });
    const res = await fetch(sb.url, { method: 'POST', body });
    const doc = parseXml(await res.text());
    const rows = doc.children.filter((c) => c.name === 'pricelist');
    const lite = rows.find((r) => r.children.find((c) => c.name === 'id')?.text === '3541');
    expect(lite, 'tariff 3541 exported').to.not.equal(undefined);
    expect(lite!.children.find((c) => c.name === 'name')?.text).to.equal('ISPmanager Lite <test>');
    const price = lite!.children.find((c) => c.name === 'price')!;
    expect(price.attrs.currency).to.equal('RUB');
    const periods = price.children.map((p) => p.attrs);
    expect(periods).to.deep.include({ type: 'month', length: '1', cost: '11.50' });
    expect(periods).to.deep.include({ type: 'month', length: '12', cost: '115.00' });
  });

  it('tariffs() lists every tariff with the sandbox prices; a period it does not sell is absent, not 0', async () => {
    const tariffs = await client.tariffs();
    const table = sb.snapshot().prices;
    expect(tariffs.map((t) => t.id).sort()).to.deep.equal(Object.keys(table).sort());
    for (const t of tariffs) {
      for (const p of t.prices) {
        expect(p.cost, `${t.id}/${p.period}`).to.equal(table[t.id]![String(p.period) as '1' | '12' | '0']);
        expect(p.currency).to.equal('RUB');
      }
    }
    const business = tariffs.find((t) => t.id === '4601')!;
    expect(business.prices.map((p) => p.period)).to.deep.equal([1, 12]);
    expect(priceOf(tariffs, '4601', 0)).to.equal(null);
    expect(priceOf(tariffs, '3541', 0)).to.deep.equal({ period: 0, cost: 345, currency: 'RUB' });
    expect(priceOf(tariffs, '99999', 1)).to.equal(null);
  });

  it('asks with itemtype=soft and onlyavailable=on, spends nothing, changes nothing', async () => {
    const before = sb.snapshot();
    sb.clearRequests();
    await client.tariffs();
    const reqs = sb.requests();
    expect(reqs.map((r) => r.func)).to.deep.equal(['pricelist.export']);
    expect(reqs[0]!.params).to.include({ itemtype: 'soft', onlyavailable: 'on', authinfo: '***' });
    const after = sb.snapshot();
    expect(after.balance).to.equal(before.balance);
    expect(after.licenses).to.deep.equal(before.licenses);
  });

  it('another itemtype gets an empty list; a wrong password is refused', async () => {
    const body = new URLSearchParams({ authinfo: `${USER}:${PASS}`, out: 'xml', func: 'pricelist.export', itemtype: 'vds' });
    const doc = parseXml(await (await fetch(sb.url, { method: 'POST', body })).text());
    expect(doc.children.filter((c) => c.name === 'pricelist')).to.have.length(0);
    const bad = new LicensingClient({ url: sb.url, username: USER, password: 'nope-nope' });
    const e = await rejects(bad.tariffs(), CredentialsError);
    expect(e.message).to.match(/refused the credentials/);
  });

  it('parseTariffs: year spelled either way, lifetime, unreadable cost = null, unknown period types skipped', () => {
    const doc = parseXml(
      '<doc><pricelist><id>7</id><name>X</name><price currency="USD">' +
        '<period type="month" length="1" cost="5"/><period type="year" length="1" cost="50.5"/>' +
        '<period type="lifetime" cost=""/><period type="day" length="1" cost="1"/></price></pricelist>' +
        '<pricelist><name>no id</name></pricelist>' +
        '<pricelist><id>8</id><price><period type="month" length="12" cost="abc"/></price></pricelist></doc>',
    );
    expect(parseTariffs(doc)).to.deep.equal([
      { id: '7', name: 'X', prices: [ { period: 1, cost: 5, currency: 'USD' }, { period: 12, cost: 50.5, currency: 'USD' }, { period: 0, cost: null, currency: 'USD' } ] },
      { id: '8', name: '', prices: [ { period: 12, cost: null, currency: null } ] },
    ]);
  });
});
