// COREmanager's conventions the handler keeps (SPEC 8 v3), driven as COREmanager drives it:
// the page's language (document `lang`, else PARAM_lang, else the `billmgrlang5` cookie in
// HTTP_COOKIE, else English), the list pages opened from the Processing modules list (elid = the
// module) and returning every row with the paging parameters back as given, the administrator
// boundary (AUTH_LEVEL 28). The XML side of the conventions: test/panel/xml.test.ts.
import { expect } from 'chai';
import { cookieLang, requestFrom } from '../../src/panel/request.js';
import { child, childText, childrenNamed, parseXml } from '../../src/xml.js';
import { seedLicenses } from '../support/seed-state.js';
import { World } from '../support/world.js';
import { errorOf, rows, runPanelExe } from './run.js';

/** The page document COREmanager sends for the pool list opened on the module's row. */
function poolDoc(lang?: string): string {
  const l = lang === undefined ? '' : ` lang="${lang}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<doc${l} func="pmisplicense.pool"><tparams><elid>1</elid><func>pmisplicense.pool</func></tparams></doc>`;
}

const RU_COOKIE = 'billmgrses5=0123456789abcdef; billmgrlang5=dragon:ru';

describe('panel conventions: the request', () => {
  const empty = parseXml('<doc/>');

  it('reads the language from billmgrlang5 (theme:lang or lang alone) and ignores other cookies', () => {
    expect(cookieLang(RU_COOKIE)).to.equal('ru');
    expect(cookieLang('billmgrlang5=ru')).to.equal('ru');
    expect(cookieLang('billmgrlang5=dragon%3Aru; x=y')).to.equal('ru');
    expect(cookieLang('lang=ru; mylang5=dragon:ru')).to.equal('');
    expect(cookieLang(undefined)).to.equal('');
  });

  it('takes the document lang, else PARAM_lang, else the cookie, else English', () => {
    expect(requestFrom({ HTTP_COOKIE: RU_COOKIE }, empty).lang).to.equal('ru');
    expect(requestFrom({ HTTP_COOKIE: RU_COOKIE, PARAM_lang: 'en' }, empty).lang).to.equal('en');
    expect(requestFrom({ HTTP_COOKIE: RU_COOKIE }, parseXml('<doc lang="en"/>')).lang).to.equal('en');
    expect(requestFrom({ PARAM_lang: 'ru' }, parseXml('<doc lang="en"/>')).lang).to.equal('en');
    expect(requestFrom({ HTTP_COOKIE: 'billmgrlang5=dragon:en' }, parseXml('<doc lang="ru"/>')).lang).to.equal('ru');
    expect(requestFrom({ HTTP_COOKIE: 'billmgrlang5=dragon:en' }, parseXml('<doc><tparams><lang>ru</lang></tparams></doc>')).lang).to.equal('ru');
    expect(requestFrom({}, empty).lang).to.equal('en');
    expect(requestFrom({ PARAM_lang: '' , HTTP_COOKIE: RU_COOKIE }, parseXml('<doc lang=""/>')).lang, 'an empty value is no value').to.equal('ru');
  });

  it('collects the paging parameters as given (environment and <tparams>), and nothing else', () => {
    const r = requestFrom({ PARAM_p_cnt: '50', PARAM_elid: '1', PARAM_func: 'pmisplicense.pool' }, parseXml('<doc><tparams><p_num>3</p_num><plid>1</plid></tparams></doc>'));
    expect(r.paging).to.deep.equal({ p_cnt: '50', p_num: '3' });
  });
});

