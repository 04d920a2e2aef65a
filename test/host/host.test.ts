// Host against the simulated host's real mgrctl executable (a separate process, as in production).
import { expect } from 'chai';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Host, ServiceNotFoundError, ModuleNotFoundError } from '../../src/host/host.js';
import { HostReplyError } from '../../src/host/mgrctl.js';
import { HostError } from '../../src/errors.js';
import { addSecret, closeLog, openLog } from '../../src/log.js';
import { openStore } from '../../src/pool/store.js';
import { SIM_TASK_TYPES } from '../../src/sandbox/host.js';
import { newFakeHost, type FakeHost } from '../support/fake-host.js';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('Host (against the simulated host)', function () {
  let fake: FakeHost;
  let host: Host;
  let logFile: string;

  beforeEach(() => {
    fake = newFakeHost();
    host = new Host(fake.mgrctl, { env: { ...process.env, ...fake.env } });
    logFile = join(fake.dir, 'module.log');
    closeLog();
    openLog(logFile);
    fake.sim.addModule({ id: 3, url: 'https://api.ispsystem.com/manager/billmgr', username: 'reseller@example.com', password: 'Mod-Pass-<&>-7781' });
    fake.sim.addService({
      id: 2417,
      ip: ' 203.0.113.25 ',
      panel: '4601',
      period: '12',
      expiredate: '2026-03-14',
      pricelist: '27',
      itemtype: 'soft',
      processingmodule: 3,
      status: 2,
      params: { license_id: '991207', lickey: 'KEY-OLD-1234', license_expiredate: '2025-12-14', addon_4602: '3', addon_17: 'x', addons_note: 'not an addon' },
    });
  });

  afterEach(() => {
    closeLog();
    fake.cleanup();
  });

  function logText(): string {
    return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  }

  describe('readService', () => {
    it('parses every field; the product-type parameter panel; never an add-on from the form', async () => {
      const s = await host.readService(2417);
      expect(s).to.deep.equal({
        id: 2417,
        ip: '203.0.113.25',
        panel: '4601',
        period: '12',
        expiredate: '2026-03-14',
        pricelist: '27',
        itemtype: 'soft',
        processingmodule: 3,
        status: 2,
        licenseId: 991207,
        lickey: 'KEY-OLD-1234',
        licenseExpiredate: '2025-12-14',
        // soft.edit's addon_<N> are the host's option ids: never upstream add-ons (SPEC 4).
        addons: {},
      });
      expect(fake.sim.calls().map((c) => c.argv)).to.deep.equal([['-m', 'billmgr', '-o', 'xml', 'soft.edit', 'elid=2417']]);
      // The key is a registered secret from now on.
      expect(logText()).to.not.include('KEY-OLD-1234');
    });

    it('gives null / empty for what a fresh service does not have yet', async () => {
      fake.sim.addService({ id: 7, ip: '', panel: 'nopanel', expiredate: '2026-01-05 00:00:00', processingmodule: null, status: 1 });
      const s = await host.readService(7);
      expect(s.ip).to.equal('');
      expect(s.processingmodule).to.equal(null);
      expect(s.licenseId).to.equal(null);
      expect(s.lickey).to.equal('');
      expect(s.licenseExpiredate).to.equal(null);
      expect(s.expiredate).to.equal('2026-01-05');
      expect(s.addons).to.deep.equal({});
      expect(s.status).to.equal(1);
    });

    it('returns the IP unvalidated (the domain validates)', async () => {
      fake.sim.updateService(2417, { ip: '999.1.1.1' });
      expect((await host.readService(2417)).ip).to.equal('999.1.1.1');
    });

    it('reports a service the host does not know as ServiceNotFoundError with the host message', async () => {
      const e = await rejection(host.readService(9999));
      expect(e).to.be.instanceOf(ServiceNotFoundError).and.instanceOf(HostError);
      expect(e.message).to.match(/Service 9999 was not found/).and.include("value '9999' was not found");
      expect((e as HostError).retryable).to.equal(false);
    });

    it('reports a service of another product type as not found', async () => {
      fake.sim.addService({ id: 8, itemtype: 'vds' });
      expect(await rejection(host.readService(8))).to.be.instanceOf(ServiceNotFoundError);
    });
  });

  describe('readServiceWithForm', () => {
    it("gives every field of the form as the host showed it, tariff options included, without the slist", async () => {
      fake.sim.setFormOptions(2417, [{ id: 16660, value: '399', choices: [{ id: 398, name: 'Lite' }, { id: 399, name: 'Business' }] }]);
      const { service, form } = await host.readServiceWithForm(2417);
      expect(service.addons).to.deep.equal({});
      expect(form.find((f) => f.name === 'addon_16660')).to.deep.equal({ name: 'addon_16660', value: '399' });
      expect(form.map((f) => f.name)).to.not.include.members(['slist', 'tparams']);
      expect(form.find((f) => f.name === 'panel')!.value).to.equal('4601');
    });

    it('has no panel when the product type has no such parameter', async () => {
      fake.sim.addService({ id: 9, panel: '' });
      const { service, form } = await host.readServiceWithForm(9);
      expect(service.panel).to.equal('');
      expect(form.map((f) => f.name)).to.not.include('panel');
    });
  });

  describe('readDatabaseSettings (paramlist)', () => {
    it('reads the <elem> rows and registers the password as a secret', async () => {
      fake.sim.setParamList({ DBHost: 'db.local', DBUser: 'billmgr', DBPassword: 'Db-Pa55-<&>-x', DBName: 'billmgr', DBSocket: '/run/mysqld/mysqld.sock', Other: 'x' });
      const db = await host.readDatabaseSettings();
      expect(db).to.deep.equal({ host: 'db.local', user: 'billmgr', password: 'Db-Pa55-<&>-x', name: 'billmgr', socket: '/run/mysqld/mysqld.sock' });
      expect(fake.sim.calls('paramlist').map((c) => c.argv)).to.deep.equal([['-m', 'billmgr', '-o', 'xml', 'paramlist']]);
      await host.saveParam(2417, 'note', 'Db-Pa55-<&>-x');
      expect(logText()).to.not.include('Db-Pa55');
    });

    it('no database named: empty name', async () => {
      expect((await host.readDatabaseSettings()).name).to.equal('');
    });

    it('accepts a flat document of named children', async () => {
      const script = join(fake.dir, 'flat-mgrctl');
      writeFileSync(script, `#!/bin/sh\necho '<doc><DBName>billmgr</DBName><DBUser>u</DBUser><DBPassword>Flat-Secret-1</DBPassword><DBHost>127.0.0.1:3307</DBHost></doc>'\n`);
      chmodSync(script, 0o755);
      const db = await new Host(script).readDatabaseSettings();
      expect(db).to.deep.equal({ host: '127.0.0.1:3307', user: 'u', password: 'Flat-Secret-1', name: 'billmgr', socket: '' });
    });
  });

  describe('listServices (the soft list)', () => {
    it('gives id, status, processing module and IP of every service in one call', async () => {
      fake.sim.addService({ id: 7, ip: '', status: 4, processingmodule: null });
      fake.sim.addService({ id: 8, itemtype: 'vds' });
      const rows = await host.listServices();
      expect(rows).to.deep.equal([
        { id: 7, status: 4, processingmodule: null, ip: '' },
        { id: 2417, status: 2, processingmodule: 3, ip: '203.0.113.25' },
      ]);
      expect(fake.sim.calls().map((c) => c.func)).to.deep.equal(['soft']);
    });
  });

  describe('readModule', () => {
    it('reads url, username and password and registers the password as a secret', async () => {
      const m = await host.readModule(3);
      expect(m).to.deep.equal({ id: 3, kind: 'pmisplicense', url: 'https://api.ispsystem.com/manager/billmgr', username: 'reseller@example.com', password: 'Mod-Pass-<&>-7781' });
      await host.saveParam(2417, 'note', 'Mod-Pass-<&>-7781');
      expect(logText()).to.not.include('Mod-Pass');
    });

    it('reports an unknown module', async () => {
      expect(await rejection(host.readModule(42))).to.be.instanceOf(ModuleNotFoundError);
    });
  });

  describe('writes', () => {
    it('saveParam saves a plain param with one argv element per key=value', async () => {
      await host.saveParam(2417, 'license_expiredate', '2026-12-14');
      expect(fake.sim.service(2417)!.params.license_expiredate).to.equal('2026-12-14');
      const [call] = fake.sim.calls('service.saveparam');
      expect(call!.argv).to.deep.equal(['-m', 'billmgr', '-o', 'xml', 'service.saveparam', 'sok=ok', 'elid=2417', 'name=license_expiredate', 'value=2026-12-14']);
      expect(call!.secretFromEnv).to.equal(false);
    });

    it('saveParam with an empty value clears the param', async () => {
      await host.saveParam(2417, 'license_id', '');
      expect(fake.sim.service(2417)!.params.license_id).to.equal('');
    });

    it('values with spaces, quotes and shell characters arrive intact', async () => {
      const v = `a b "c" 'd' $(echo pwned) \`id\` ; & | <x> \\ \n end`;
      await host.saveParam(2417, 'odd', v);
      expect(fake.sim.service(2417)!.params.odd).to.equal(v);
    });

    it('saveSecretParam: the value reaches the host through the environment only', async () => {
      const secret = 'ISP-LICKEY-9f8e7d6c5b4a-SECRET';
      await host.saveSecretParam(2417, 'lickey', secret);
      expect(fake.sim.service(2417)!.params.lickey).to.equal(secret);
      const calls = fake.sim.calls('service.saveparam');
      expect(calls).to.have.length(1);
      expect(calls[0]!.secretFromEnv).to.equal(true);
      expect(calls[0]!.argv).to.deep.equal(['-m', 'billmgr', '-o', 'xml', 'service.saveparam', 'sok=ok', 'elid=2417', 'name=lickey', '-e', 'value=$PMISPLICENSE_SECRET']);
      for (const c of fake.sim.calls()) expect(c.argv.join(' ')).to.not.include(secret);
      const log = logText();
      expect(log).to.include('service.saveparam');
      expect(log).to.not.include(secret);
      expect(process.env.PMISPLICENSE_SECRET).to.equal(undefined);
    });

    for (const [op, status] of [
      ['open', 2],
      ['suspend', 3],
      ['resume', 2],
      ['close', 4],
      ['prolong', 2],
      ['setparam', 2],
    ] as const) {
      it(`post('${op}') calls service.post${op} and the host sets status ${status}`, async () => {
        if (op === 'resume') fake.sim.updateService(2417, { status: 3 });
        await host.post(op, 2417);
        const calls = fake.sim.calls();
        expect(calls.map((c) => c.argv.slice(4))).to.deep.equal([[`service.post${op}`, 'sok=ok', 'elid=2417']]);
        expect(fake.sim.service(2417)!.status).to.equal(status);
      });
    }

    it('recordFailure stores the error document on the running operation, secrets masked', async () => {
      addSecret('LEAKED-KEY-123456');
      const xml = '<doc><error type="upstream" object="balance" lang="en"><param name="object">balance</param><param name="value"></param><msg>Not enough money: LEAKED-KEY-123456</msg></error></doc>';
      await host.recordFailure(77, xml);
      const ro = fake.sim.runningOperation(77)!;
      expect(ro.errorxml).to.equal(xml.replace('LEAKED-KEY-123456', '***'));
      expect(ro.manual).to.equal(false);
      expect(fake.sim.calls()[0]!.argv.slice(4, 7)).to.deep.equal(['runningoperation.edit', 'sok=ok', 'elid=77']);
    });

    it('goManual makes the three calls in order and creates the task', async () => {
      const type = await host.goManual(77, 2417, 'open');
      expect(type).to.equal(SIM_TASK_TYPES.open);
      expect(fake.sim.calls().map((c) => c.argv.slice(4))).to.deep.equal([
        ['runningoperation.setmanual', 'sok=ok', 'elid=77'],
        ['task.gettype', 'operation=open'],
        ['task.edit', 'sok=ok', 'item=2417', 'runningoperation=77', `type=${SIM_TASK_TYPES.open}`],
      ]);
      expect(fake.sim.runningOperation(77)!.manual).to.equal(true);
      expect(fake.sim.tasks()).to.have.length(1);
      expect(fake.sim.tasks()[0]).to.include({ item: 2417, runningoperation: 77, type: SIM_TASK_TYPES.open });
    });

    it("goManual with the module's task record: one task per running operation; a task.edit that failed may be tried again", async () => {
      const store = openStore(join(fake.dir, 'state.db'));
      try {
        expect(await host.goManual(80, 2417, 'open', store)).to.equal(SIM_TASK_TYPES.open);
        expect(await host.goManual(80, 2417, 'open', store)).to.equal(null);
        expect(fake.sim.tasks().map((t) => t.runningoperation)).to.deep.equal([80]);
        expect(fake.sim.runningOperation(80)!.manual).to.equal(true);
        // task.edit fails: no task made, so the claim is released and the next failure tries again.
        fake.sim.injectFault({ func: 'task.edit', kind: 'exit' });
        expect(await rejection(host.goManual(81, 2417, 'open', store))).to.be.instanceOf(HostError);
        expect(await host.goManual(81, 2417, 'open', store)).to.equal(SIM_TASK_TYPES.open);
        expect(fake.sim.tasks().map((t) => t.runningoperation)).to.deep.equal([80, 81]);
      } finally {
        store.close();
      }
    });

    it('goManual without a task type for the command sets manual and creates no task', async () => {
      expect(await host.goManual(78, 2417, 'frobnicate')).to.equal(null);
      expect(fake.sim.calls().map((c) => c.func)).to.deep.equal(['runningoperation.setmanual', 'task.gettype']);
      expect(fake.sim.runningOperation(78)!.manual).to.equal(true);
      expect(fake.sim.tasks()).to.deep.equal([]);
    });

    it('a write to an unknown service is a HostReplyError carrying the host message', async () => {
      const e = await rejection(host.post('open', 5555));
      expect(e).to.be.instanceOf(HostReplyError).and.instanceOf(HostError);
      expect(e.message).to.include("value '5555' was not found");
      expect((e as HostReplyError).hostType).to.equal('missed');
    });
  });

  describe('failures of mgrctl', () => {
    it('an error reply → HostError with the host message (retryable unless missed/value)', async () => {
      fake.sim.injectFault({ func: 'service.postopen', kind: 'error', errorType: 'sql', message: 'Database is locked' });
      const e = await rejection(host.post('open', 2417));
      expect(e).to.be.instanceOf(HostReplyError);
      expect(e.message).to.equal('BILLmanager refused service.postopen: Database is locked');
      expect((e as HostError).retryable).to.equal(true);
      expect((e as HostError).type).to.equal('host');
      expect(fake.sim.service(2417)!.status).to.equal(2);
    });

    it('missing executable → HostError', async () => {
      const e = await rejection(new Host(join(fake.dir, 'no-such-mgrctl')).readService(2417));
      expect(e).to.be.instanceOf(HostError);
      expect(e.message).to.match(/mgrctl not found at .*no-such-mgrctl/);
    });

    it('exit 1 without a reply → HostError naming the exit code', async () => {
      fake.sim.injectFault({ func: 'soft.edit', kind: 'exit', message: 'cannot connect to billmgr' });
      const e = await rejection(host.readService(2417));
      expect(e).to.be.instanceOf(HostError);
      expect(e.message).to.match(/exit code 1.*cannot connect to billmgr/);
    });

    it('garbage on stdout → HostError', async () => {
      fake.sim.injectFault({ func: 'soft.edit', kind: 'garbage' });
      const e = await rejection(host.readService(2417));
      expect(e).to.be.instanceOf(HostError);
      expect(e.message).to.match(/unreadable reply/);
    });

    it('a hung mgrctl is stopped at the timeout → HostError', async function () {
      this.timeout(90_000);
      fake.sim.injectFault({ func: 'soft.edit', kind: 'hang', ms: 15000 });
      const quick = new Host(fake.mgrctl, { env: { ...process.env, ...fake.env }, timeoutMs: 2500 });
      // The hang outlasts the bound; had the bound not stopped it, the read would succeed.
      const e = await rejection(quick.readService(2417));
      expect(e).to.be.instanceOf(HostError);
      expect(e.message).to.match(/did not answer within 2.5 s/);
    });

    it('a lost reply after the host applied the call is a failure, the state shows the write', async () => {
      fake.sim.injectFault({ func: 'service.saveparam', kind: 'exit', afterApply: true });
      expect(await rejection(host.saveParam(2417, 'license_id', '5'))).to.be.instanceOf(HostError);
      expect(fake.sim.service(2417)!.params.license_id).to.equal('5');
    });
  });

  it('many module processes calling mgrctl at once all get through', async function () {
    this.timeout(120000);
    const n = 12;
    await Promise.all(Array.from({ length: n }, (_, i) => host.saveParam(2417, `p${i}`, String(i))));
    const params = fake.sim.service(2417)!.params;
    for (let i = 0; i < n; i++) expect(params[`p${i}`]).to.equal(String(i));
    expect(fake.sim.calls('service.saveparam')).to.have.length(n);
  });
});
