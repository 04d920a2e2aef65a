// The protocol runner end to end: features, unknown commands, check_connection, and the one error
// path (record on the running operation; manual + task when retrying will not cure it or after the
// 5th retryable failure in a row) (SPEC 3, 4, 6).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EXE, MODULE, SANDBOX_PASSWORD, SANDBOX_USER, World } from './support/world.js';

describe('protocol', function () {
  this.timeout(60_000);
  let w: World;
  beforeEach(async () => {
    w = await World.create({ day: '2026-01-10' });
  });
  afterEach(async () => {
    await w.close();
  });

  const form = (url: string, user: string, pass: string) => `<doc><processingmodule><url>${url}</url><username>${user}</username><password>${pass}</password></processingmodule></doc>`;

  it('features prints the features document', async () => {
    const r = await w.command('features');
    expect(r.code).to.equal(0);
    for (const f of ['check_connection', 'open', 'suspend', 'resume', 'close', 'setparam', 'prolong', 'sync_item', 'gen_key']) expect(r.stdout).to.include(`<feature name="${f}"/>`);
    expect(r.stdout).to.include('<itemtype name="soft"/>').and.to.include('<param name="password" crypted="yes"/>');
  });

  it('features is answered by the CommonJS launcher alone; without the bundle beside it, other commands fail in one line', () => {
    // The launcher copied without the ES-module bundle: features still answers, so it never loads it.
    const dir = mkdtempSync(join(tmpdir(), 'pmisplicense-launcher-'));
    try {
      copyFileSync(EXE, join(dir, 'pmisplicense'));
      copyFileSync(join(dirname(EXE), 'package.json'), join(dir, 'package.json'));
      const run = (...args: string[]) => spawnSync(process.execPath, [join(dir, 'pmisplicense'), ...args], { encoding: 'utf8' });
      for (const args of [['--command', 'features'], ['--command=features'], ['--lang', 'ru', '--command', 'features']]) {
        const r = run(...args);
        expect([r.status, r.stderr], args.join(' ')).to.deep.equal([0, '']);
        expect(r.stdout, args.join(' ')).to.include('<feature name="sync_item"/>');
      }
      const other = run('--version');
      expect(other.status).to.equal(1);
      expect(other.stdout).to.equal('');
      expect(other.stderr).to.match(/^pmisplicense: .*pmisplicense\.mjs.*\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown command is an error document, exit 1', async () => {
    const r = await w.command('nosuch');
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^<doc><error type="command" object="command" lang="en">.*<param name="value">nosuch<\/param>.*<msg>Unknown command/);
  });

  it('check_connection: right password -> ok; wrong -> credentials refused', async () => {
    const ok = await w.command('check_connection', { stdin: form(w.sandbox.url, SANDBOX_USER, SANDBOX_PASSWORD) });
    expect(ok.code, ok.stdout).to.equal(0);
    expect(ok.stdout.trim()).to.equal('<doc><ok/></doc>');
    const bad = await w.command('check_connection', { stdin: form(w.sandbox.url, SANDBOX_USER, 'wrong-password-123') });
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.match(/<error type="auth"/).and.to.match(/refused the credentials/);
    expect(bad.stdout + bad.stderr + w.logText()).to.not.include('wrong-password-123');
    expect(ok.stdout + ok.stderr + w.logText()).to.not.include(SANDBOX_PASSWORD);
  });

  it('check_connection refuses http:// to a non-loopback host before any request', async () => {
    const r = await w.command('check_connection', { stdin: form('http://203.0.113.1/billmgr', SANDBOX_USER, SANDBOX_PASSWORD) });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="value" object="url"/);
    expect(w.requests()).to.have.length(0);
  });

  it('check_connection refuses a DOCTYPE on stdin with a clear error', async () => {
    const r = await w.command('check_connection', { stdin: `<!DOCTYPE doc [<!ENTITY x "y">]>${form(w.sandbox.url, SANDBOX_USER, SANDBOX_PASSWORD)}` });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="value" object="stdin"/).and.to.match(/DOCTYPE/);
    expect(w.requests()).to.have.length(0);
  });

  it('credentials refused during open: recorded, manual, task created, nothing bought', async () => {
    w.host.sim.addModule({ id: MODULE, url: w.sandbox.url, username: SANDBOX_USER, password: 'not-the-password' });
    w.addService({ id: 140, expiredate: '2026-02-10' });
    const r = await w.command('open', { item: 140, ro: 40 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="auth"/);
    const ro = w.host.sim.runningOperation(40)!;
    expect(ro.errorxml).to.match(/<error type="auth"/);
    expect(ro.manual).to.equal(true);
    expect(w.host.sim.tasks().map((t) => [t.item, t.runningoperation])).to.deep.equal([[140, 40]]);
    expect(w.purchases()).to.equal(0);
    expect(r.stdout + w.logText()).to.not.include('not-the-password');
  });

  it('at most one task per running operation: a rerun that fails again creates no second task (SPEC 5.9)', async () => {
    w.host.sim.addModule({ id: MODULE, url: w.sandbox.url, username: SANDBOX_USER, password: 'not-the-password' });
    w.addService({ id: 148, expiredate: '2026-02-10' });
    for (let i = 1; i <= 3; i++) {
      const r = await w.command('open', { item: 148, ro: 48 });
      expect(r.code, `run ${i}`).to.equal(1);
      expect(w.host.sim.runningOperation(48)!.errorxml, `run ${i} recorded`).to.match(/<error type="auth"/);
    }
    expect(w.host.sim.runningOperation(48)!.manual).to.equal(true);
    expect(w.host.sim.tasks().map((t) => [t.item, t.runningoperation])).to.deep.equal([[148, 48]]);
    expect(w.host.sim.calls('task.edit')).to.have.length(1);
    // Another running operation of the same service gets its own task.
    expect((await w.command('open', { item: 148, ro: 49 })).code).to.equal(1);
    expect(w.host.sim.tasks().map((t) => t.runningoperation)).to.deep.equal([48, 49]);
  });

  it('HTTP 500 during open: recorded and left for retry; the retry succeeds', async () => {
    w.addService({ id: 141, expiredate: '2026-02-10' });
    w.sandbox.inject({ kind: 'http500', func: 'soft.order.param' });
    const r = await w.command('open', { item: 141, ro: 41 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="connection"/);
    expect(w.host.sim.runningOperation(41)).to.include({ manual: false });
    expect(w.host.sim.runningOperation(41)!.errorxml).to.match(/HTTP 500/);
    expect(w.host.sim.tasks()).to.have.length(0);
    const retry = await w.command('open', { item: 141, ro: 41 });
    expect(retry.code, retry.stdout).to.equal(0);
    expect(w.purchases()).to.equal(1);
  });

  it('the 5th retryable failure in a row goes manual; a success resets the count', async () => {
    w.addService({ id: 142, expiredate: '2026-02-10' });
    w.sandbox.inject({ kind: 'http500', func: 'soft.order.param', count: 4 });
    for (let i = 1; i <= 4; i++) {
      expect((await w.command('open', { item: 142, ro: 42 })).code).to.equal(1);
      expect(w.host.sim.runningOperation(42)!.manual, `failure ${i}`).to.equal(false);
    }
    expect((await w.command('open', { item: 142, ro: 42 })).code).to.equal(0);
    expect(w.store((s) => s.countFailure(142, 'open'))).to.equal(1); // reset by the success, this is the first again
    w.addService({ id: 143, expiredate: '2026-02-10', ip: '203.0.113.143' });
    w.sandbox.inject({ kind: 'http500', func: 'soft.order.param', count: 5 });
    for (let i = 1; i <= 5; i++) await w.command('open', { item: 143, ro: 43 });
    expect(w.host.sim.runningOperation(43)!.manual).to.equal(true);
    expect(w.host.sim.tasks().filter((t) => t.item === 143)).to.have.length(1);
  });

  it('an invalid IP or an unknown period: clear error, nothing bought, manual task', async () => {
    w.addService({ id: 144, ip: '256.1.1.1', expiredate: '2026-02-10' });
    w.addService({ id: 145, period: '5', expiredate: '2026-02-10', ip: '203.0.113.145' });
    const ip = await w.command('open', { item: 144, ro: 44 });
    expect(ip.code).to.equal(1);
    expect(ip.stdout).to.match(/<error type="value" object="ip"/).and.to.match(/256\.1\.1\.1/);
    const period = await w.command('open', { item: 145, ro: 45 });
    expect(period.code).to.equal(1);
    expect(period.stdout).to.match(/<error type="value" object="period"/);
    expect(w.requests()).to.have.length(0);
    expect(w.host.sim.runningOperation(44)!.manual).to.equal(true);
    expect(w.host.sim.runningOperation(45)!.manual).to.equal(true);
    expect(w.host.sim.tasks()).to.have.length(2);
    expect(w.store((s) => s.licenses())).to.have.length(0);
  });

  it('a service with no IP yet: clear error, nothing bought, left for retry', async () => {
    w.addService({ id: 146, ip: '', expiredate: '2026-02-10' });
    const r = await w.command('open', { item: 146, ro: 46 });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="noip"/).and.to.match(/no IP address yet/);
    expect(w.requests()).to.have.length(0);
    expect(w.host.sim.runningOperation(46)!.manual).to.equal(false);
    expect(w.host.sim.tasks()).to.have.length(0);
  });

  it('no secret reaches stdout, stderr, the log, errorxml or mgrctl argv', async () => {
    w.addService({ id: 147, expiredate: '2026-02-10' });
    const r = await w.command('open', { item: 147, ro: 47 });
    expect(r.code).to.equal(0);
    const key = w.sandbox.licenses()[0]!.lickey;
    expect(key).to.have.length.above(8);
    const seen = r.stdout + r.stderr + w.logText() + JSON.stringify(w.host.sim.calls().map((c) => c.argv));
    expect(seen).to.not.include(key);
    expect(seen).to.not.include(SANDBOX_PASSWORD);
    expect(w.logText()).to.match(/soft\.order\.param/); // the log does record the request
    const save = w.host.sim.calls('service.saveparam').find((c) => c.argv.includes('name=lickey'))!;
    expect(save.secretFromEnv).to.equal(true);
  });
});