describe('panel conventions: the pages', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    w = await World.create(); // today is 2026-01-10
    const base = { module: 1, period: 1, item: null, ipChangeDate: null, keyChangeDate: null, hasKey: true, pricelist: '3541' };
    seedLicenses(w.db, [
      { ...base, upstreamId: 801, state: 'free', ip: '203.0.113.81', expiredate: '2026-02-09' },
      { ...base, upstreamId: 802, state: 'bound', item: 82, ip: '203.0.113.82', expiredate: '2026-02-01' },
      { ...base, upstreamId: 803, state: 'free', ip: '203.0.113.83', expiredate: '2026-01-20' },
    ]);
  });
  after(async () => {
    await w.close();
  });

  it('answers in Russian when only the billmgrlang5 cookie says so, in English when the document says en', async () => {
    const ru = await runPanelExe(w, { stdin: poolDoc(), params: { func: 'pmisplicense.pool', elid: '1' }, env: { HTTP_COOKIE: RU_COOKIE } });
    expect(errorOf(ru.doc)).to.equal(null);
    expect(childText(child(ru.doc, 'banner')!, 'msg')).to.match(/^Лицензий в пуле: 2 /);
    expect(rows(ru.doc)[0]!.reusable).to.equal('Сейчас');
    const en = await runPanelExe(w, { stdin: poolDoc('en'), params: { func: 'pmisplicense.pool', elid: '1' }, env: { HTTP_COOKIE: RU_COOKIE } });
    expect(childText(child(en.doc, 'banner')!, 'msg')).to.match(/^Licenses in the pool: 2 /);
    const none = await runPanelExe(w, { stdin: poolDoc(), params: { func: 'pmisplicense.pool', elid: '1' } });
    expect(childText(child(none.doc, 'banner')!, 'msg')).to.match(/^Licenses in the pool: 2 /);
  });

  it('an error follows the cookie\'s language too, and says so in its lang attribute', async () => {
    const a = await runPanelExe(w, { stdin: poolDoc(), params: { func: 'pmisplicense.pool', elid: '1' }, level: '16', env: { HTTP_COOKIE: RU_COOKIE } });
    expect(errorOf(a.doc)).to.deep.include({ type: 'access', msg: 'Страницы лицензий доступны только администратору BILLmanager.' });
    expect(child(a.doc, 'error')!.attrs.lang).to.equal('ru');
  });

  it('AUTH_LEVEL 27 is refused (access), 28 is an administrator', async () => {
    const refused = await runPanelExe(w, { stdin: poolDoc('en'), params: { func: 'pmisplicense.pool', elid: '1' }, level: '27' });
    expect(refused.code).to.equal(0);
    expect(errorOf(refused.doc)).to.deep.include({ type: 'access' });
    expect(rows(refused.doc)).to.deep.equal([]);
    const admin = await runPanelExe(w, { stdin: poolDoc('en'), params: { func: 'pmisplicense.pool', elid: '1' }, level: '28' });
    expect(errorOf(admin.doc)).to.equal(null);
    expect(rows(admin.doc)).to.have.length(3);
  });

  it('opened from the Processing modules list (elid = the module, no plid): every row whatever page is asked, p_* back unchanged, raw state keys', async () => {
    const a = await runPanelExe(w, { stdin: poolDoc('en'), params: { func: 'pmisplicense.pool', elid: '1', p_cnt: '1', p_num: '2' } });
    expect(errorOf(a.doc)).to.equal(null);
    expect(rows(a.doc).map((r) => [r.id, r.state])).to.deep.equal([
      ['801', 'free'],
      ['802', 'bound'],
      ['803', 'free'],
    ]);
    expect([childText(a.doc, 'p_cnt'), childText(a.doc, 'p_num')]).to.deep.equal(['1', '2']);
    expect(childrenNamed(a.doc, 'p_elems')).to.deep.equal([]);
    expect(childText(a.doc, 'plid'), 'inside the page the module is plid').to.equal('1');
    // Paging parameters already in the document go back where they were, once.
    const inDoc = await runPanelExe(w, { stdin: `<doc lang="en" func="pmisplicense.pool"><p_num>4</p_num></doc>`, params: { func: 'pmisplicense.pool', elid: '1', p_num: '4' } });
    expect(childrenNamed(inDoc.doc, 'p_num').map((e) => e.text)).to.deep.equal(['4']);
    expect(rows(inDoc.doc)).to.have.length(3);
    const inTparams = await runPanelExe(w, { stdin: `<doc lang="en" func="pmisplicense.pool"><tparams><elid>1</elid><p_num>5</p_num></tparams></doc>`, params: { func: 'pmisplicense.pool', elid: '1', p_num: '5' } });
    expect(childText(child(inTparams.doc, 'tparams')!, 'p_num')).to.equal('5');
    expect(childrenNamed(inTparams.doc, 'p_num'), 'not a second time').to.deep.equal([]);
  });

  it('the summary banner has an id, its figures as params, and nothing stale from the incoming document', async () => {
    const stale = `<doc lang="en" func="pmisplicense.pool"><banner status="1"><msg>old</msg></banner><elem><id>1</id></elem><pool_licenses>99</pool_licenses></doc>`;
    const a = await runPanelExe(w, { stdin: stale, params: { func: 'pmisplicense.pool', elid: '1' } });
    const banners = childrenNamed(a.doc, 'banner');
    expect(banners.map((b) => b.attrs.id)).to.deep.equal(['pmisplicense_pool_summary', 'pmisplicense_pool_value', 'pmisplicense_pool_advice']);
    for (const b of banners) expect(b.attrs.id, 'every banner has an id').to.be.a('string').and.not.equal('');
    // 801: 31 days (to 2026-02-09), 803: 11 days (to 2026-01-20).
    expect(Object.fromEntries(childrenNamed(banners[0]!, 'param').map((p) => [p.attrs.name, p.text]))).to.deep.equal({ licenses: '2', paiddays: '42', lifetime: '0', reuses: '0' });
    expect(rows(a.doc).map((r) => r.id)).to.deep.equal(['801', '802', '803']);
    expect(childrenNamed(a.doc, 'pool_licenses').map((e) => e.text)).to.deep.equal(['2']);
  });
});
