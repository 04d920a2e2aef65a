// The pool page's Adopt form and the Reconcile list with Apply (SPEC 8, 3): the handler driven as
// COREmanager drives it, on the real src/pool/adopt.ts and reconcile.ts, against the sandbox
// licensing server and the simulated host; the outcome is checked through the CLI
// (`pool list --json`, `reconcile --json`) and the sandbox's own view of the licenses.
import { expect } from 'chai';
import { LicensingClient } from '../../src/upstream/client.js';
import { childText } from '../../src/xml.js';
import { pooled } from '../support/pool.js';
import { MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from '../support/world.js';
import { errorOf, rows, runPanelExe, slistOf } from './run.js';

interface PoolRowJson {
  license: number;
  state: string;
  item: number | null;
}

async function poolViaCli(w: World): Promise<PoolRowJson[]> {
  const r = await w.exec(['pool', 'list', '--module', String(MODULE), '--json']);
  expect(r.code, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as PoolRowJson[];
}

function has(doc: { children: Array<{ name: string }> }, name: string): boolean {
  return doc.children.some((c) => c.name === name);
}

/** What the sandbox holds of a license: enough to see that nothing changed. */
function upstreamView(w: World, id: number) {
  const l = w.sandbox.license(id)!;
  return { licname: l.licname, status: l.status, autoprolongOn: l.autoprolongOn };
}

describe('panel: Adopt', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    w = await World.create(); // today is 2026-01-10
    w.addService({ id: 401, status: 4 }); // closed: its license is adoptable
    w.addService({ id: 403, status: 2 }); // live: its license is not
    const seed = { period: 1, expiredate: '2026-03-01' };
    w.sandbox.addLicense({ ...seed, id: 7001, licname: 'free.lic' });
    w.sandbox.addLicense({ ...seed, id: 7002, licname: 'Item #401', autoprolong: true });
    w.sandbox.addLicense({ ...seed, id: 7003, licname: 'Item #402' }); // service 402: unknown to the host
    w.sandbox.addLicense({ ...seed, id: 7004, licname: 'Item #403' });
    w.sandbox.addLicense({ ...seed, id: 7006, licname: 'myserver' }); // named otherwise: maybe in use elsewhere
    await pooled(w, { ...seed, id: 7005 }); // already managed
  });
  after(async () => {
    await w.close();
  });

  it('offers exactly the adoptable licenses: free.lic and Item #N of a closed or unknown service', async () => {
    const a = await runPanelExe(w, { fixture: 'pool-adopt-get.xml' });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc)).to.equal(null);
    const offered = slistOf(a.doc, 'license');
    expect(offered.map(([k]) => k)).to.deep.equal(['7001', '7002', '7003']);
    expect(offered[0]![1]).to.match(/^#7001 ISPmanager Lite \(3541\), .*2026-03-01: free\.lic/);
    expect(offered[1]![1]).to.match(/Item #401 \(service 401 is closed\)/);
    expect(offered[2]![1]).to.match(/Item #402 \(service 402 is unknown to BILLmanager\)/);
    expect(childText(a.doc, 'plid')).to.equal('1');
  });

  it('a live service\'s license posted anyway is an error naming the field license; nothing changes', async () => {
    const before = upstreamView(w, 7004);
    for (const [fixture, msg] of [
      ['pool-adopt-bad-live.xml', /License 7004 was not adopted: service 403 is active in BILLmanager/],
      ['pool-adopt-bad-live-ru.xml', /^Неверные данные: License 7004 was not adopted/],
    ] as const) {
      const a = await runPanelExe(w, { fixture });
      expect(a.code).to.equal(0);
      const e = errorOf(a.doc);
      expect(e, a.stdout).to.deep.include({ type: 'value', object: 'license' });
      expect(e!.msg).to.match(msg);
      expect(has(a.doc, 'ok')).to.equal(false);
    }
    expect(upstreamView(w, 7004)).to.deep.equal(before);
    expect((await poolViaCli(w)).map((r) => r.license)).to.deep.equal([7005]);
  });

  it('refuses a license the module already manages, one named otherwise, and a malformed id, each naming license', async () => {
    for (const license of ['7005', '7006', 'abc', '']) {
      const a = await runPanelExe(w, { fixture: 'pool-adopt-save.xml', params: { license } });
      expect(errorOf(a.doc), license).to.deep.include({ type: 'value', object: 'license' });
    }
    expect(upstreamView(w, 7006)).to.deep.equal({ licname: 'myserver', status: 2, autoprolongOn: false });
    expect((await poolViaCli(w)).map((r) => r.license)).to.deep.equal([7005]);
  });

  it('a customer cannot adopt: access error, nothing changed', async () => {
    const before = upstreamView(w, 7002);
    const a = await runPanelExe(w, { fixture: 'pool-adopt-save.xml', level: '16' });
    expect(errorOf(a.doc)).to.deep.include({ type: 'access' });
    expect(upstreamView(w, 7002)).to.deep.equal(before);
    expect((await poolViaCli(w)).map((r) => r.license)).to.deep.equal([7005]);
  });

  it('sok=ok adopts the chosen license: free in the pool; suspended, free.lic, auto-renewal off upstream', async () => {
    expect(upstreamView(w, 7002)).to.deep.equal({ licname: 'Item #401', status: 2, autoprolongOn: true });
    const a = await runPanelExe(w, { fixture: 'pool-adopt-save.xml' });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc), a.stdout).to.equal(null);
    expect(has(a.doc, 'ok')).to.equal(true);
    expect((await poolViaCli(w)).map((r) => [r.license, r.state])).to.deep.equal([
      [7002, 'free'],
      [7005, 'free'],
    ]);
    expect(upstreamView(w, 7002)).to.deep.equal({ licname: 'free.lic', status: 3, autoprolongOn: false });
    // No longer offered; the others still are.
    const again = await runPanelExe(w, { fixture: 'pool-adopt-get.xml' });
    expect(slistOf(again.doc, 'license').map(([k]) => k)).to.deep.equal(['7001', '7003']);
  });
});

