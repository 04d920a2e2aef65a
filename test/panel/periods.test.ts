// The "Periods comparison" pages (SPEC 8, 5.1) driven as COREmanager drives them, with the state
// checked through the CLI (`periods list --json`), and the rule added in the panel used by `open`.
import { expect } from 'chai';
import { setSimCatalog } from '../../src/sandbox/host.js';
import { child, childText, childrenNamed } from '../../src/xml.js';
import { World } from '../support/world.js';
import { errorOf, rows, rulesViaCli, runPanelExe, slistOf } from './run.js';

const CATALOG = {
  itemtypes: [
    { id: 1, name: 'ISPsystem licenses', intname: 'soft' },
    { id: 2, name: 'Virtual servers', intname: 'vds' },
  ],
  pricelists: [
    { id: 20, name: 'License Lite', itemtype: 1 },
    { id: 21, name: 'License Business', itemtype: 1 },
    { id: 30, name: 'VDS-1', itemtype: 2 },
    { id: 31, name: 'VDS-2', itemtype: 2 },
  ],
};

const RULE_1 = { id: 1, source: 1, target: 12, itemtype: null, pricelist: null };
const RULE_2 = { id: 2, source: 3, target: 0, itemtype: 'soft', pricelist: 21 };

describe('panel: Periods comparison', function () {
  this.timeout(30_000);
  let w: World;
  before(async () => {
    w = await World.create();
    setSimCatalog(w.host.dbPath, CATALOG);
  });
  after(async () => {
    await w.close();
  });

  it('lists no rules for a fresh module: the page document printed back, no <elem> at all', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-list.xml' });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc)).to.equal(null);
    expect(a.doc.attrs.func).to.equal('pmisplicense.periods');
    expect(child(a.doc, 'metadata')?.attrs.name, 'the incoming document is kept').to.equal('pmisplicense.periods');
    expect(childrenNamed(a.doc, 'elem'), 'an empty list prints no row, not even an empty one').to.deep.equal([]);
    expect(childrenNamed(a.doc, 'p_elems')).to.deep.equal([]);
    expect(childText(a.doc, 'plid')).to.equal('1');
  });

  it('a new-rule form offers the periods, the product types and the tariff plans of the default type', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-form-new.xml' });
    expect(errorOf(a.doc)).to.equal(null);
    expect(childText(a.doc, 'source')).to.equal('1');
    expect(childText(a.doc, 'target')).to.equal('12');
    expect(childText(a.doc, 'compare_pricelist')).to.equal('off');
    expect(childText(a.doc, 'itemtype')).to.equal('soft');
    expect(slistOf(a.doc, 'source').map(([k]) => k)).to.deep.equal(['1', '3', '6', '12', '24', '36', '0', '-100', '-50']);
    expect(slistOf(a.doc, 'target')).to.deep.equal([['1', '1 month'], ['12', '1 year'], ['0', 'Lifetime']]);
    expect(slistOf(a.doc, 'itemtype')).to.deep.equal([['soft', 'ISPsystem licenses'], ['vds', 'Virtual servers']]);
    expect(slistOf(a.doc, 'pricelist')).to.deep.equal([['20', 'License Lite (#20)'], ['21', 'License Business (#21)']]);
  });

  it('setvalues on itemtype refills the tariff plans for the chosen product type and saves nothing', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-setvalues.xml' });
    expect(errorOf(a.doc)).to.equal(null);
    expect(slistOf(a.doc, 'pricelist').map(([k]) => k)).to.deep.equal(['30', '31']);
    expect(childText(a.doc, 'itemtype')).to.equal('vds');
    expect(childText(a.doc, 'pricelist'), 'a plan of another type is replaced by one of this type').to.equal('30');
    expect(childText(a.doc, 'source')).to.equal('3');
    expect(childText(a.doc, 'target')).to.equal('0');
    expect(childText(a.doc, 'compare_pricelist')).to.equal('on');
    expect(await rulesViaCli(w)).to.deep.equal([]);
  });

  it('saves a global rule (an unticked tariff-plan box ignores the selects) and a tariff-limited one', async () => {
    const g = await runPanelExe(w, { fixture: 'periods-save-global.xml' });
    expect(errorOf(g.doc)).to.equal(null);
    expect(child(g.doc, 'ok')).to.not.equal(undefined);
    const s = await runPanelExe(w, { fixture: 'periods-save-scoped.xml' });
    expect(child(s.doc, 'ok')).to.not.equal(undefined);
    expect(await rulesViaCli(w)).to.deep.equal([RULE_1, RULE_2]);
  });

  const badSaves: Array<[string, string, RegExp]> = [
    ['periods-bad-source.xml', 'source', /"5" is not a BILLmanager period code/],
    ['periods-bad-target.xml', 'target', /"3" is not a license order period/],
    ['periods-bad-itemtype.xml', 'itemtype', /product type must be its internal name/],
    ['periods-bad-pricelist.xml', 'pricelist', /tariff plan must be a tariff plan id/],
    ['periods-bad-compare.xml', 'pricelist', /needs both the product type .* and the tariff plan/],
    ['periods-bad-plid.xml', 'plid', /Processing module 99 was not found/],
  ];
  for (const [file, field, msg] of badSaves) {
    it(`a bad save (${file}) is a value error naming ${field}, with nothing changed`, async () => {
      const a = await runPanelExe(w, { fixture: file });
      expect(a.code).to.equal(0);
      expect(errorOf(a.doc)).to.deep.include({ type: 'value', object: field });
      expect(errorOf(a.doc)!.msg).to.match(msg);
      expect(child(a.doc, 'ok')).to.equal(undefined);
      expect(await rulesViaCli(w)).to.deep.equal([RULE_1, RULE_2]);
    });
  }

  it('a duplicate rule is refused in Russian, naming the rule that exists', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-bad-duplicate-ru.xml' });
    const e = errorOf(a.doc)!;
    expect(e).to.deep.include({ type: 'value', object: 'source' });
    expect(e.msg).to.include('Правило 1');
    expect(child(a.doc, 'error')!.attrs.lang).to.equal('ru');
    // The CLI refuses the same rule with the same check.
    const cli = await w.exec(['periods', 'add', '--module', '1', '--source', '1', '--target', '0']);
    expect(cli.code).to.equal(1);
    expect(cli.stderr).to.match(/Rule 1 of module 1 already exists/);
    expect(await rulesViaCli(w)).to.deep.equal([RULE_1, RULE_2]);
  });

  it('lists the rules with period names, the product type and the tariff plan name and id', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-list.xml' });
    expect(rows(a.doc)).to.deep.equal([
      { id: '1', source: '1 month', target: '1 year', itemtype: '', pricelist: 'All tariff plans' },
      { id: '2', source: '3 months', target: 'Lifetime', itemtype: 'ISPsystem licenses (soft)', pricelist: 'License Business (#21)' },
    ]);
  });

  it('opens a rule in its form (in Russian) and changes it', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-form-get.xml' });
    expect(errorOf(a.doc)).to.equal(null);
    expect([childText(a.doc, 'elid'), childText(a.doc, 'source'), childText(a.doc, 'target'), childText(a.doc, 'compare_pricelist'), childText(a.doc, 'itemtype'), childText(a.doc, 'pricelist')]).to.deep.equal(['2', '3', '0', 'on', 'soft', '21']);
    expect(slistOf(a.doc, 'target')[0]).to.deep.equal(['1', '1 месяц']);
    const c = await runPanelExe(w, { fixture: 'periods-save-change.xml' });
    expect(child(c.doc, 'ok')).to.not.equal(undefined);
    expect(await rulesViaCli(w)).to.deep.equal([RULE_1, { id: 2, source: 6, target: 12, itemtype: 'soft', pricelist: 20 }]);
  });

  it('asked for page 2 of 2 rows, returns all 3 rules and leaves the paging to COREmanager (p_cnt, p_num back as given)', async () => {
    expect((await w.exec(['periods', 'add', '--module', '1', '--source', '12', '--target', '1'])).stdout).to.equal('3\n');
    const a = await runPanelExe(w, { fixture: 'periods-list-page2.xml' });
    expect(rows(a.doc).map((r) => r.id)).to.deep.equal(['1', '2', '3']);
    expect([childText(child(a.doc, 'tparams')!, 'p_num'), childText(child(a.doc, 'tparams')!, 'p_cnt')]).to.deep.equal(['2', '2']);
    expect(childrenNamed(a.doc, 'p_num')).to.deep.equal([]);
    expect(childrenNamed(a.doc, 'p_elems')).to.deep.equal([]);
  });

  it('escapes host names and drops the control characters XML forbids', async () => {
    setSimCatalog(w.host.dbPath, { ...CATALOG, pricelists: CATALOG.pricelists.map((p) => (p.id === 20 ? { ...p, name: 'Lite <b>&\u0001\u001b"x"' } : p)) });
    try {
      const a = await runPanelExe(w, { fixture: 'periods-list.xml' });
      expect(rows(a.doc)[1]!.pricelist).to.equal('Lite <b>&"x" (#20)');
      expect(a.stdout).to.not.match(/[\u0001\u001b]/);
    } finally {
      setSimCatalog(w.host.dbPath, CATALOG);
    }
  });

  it('deleting several rules where one does not exist deletes none', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-delete-missing.xml' });
    expect(errorOf(a.doc)).to.deep.include({ type: 'value', object: 'elid' });
    expect(errorOf(a.doc)!.msg).to.match(/no period rule 999/);
    expect((await rulesViaCli(w)) as unknown[]).to.have.length(3);
  });

  it('deletes the rules in elid ("1, 3")', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-delete.xml' });
    expect(errorOf(a.doc)).to.equal(null);
    expect(child(a.doc, 'ok')).to.not.equal(undefined);
    expect(await rulesViaCli(w)).to.deep.equal([{ id: 2, source: 6, target: 12, itemtype: 'soft', pricelist: 20 }]);
  });

  it('refuses a customer (AUTH_LEVEL 16) and a call without AUTH_LEVEL with an access error, changing nothing', async () => {
    for (const level of ['16', null]) {
      const l = await runPanelExe(w, { fixture: 'periods-list.xml', level });
      expect(errorOf(l.doc)).to.deep.include({ type: 'access' });
      expect(rows(l.doc)).to.deep.equal([]);
      const s = await runPanelExe(w, { fixture: 'periods-save-global.xml', level });
      expect(errorOf(s.doc)).to.deep.include({ type: 'access' });
    }
    expect((await rulesViaCli(w)) as unknown[]).to.have.length(1);
  });

  it('answers from the environment alone when stdin is empty (as <doc/>) or not XML', async () => {
    for (const stdin of ['', 'not xml <<<']) {
      const a = await runPanelExe(w, { stdin, params: { func: 'pmisplicense.periods', elid: '1' } });
      expect(a.code).to.equal(0);
      expect(a.doc.name).to.equal('doc');
      expect(rows(a.doc).map((r) => r.id)).to.deep.equal(['2']);
    }
  });

  it('does not hang on a stdin that never closes', async () => {
    const a = await runPanelExe(w, { stdin: null, params: { func: 'pmisplicense.periods', elid: '1' } });
    expect(a.code).to.equal(0);
    expect(rows(a.doc).map((r) => r.id)).to.deep.equal(['2']);
  });

  it('an unknown function is an error document, not a crash', async () => {
    const a = await runPanelExe(w, { fixture: 'unknown-func.xml' });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc)).to.deep.include({ type: 'command', object: 'func' });
  });
});

describe('panel: a rule added in the panel is the rule open uses', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.close();
  });

  it('rule 1 -> 12 added through the handler: a monthly service gets a 12-month license', async () => {
    const a = await runPanelExe(w, { fixture: 'periods-save-global.xml' });
    expect(child(a.doc, 'ok'), a.stdout).to.not.equal(undefined);
    w.addService({ id: 201, period: '1', expiredate: '2026-02-10' });
    const r = await w.command('open', { item: 201, ro: 1 });
    expect(r.code, r.stdout).to.equal(0);
    const ordered = w.requests('soft.order.param');
    expect(ordered).to.have.length(1);
    const lic = w.sandbox.licenses().find((l) => l.licname === 'Item #201');
    expect(lic?.period).to.equal(12);
  });
});
