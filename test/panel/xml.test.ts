// The panel XML (SPEC 8): well-formed, every function of the handler declared with its metadata
// (or, for an action, reached by a group button), admin+ everywhere, and en + ru texts for every
// title, column, field (with its hint) and button. The module XML ships no customparam texts.
// COREmanager's conventions (SPEC 8 v3): group confirmations named msg_<list func>_<button>;
// state/kind columns type="msg" with a text for every raw key the handler prints; the summary
// banner's message; the buttons on the Processing modules list shown only on this module's rows.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PANEL_FUNCS } from '../../src/panel/handler.js';
import { POOL_STATES } from '../../src/panel/pool.js';
import { FINDING_KINDS } from '../../src/panel/reconcile.js';
import { POOL_SUMMARY, POOL_SUMMARY_ID } from '../../src/panel/texts.js';
import { childrenNamed, parseXml, type XmlElement } from '../../src/xml.js';
import { REPO_ROOT } from '../support/fake-host.js';

const PANEL_XML = join(REPO_ROOT, 'etc', 'xml', 'billmgr_mod_pmisplicense_panel.xml');
const MODULE_XML = join(REPO_ROOT, 'etc', 'xml', 'billmgr_mod_pmisplicense.xml');

function all(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];
}

describe('panel XML', () => {
  const doc = parseXml(readFileSync(PANEL_XML, 'utf8'));
  const metadata = childrenNamed(doc, 'metadata');
  const meta = (name: string) => metadata.find((m) => m.attrs.name === name);
  const handler = childrenNamed(doc, 'handler')[0]!;
  const funcs = childrenNamed(handler, 'func').map((f) => f.attrs.name ?? '');
  const messages = (lang: string, name: string): Record<string, string> => {
    const l = childrenNamed(doc, 'lang').find((e) => e.attrs.name === lang);
    const m = l && childrenNamed(l, 'messages').find((e) => e.attrs.name === name);
    return Object.fromEntries((m ? childrenNamed(m, 'msg') : []).map((e) => [e.attrs.name ?? '', e.text]));
  };

  it('both XML files are well-formed', () => {
    expect(doc.name).to.equal('mgrdata');
    expect(parseXml(readFileSync(MODULE_XML, 'utf8')).name).to.equal('mgrdata');
  });

  it('declares the handler pmisplicense_panel (type xml) with exactly the functions the handler answers', () => {
    expect(handler.attrs).to.deep.include({ name: 'pmisplicense_panel', type: 'xml' });
    expect([...funcs].sort()).to.deep.equal([...PANEL_FUNCS].sort());
  });

  it('every function has its metadata, or is an action reached by a group button; every button calls a declared function', () => {
    const buttons = metadata.flatMap((m) => all(m, 'toolbtn'));
    for (const f of funcs) {
      const m = meta(f);
      const action = buttons.some((b) => b.attrs.func === f && b.attrs.type === 'group');
      expect(m !== undefined || action, f).to.equal(true);
    }
    for (const b of buttons) expect(funcs, `button ${b.attrs.name}`).to.include(b.attrs.func);
  });

  it('lists have key="id", a toolbar and columns; forms are forms; admin+ on every function, page and button', () => {
    for (const f of funcs) expect(childrenNamed(handler, 'func').find((e) => e.attrs.name === f)!.attrs.level, f).to.equal('admin+');
    for (const name of ['pmisplicense.periods', 'pmisplicense.pool', 'pmisplicense.reconcile']) {
      const m = meta(name)!;
      expect(m.attrs, name).to.deep.include({ type: 'list', key: 'id', level: 'admin+' });
      expect(all(m, 'toolbar'), name).to.have.length(1);
      expect(all(m, 'col').length, name).to.be.greaterThan(0);
    }
    for (const name of ['pmisplicense.periods.edit', 'pmisplicense.pool.adopt']) expect(meta(name)!.attrs, name).to.deep.include({ type: 'form', level: 'admin+' });
    for (const b of metadata.flatMap((m) => all(m, 'toolbtn'))) expect(b.attrs.level, `button ${b.attrs.name}`).to.equal('admin+');
  });

  it("merges Periods comparison, License pool and Reconcile (type list) into BILLmanager's Processing modules list, shown only on this module's rows", () => {
    const processing = meta('processing')!;
    expect(processing.attrs.type).to.equal('list');
    const btns = all(processing, 'toolbtn');
    expect(btns.map((b) => [b.attrs.func, b.attrs.type])).to.deep.equal([
      ['pmisplicense.periods', 'list'],
      ['pmisplicense.pool', 'list'],
      ['pmisplicense.reconcile', 'list'],
    ]);
    for (const b of btns) {
      // <show name="module" value="pmisplicense"/>: the processing list's `module` column holds the module's name.
      expect(childrenNamed(b, 'show').map((c) => c.attrs), b.attrs.name).to.deep.equal([{ name: 'module', value: 'pmisplicense' }]);
      expect(childrenNamed(b, 'hide'), b.attrs.name).to.deep.equal([]);
    }
  });

  it('opens every page that needs the module from the Processing modules list: no list of ours opens another list (elid would not be the module there)', () => {
    for (const m of metadata.filter((x) => x.attrs.name !== 'processing')) {
      const lists = all(m, 'toolbtn').filter((b) => b.attrs.type === 'list');
      expect(lists.map((b) => b.attrs.func), m.attrs.name).to.deep.equal([]);
    }
  });

  for (const lang of ['en', 'ru']) {
    it(`names each group button's ${lang} confirmation msg_<list func>_<button> (and ships no msg_confirm_*)`, () => {
      let groups = 0;
      for (const m of metadata) {
        const t = messages(lang, m.attrs.name!);
        for (const b of all(m, 'toolbtn').filter((x) => x.attrs.type === 'group')) {
          groups++;
          expect(t[`msg_${m.attrs.name}_${b.attrs.name}`], `${lang} msg_${m.attrs.name}_${b.attrs.name}`).to.be.a('string').and.not.equal('');
        }
        expect(Object.keys(t).filter((k) => k.startsWith('msg_confirm')), `${lang} ${m.attrs.name}`).to.deep.equal([]);
      }
      expect(groups).to.equal(2); // periods Delete, reconcile Apply
      expect(messages(lang, 'pmisplicense.periods')['msg_pmisplicense.periods_delete']).to.be.a('string');
      expect(messages(lang, 'pmisplicense.reconcile')['msg_pmisplicense.reconcile_apply']).to.be.a('string');
    });

    it(`shows a state or kind as type="msg" with a ${lang} text for every raw key the handler prints`, () => {
      const msgCols: Array<[string, string, readonly string[]]> = [
        ['pmisplicense.pool', 'state', POOL_STATES],
        ['pmisplicense.reconcile', 'kind', FINDING_KINDS],
      ];
      for (const [list, col, keys] of msgCols) {
        const c = all(meta(list)!, 'col').find((x) => x.attrs.name === col)!;
        expect(c.attrs.type, `${list} ${col}`).to.equal('msg');
        const t = messages(lang, list);
        for (const k of keys) expect(t[k], `${lang} ${list} ${k}`).to.be.a('string').and.not.equal('');
      }
      expect(FINDING_KINDS).to.include.members(['unbound', 'moved']);
      // Only those two columns are messages: ids, dates and names are data.
      const msgColumns = metadata.flatMap((m) => all(m, 'col').filter((c) => c.attrs.type === 'msg').map((c) => `${m.attrs.name}.${c.attrs.name}`));
      expect(msgColumns.sort()).to.deep.equal(['pmisplicense.pool.state', 'pmisplicense.reconcile.kind']);
    });

    it(`has the ${lang} message of the pool's summary banner, the same text the handler fills in`, () => {
      expect(messages(lang, 'pmisplicense.pool')[POOL_SUMMARY_ID]).to.equal(POOL_SUMMARY[lang as 'en' | 'ru']);
      expect(POOL_SUMMARY[lang as 'en' | 'ru'].match(/__[a-z]+__/g)!.sort()).to.deep.equal(['__licenses__', '__lifetime__', '__paiddays__', '__reuses__']);
    });
  }

  for (const lang of ['en', 'ru']) {
    it(`has ${lang} texts for every title, column, field, hint and button`, () => {
      for (const m of metadata) {
        const name = m.attrs.name!;
        const t = messages(lang, name);
        const need: string[] = [];
        if (name !== 'processing') need.push('title');
        for (const c of all(m, 'col')) need.push(c.attrs.name!);
        for (const f of all(m, 'field')) need.push(f.attrs.name!, `hint_${f.attrs.name}`);
        for (const b of all(m, 'toolbtn')) need.push(`short_${b.attrs.name}`, `hint_${b.attrs.name}`);
        for (const k of need) expect(t[k], `${lang} ${name} ${k}`).to.be.a('string').and.not.equal('');
      }
      expect(messages(lang, 'msgerror').msg_error_access, `${lang} msg_error_access`).to.be.a('string').and.not.equal('');
    });
  }

  it('the Russian texts are Russian, not copies of the English ones', () => {
    for (const m of metadata) {
      const en = messages('en', m.attrs.name!);
      const ru = messages('ru', m.attrs.name!);
      for (const [k, v] of Object.entries(en)) expect(ru[k], `${m.attrs.name} ${k}`).to.not.equal(v);
    }
  });

  it('the module XML carries no processing.customparam texts (no such page exists)', () => {
    const text = readFileSync(MODULE_XML, 'utf8');
    expect(text).to.not.match(/<messages name="processing\.customparam/);
  });
});
