// SPEC 5.9 "a license belongs to the module that bought it", and SPEC 3: admin commands refuse a
// processing module of another kind. Module 2 is a second licensing-server account (a second
// sandbox on loopback, other credentials), so a call that goes to the wrong account shows.
import { expect } from 'chai';
import { startLicensingServer, type LicensingSandbox } from '../../src/sandbox/licensing-server.js';
import { MODULE, World } from '../support/world.js';

const OTHER = 2;

describe('a license belongs to the module that bought it (SPEC 5.9)', function () {
  this.timeout(120_000);
  let w: World;
  let other: LicensingSandbox;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
    other = await startLicensingServer({ user: 'second', password: 'Second-Account-Pa55', balance: 1000, keyDelayMs: 0, now: w.day });
    w.host.sim.addModule({ id: OTHER, url: other.url, username: 'second', password: 'Second-Account-Pa55' });
  });
  afterEach(async () => {
    await other.close();
    await w.close();
  });

  async function openOn1(item: number): Promise<number> {
    w.addService({ id: item, ip: '203.0.113.77', expiredate: '2026-02-10' });
    const r = await w.command('open', { item, ro: item });
    expect(r.code, r.stdout).to.equal(0);
    return w.store((s) => s.licenseOfService(item))!.upstreamId;
  }

  it("close of a service moved to another module releases its paid license through the old module's account, never marks it gone", async () => {
    const id = await openOn1(102);
    w.setDay('2026-01-20');
    w.host.sim.updateService(102, { processingmodule: OTHER });

    const r = await w.command('close', { item: 102, ro: 1 });
    expect(r.code, r.stdout).to.equal(0);
    // Released into module 1's pool, upstream on module 1's account: suspended and named free.lic.
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'free', item: null });
    expect(w.sandbox.license(id)).to.include({ licname: 'free.lic', status: 3 });
    // The new module's account was never asked about it.
    expect(other.requests().filter((q) => q.params.elid === String(id))).to.deep.equal([]);
    expect(w.host.sim.service(102)!.params.license_id ?? '').to.equal('');
  });

  it('reconcile shows a moved service\'s license as moved (information), bound to the module that bought it', async () => {
    const id = await openOn1(105);
    w.host.sim.updateService(105, { processingmodule: OTHER });
    const found = await w.exec(['reconcile', '--json']);
    const findings = JSON.parse(found.stdout) as Array<{ kind: string; license: number | null; item: number | null }>;
    expect(findings.filter((f) => f.kind === 'moved').map((f) => [f.license, f.item])).to.deep.equal([[id, 105]]);
    expect(findings.filter((f) => f.kind === 'unbound')).to.deep.equal([]); // it has its license
    expect(found.code, found.stderr).to.equal(0); // information only
    expect(other.requests().filter((q) => q.params.elid === String(id))).to.deep.equal([]);
  });

  it('close of a moved service whose old module no longer exists fails and says so; nothing changes', async () => {
    const id = await openOn1(103);
    w.host.sim.updateService(103, { processingmodule: OTHER });
    w.host.sim.removeModule(MODULE);
    const r = await w.command('close', { item: 103, ro: 2 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/processing module 1, which bought it, and BILLmanager no longer has that module/);
    expect(w.store((s) => s.license(MODULE, id))).to.include({ state: 'bound', item: 103 });
    expect(w.sandbox.license(id)).to.include({ licname: 'Item #103', status: 2 });
    expect(other.requests()).to.deep.equal([]);
  });

  it('sync_item of a moved service reads its license through the old account', async () => {
    const id = await openOn1(104);
    w.host.sim.updateService(104, { processingmodule: OTHER });
    const s = await w.command('sync_item', { item: 104 });
    expect(s.code, s.stdout).to.equal(0);
    expect(w.store((st) => st.license(MODULE, id))).to.include({ state: 'bound', item: 104 });
    expect(other.requests().filter((q) => q.params.elid === String(id))).to.deep.equal([]);
  });
});

describe('admin commands refuse a processing module of another kind (SPEC 3)', function () {
  this.timeout(60_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
    // An ISPmanager 6 module pointed at the sandbox: any request it made would show in the log.
    w.host.sim.addModule({ id: OTHER, url: w.sandbox.url, username: 'ispmgr-user', password: 'Other-Kind-Secret-77', kind: 'ispmanager6' });
    w.sandbox.clearRequests();
  });
  afterEach(async () => {
    await w.close();
  });

  it('periods add --module 2 exits 2 and stores nothing', async () => {
    const r = await w.exec(['periods', 'add', '--module', String(OTHER), '--source', '1', '--target', '12']);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/processing module 2 is a "ispmanager6" module, not pmisplicense/);
    expect(w.store((s) => s.periodRules(OTHER))).to.deep.equal([]);
  });

  it('reconcile --module 2 exits 2 and the licensing server receives no request', async () => {
    const r = await w.exec(['reconcile', '--module', String(OTHER)]);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/ispmanager6/);
    expect(w.sandbox.requests()).to.deep.equal([]);
  });

  it('reconcile without --module leaves a module of another kind out', async () => {
    const r = await w.exec(['reconcile']);
    expect(r.code, r.stderr).to.equal(0);
    expect(w.sandbox.requests().filter((q) => q.user === 'ispmgr-user')).to.deep.equal([]);
  });
});