describe('panel: Reconcile', function () {
  this.timeout(120_000);
  let w: World;
  const ids = { leaked: 0, lost: 0, foreign: 0, pool: 0, named: 0 };
  const client = () => new LicensingClient({ url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });

  async function open(item: number, expiredate = '2026-02-10'): Promise<number> {
    w.addService({ id: item, ip: `203.0.113.${item % 200}`, expiredate });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(item))!.upstreamId;
  }

  async function findingsViaCli(): Promise<string[]> {
    const r = await w.exec(['reconcile', '--module', String(MODULE), '--json']);
    return (JSON.parse(r.stdout) as Array<{ kind: string; license: number | null; item: number | null }>).map((f) => `${f.kind}:${f.license ?? '-'}:${f.item ?? '-'}`).sort();
  }

  async function listedIds(): Promise<string[]> {
    const a = await runPanelExe(w, { fixture: 'reconcile-list.xml' });
    expect(errorOf(a.doc), a.stdout).to.equal(null);
    return rows(a.doc).map((r) => r.id!).sort();
  }

  before(async () => {
    w = await World.create({ day: '2026-01-10' });
    // The planting of test/commands/reconcile.test.ts: one finding of each kind but drift.
    ids.leaked = await open(301); // leak: service closed, license still bound
    w.host.sim.updateService(301, { status: 4 });
    ids.lost = await open(302, '2026-03-10'); // lost: deleted at the licensing server
    await client().delete(ids.lost);
    ids.foreign = w.sandbox.addLicense({ licname: 'free.lic', period: 1, expiredate: '2026-01-19' }).id; // unmanaged
    ids.named = await open(303); // params: service 304 names service 303's license
    await open(304);
    w.host.sim.updateService(304, { params: { license_id: String(ids.named) } });
    ids.pool = await pooled(w, { period: 12, createdate: '2025-06-01', expiredate: '2026-05-31', ipChangeDate: '2025-06-01', keyChangeDate: '2025-06-01' });
    await client().edit(ids.pool, { autoprolong: true }); // autoprolong: a pooled license renewing itself
  });
  after(async () => {
    await w.close();
  });

  it('lists each planted finding with id kind:license:item and its paid days left', async () => {
    const a = await runPanelExe(w, { fixture: 'reconcile-list.xml' });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc), a.stdout).to.equal(null);
    const byId = new Map(rows(a.doc).map((r) => [r.id!, r]));
    const expected = [`leak:${ids.leaked}:301`, `lost:${ids.lost}:302`, `unmanaged:${ids.foreign}:-`, `params:${ids.named}:304`, `autoprolong:${ids.pool}:-`];
    expect([...byId.keys()].sort()).to.deep.equal(expected.sort());
    expect([...byId.keys()].sort()).to.deep.equal(await findingsViaCli()); // the same findings as the CLI
    // kind is a type="msg" column: the raw key, translated by COREmanager from the list's messages.
    expect(byId.get(`leak:${ids.leaked}:301`)).to.deep.include({ kind: 'leak', license: String(ids.leaked), item: '301', paiddays: '32' });
    for (const [id, r] of byId) expect(r.kind, id).to.equal(id.split(':')[0]);
    expect(byId.get(`unmanaged:${ids.foreign}:-`)).to.deep.include({ item: '', paiddays: '10' });
    expect(byId.get(`autoprolong:${ids.pool}:-`)).to.deep.include({ paiddays: '142' }); // to 2026-05-31
    expect(Number(byId.get(`lost:${ids.lost}:302`)!.paiddays)).to.be.greaterThan(0);
    expect(byId.get(`params:${ids.named}:304`)!.detail).to.match(/bound to service 303/);
    expect(byId.get(`leak:${ids.leaked}:301`)!.fix).to.match(/release it/);
    expect(rows(a.doc)).to.have.length(5);
  });

  it('in Russian: the same ids and raw kinds (COREmanager translates a type="msg" cell), asked for a page: every row', async () => {
    const a = await runPanelExe(w, { fixture: 'reconcile-list-ru.xml', params: { p_cnt: '2', p_num: '3' } });
    expect(errorOf(a.doc)).to.equal(null);
    const r = rows(a.doc);
    expect(r.map((x) => x.id).sort()).to.deep.equal(await listedIds());
    expect(r).to.have.length(5);
    expect(r.find((x) => x.id!.startsWith('leak:'))!.kind).to.equal('leak');
    expect([childText(a.doc, 'p_cnt'), childText(a.doc, 'p_num')]).to.deep.equal(['2', '3']);
  });

  it('a customer can neither list nor apply: access error, nothing changed', async () => {
    const list = await runPanelExe(w, { fixture: 'reconcile-list.xml', level: '16' });
    expect(errorOf(list.doc)).to.deep.include({ type: 'access' });
    expect(rows(list.doc)).to.deep.equal([]);
    const apply = await runPanelExe(w, { fixture: 'reconcile-apply.xml', params: { elid: `leak:${ids.leaked}:301` }, level: '16' });
    expect(errorOf(apply.doc)).to.deep.include({ type: 'access' });
    expect(w.store((s) => s.license(MODULE, ids.leaked))).to.include({ state: 'bound', item: 301 });
    expect(await listedIds()).to.have.length(5);
  });

  it('Apply on the selected findings fixes only those; the others are still listed', async () => {
    const a = await runPanelExe(w, { fixture: 'reconcile-apply.xml', params: { elid: `leak:${ids.leaked}:301, autoprolong:${ids.pool}:-` } });
    expect(a.code).to.equal(0);
    expect(errorOf(a.doc), a.stdout).to.equal(null);
    expect(has(a.doc, 'ok')).to.equal(true);
    // leak: released into the pool (paid time left), suspended and renamed upstream.
    expect(w.store((s) => s.license(MODULE, ids.leaked))).to.include({ state: 'free', item: null });
    expect(upstreamView(w, ids.leaked)).to.include({ licname: 'free.lic', status: 3 });
    expect(w.sandbox.license(ids.pool)!.autoprolongOn).to.equal(false);
    // Not selected: untouched.
    expect(w.store((s) => s.license(MODULE, ids.lost))!.state).to.not.equal('gone');
    expect(w.host.sim.service(304)!.params.license_id).to.equal(String(ids.named));
    expect(await listedIds()).to.deep.equal([`lost:${ids.lost}:302`, `params:${ids.named}:304`, `unmanaged:${ids.foreign}:-`].sort());
  });

  it('Apply on a finding that no longer holds is an error, and nothing is applied (not even the valid ones beside it)', async () => {
    const stale = `leak:${ids.leaked}:301`;
    const one = await runPanelExe(w, { fixture: 'reconcile-apply.xml', params: { elid: stale } });
    expect(errorOf(one.doc)).to.deep.include({ type: 'value', object: 'elid' });
    expect(errorOf(one.doc)!.msg).to.include(`Finding ${stale} no longer holds`);
    const mixed = await runPanelExe(w, { fixture: 'reconcile-apply.xml', params: { elid: `lost:${ids.lost}:302, ${stale}` } });
    expect(errorOf(mixed.doc)).to.deep.include({ type: 'value', object: 'elid' });
    expect(has(mixed.doc, 'ok')).to.equal(false);
    expect(w.store((s) => s.license(MODULE, ids.lost))!.state).to.not.equal('gone');
    // Information is not applied either; a malformed id is refused as such.
    const info = await runPanelExe(w, { fixture: 'reconcile-apply.xml', params: { elid: `unmanaged:${ids.foreign}:-` } });
    expect(errorOf(info.doc)!.msg).to.match(/information only/);
    const bad = await runPanelExe(w, { fixture: 'reconcile-apply.xml', params: { elid: 'leak;rm -rf' } });
    expect(errorOf(bad.doc)).to.deep.include({ type: 'value', object: 'elid' });
    expect(await listedIds()).to.deep.equal([`lost:${ids.lost}:302`, `params:${ids.named}:304`, `unmanaged:${ids.foreign}:-`].sort());
    expect(w.store((s) => s.isKnown(ids.foreign))).to.equal(false);
  });

  it('Apply on the rest leaves only the information; the CLI agrees', async () => {
    const a = await runPanelExe(w, { fixture: 'reconcile-apply.xml', params: { elid: `lost:${ids.lost}:302, params:${ids.named}:304` } });
    expect(errorOf(a.doc), a.stdout).to.equal(null);
    expect(w.store((s) => s.license(MODULE, ids.lost))!.state).to.equal('gone');
    expect(w.host.sim.service(304)!.params.license_id ?? '').to.equal('');
    expect(w.host.sim.service(303)!.params.license_id).to.equal(String(ids.named));
    // Service 302 is live and its license is gone: it now has none (SPEC 5.9 `unbound`, no candidate).
    expect(await listedIds()).to.deep.equal(['unbound:-:302', `unmanaged:${ids.foreign}:-`]);
    expect(await findingsViaCli()).to.deep.equal(['unbound:-:302', `unmanaged:${ids.foreign}:-`]);
  });
});
