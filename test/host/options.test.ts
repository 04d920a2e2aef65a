// The read-only reader of tariff options (SPEC 4) against a real MariaDB on a private socket:
// the value rules, the filters, the keys, the many-services queries reconcile uses, and failures.
import { expect } from 'chai';
import { HostError } from '../../src/errors.js';
import { OptionsReader, openOptionsReader, type ServiceOptions } from '../../src/host/options.js';
import { resolvePanel } from '../../src/host/panel.js';
import type { DatabaseSettings } from '../../src/host/types.js';
import { Catalog, SEED_PANEL_ITEMS, startMariaDb, type MariaDb } from '../support/mariadb.js';

describe('OptionsReader (BILLmanager database, read-only)', function () {
  this.timeout(60_000);
  let mdb: MariaDb;
  let cat: Catalog;
  let settings: DatabaseSettings;

  before(async () => {
    mdb = await startMariaDb();
  });
  after(async () => {
    await mdb?.stop();
  });
  beforeEach(async () => {
    await mdb.reset();
    cat = new Catalog(mdb);
    settings = { host: '', user: mdb.user, password: mdb.password, name: mdb.database, socket: mdb.socket };
  });

  async function read(item: number): Promise<ServiceOptions | null> {
    const r = await OptionsReader.open(settings);
    try {
      return await r.optionsOf(item);
    } finally {
      await r.close();
    }
  }
  const byKey = (o: ServiceOptions | null) => Object.fromEntries((o?.options ?? []).map((x) => [x.key, x.value]));

  it('applies the value rules of every option type', async () => {
    await cat.tariff(20);
    await cat.option(20, { id: 1, intname: 'panel', addontype: 3, items: SEED_PANEL_ITEMS, defaultItem: 398 });
    await cat.option(20, { id: 2, intname: 'addon_4602', addontype: 2, addonlimit: 1 });
    await cat.option(20, { id: 3, intname: 'addon_100', addontype: 2, addonlimit: 5 });
    await cat.option(20, { id: 4, intname: 'backup', addontype: 1, addonbool: 'on' });
    await cat.option(20, { id: 5, intname: 'support', addontype: 1, addonbool: 'off' });
    await cat.option(20, { id: 6, intname: 'os', addontype: 3, items: [{ id: 600, intname: 'debian', name: 'Debian' }], defaultItem: null });
    await cat.service(null, 100, 20, [
      { id: 1001, option: 1, enumerationitem: 399 },
      { id: 1002, option: 2, intvalue: 2 },
      { id: 1003, option: 3, addonlimit: 8, intvalue: 1 },
      { id: 1005, option: 5, boolvalue: 'on' },
    ]);
    const o = await read(100);
    expect(o!.tariff).to.equal(20);
    expect(byKey(o)).to.deep.equal({ panel: '4601', addon_4602: '3', addon_100: '9', backup: 'on', support: 'on', os: null });
    const panel = o!.options.find((x) => x.key === 'panel')!;
    expect(panel).to.include({ id: 1, valueFrom: 'service', addontype: 3 });
    expect(panel.items).to.deep.equal(['3541', '4601']);
  });

  it('skips billtype 4 and 10, inactive options the service lacks, and compound ones it lacks; keys by the detail when the option has no internal name', async () => {
    await cat.itemtype(9, 'licensetype');
    await cat.tariff(20);
    await cat.option(20, { id: 1, intname: 'compound4', addontype: 2, billtype: 4, addonlimit: 1 });
    await cat.option(20, { id: 2, intname: 'manual10', addontype: 2, billtype: 10, addonlimit: 1 });
    await cat.option(20, { id: 3, intname: 'old', addontype: 2, active: 'off', addonlimit: 1 });
    await cat.option(20, { id: 4, intname: 'oldkept', addontype: 2, active: 'off', addonlimit: 1 });
    await cat.option(20, { id: 5, intname: 'part', addontype: 2, compound: 1, addonlimit: 1 });
    await cat.option(20, { id: 6, intname: 'partkept', addontype: 2, compound: 1, addonlimit: 1 });
    await cat.option(20, { id: 7, intname: '', itemtype: 9, addontype: 3, items: SEED_PANEL_ITEMS, defaultItem: 400 });
    await cat.option(20, { id: 8, intname: 'ok', addontype: 2, billtype: null, addonlimit: 2 });
    await cat.service(null, 100, 20, [
      { id: 1004, option: 4 },
      { id: 1006, option: 6, intvalue: 3 },
    ]);
    expect(byKey(await read(100))).to.deep.equal({ oldkept: '1', partkept: '4', licensetype: 'nopanel', ok: '2' });
  });

  it("gives the tariff's product type (item → pricelist → itemtype.intname), null when the tariff names none", async () => {
    await cat.itemtype(1, 'soft');
    await cat.tariff(20, 1);
    await cat.tariff(30);
    await cat.service(null, 100, 20, []);
    await cat.service(null, 101, 30, []);
    expect((await read(100))!.itemtype).to.equal('soft');
    expect((await read(101))!.itemtype).to.equal(null);
  });

  it('reads many services at once, and every license_id param in one query', async () => {
    await cat.tariff(20);
    await cat.tariff(30);
    await cat.option(20, { id: 1, intname: 'panel', addontype: 3, items: SEED_PANEL_ITEMS, defaultItem: 398 });
    await cat.option(30, { id: 2, intname: 'addon_4602', addontype: 2, addonlimit: 4 });
    await cat.service(null, 100, 20, [{ id: 1001, option: 1, enumerationitem: 400 }]);
    await cat.service(null, 101, 30, []);
    await cat.service(null, 102, 20, []);
    await cat.param(100, 'license_id', '5001');
    await cat.param(101, 'license_id', '5002');
    await cat.param(101, 'lickey', 'not-this');
    const r = await OptionsReader.open(settings);
    try {
      const many = await r.optionsOfMany([100, 101, 102, 999]);
      expect([...many.keys()].sort()).to.deep.equal([100, 101, 102]);
      expect(byKey(many.get(100)!)).to.deep.equal({ panel: 'nopanel' });
      expect(byKey(many.get(101)!)).to.deep.equal({ addon_4602: '4' });
      expect(byKey(many.get(102)!)).to.deep.equal({ panel: '3541' });
      expect([...(await r.licenseIdParams()).entries()].sort()).to.deep.equal([
        [100, '5001'],
        [101, '5002'],
      ]);
    } finally {
      await r.close();
    }
  });

  it('is read-only: the session cannot write even where the user could', async () => {
    // Even with write rights (the root user of this test server), the module's session refuses writes.
    const r = await OptionsReader.open({ ...settings, user: 'root', password: '' });
    try {
      const conn = (r as unknown as { conn: { query(sql: string): Promise<unknown> } }).conn;
      let refused = false;
      try {
        await conn.query("INSERT INTO itemparam (item, intname, value) VALUES (1, 'x', 'y')");
      } catch (e) {
        refused = /read.only|READ ONLY/i.test((e as Error).message);
      }
      expect(refused).to.equal(true);
    } finally {
      await r.close();
    }
  });

  it('no database named: no reader', async () => {
    expect(await openOptionsReader({ ...settings, name: '' })).to.equal(null);
  });

  it('an unreachable socket, a wrong password, a missing database or table: a retryable HostError without the password', async () => {
    const cases: DatabaseSettings[] = [
      { ...settings, socket: `${mdb.dir}/nothing.sock` },
      { ...settings, password: 'Wrong-Secret-Pw-99' },
      { ...settings, name: 'nosuchdb' },
    ];
    for (const s of cases) {
      let err: unknown = null;
      try {
        await (await OptionsReader.open(s)).close();
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify({ ...s, password: '***' })).to.be.instanceOf(HostError);
      expect((err as HostError).retryable).to.equal(true);
      expect((err as HostError).message).to.not.include(s.password);
    }
    await cat.tariff(20);
    await cat.service(null, 100, 20, []);
    await mdb.exec('DROP TABLE enumerationitem');
    try {
      let err: unknown = null;
      try {
        await read(100);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(HostError);
      expect((err as HostError).message).to.match(/ER_NO_SUCH_TABLE/);
    } finally {
      await mdb.exec('CREATE TABLE enumerationitem (id INT PRIMARY KEY, intname VARCHAR(64) NULL)');
    }
  });
});

describe('resolvePanel (SPEC 4 order of sources)', () => {
  const enumOpt = (id: number, key: string, value: string | null, items: string[]) => ({ id, key, intname: key, addontype: 3, value, valueFrom: 'service' as const, items });
  it('option panel beats a panel-like enumeration and the parameter', () => {
    const r = resolvePanel(1, '55331', { tariff: 20, itemtype: null, options: [enumOpt(2, 'other', '4601', ['4601']), enumOpt(3, 'panel', '3541', ['3541'])] });
    expect(r).to.include({ panel: '3541', source: 'option panel', error: null });
  });
  it('a panel option without a value is a value error, not a fallback to the parameter', () => {
    const r = resolvePanel(1, '3541', { tariff: 20, itemtype: null, options: [enumOpt(3, 'panel', null, [])] });
    expect(r.panel).to.equal(null);
    expect(r.error!.type).to.equal('value');
    expect(r.why).to.match(/neither a chosen nor a default value/);
  });
  it('a panel value that is not a tariff id nor nopanel is a value error', () => {
    const r = resolvePanel(1, '', { tariff: 20, itemtype: null, options: [enumOpt(3, 'panel', 'ispmanager-lite', ['ispmanager-lite'])] });
    expect(r.error!.message).to.match(/is not a tariff id/);
  });
  it('only options named addon_<digits> become upstream add-ons', () => {
    const r = resolvePanel(1, '3541', {
      tariff: 20,
      itemtype: null,
      options: [
        { id: 4, key: 'addon_4602', intname: 'addon_4602', addontype: 2, value: '3', valueFrom: 'service', items: [] },
        { id: 5, key: 'addon_x', intname: 'addon_x', addontype: 2, value: '1', valueFrom: 'tariff', items: [] },
        { id: 6, key: 'backup', intname: 'backup', addontype: 1, value: 'on', valueFrom: 'tariff', items: [] },
      ],
    });
    expect(r.addons).to.deep.equal({ addon_4602: '3' });
  });
});
