// SPEC 3: an admin command never acts on a mistake. Each case here is a mistake found by trying the
// tool as a new user (issue 9); before, each printed an error and then ran anyway with exit 0.
// The built executable runs against the simulated host (fake mgrctl) and the sandbox licensing
// server; "nothing done" is checked in the state file, the upstream request log and the host's calls.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/fake-host.js';
import { usageError } from '../support/usage.js';
import { EXE, ensureBuilt, MODULE, World } from '../support/world.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;


describe('admin commands never act on a mistake', function () {
  this.timeout(60_000);
  let w: World;
  let rule: number;

  before(async () => {
    w = await World.create();
    const a = await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '3', '--target', '12']);
    expect(a.code, a.stderr).to.equal(0);
    rule = Number(a.stdout);
  });
  after(async () => {
    await w.close();
  });

  const rules = () => w.store((s) => s.periodRules(MODULE).map((r) => r.id));

  it('periods remove with a misspelt option (--dry-run) keeps the rule', async () => {
    const r = await w.exec(['periods', 'remove', '--module', String(MODULE), '--id', String(rule), '--dry-run']);
    usageError(r, /--dry-run/);
    expect(r.stderr).to.include('periods remove --help');
    expect(rules()).to.deep.equal([rule]);
  });

  it('maintain --dry-rnu (a misspelt --dry-run) does not run maintain', async () => {
    const before = w.requests().length;
    const calls = w.host.sim.calls().length;
    const r = await w.exec(['maintain', '--dry-rnu']);
    usageError(r, /maintain has no option "--dry-rnu" \(did you mean "--dry-run"\?\)/);
    expect(w.requests().length).to.equal(before);
    expect(w.host.sim.calls().length).to.equal(calls);
    expect(w.logText()).to.not.match(/maintain:/);
  });

  it('an unknown action (periods ad) is refused with a suggestion, not answered with the rule list', async () => {
    const r = await w.exec(['periods', 'ad', '--module', String(MODULE), '--source', '1', '--target', '1']);
    usageError(r, /unknown action "ad" for periods \(did you mean "add"\?\)/);
    expect(rules()).to.deep.equal([rule]);
  });

  it('periods alone says which actions there are, in one line', async () => {
    usageError(await w.exec(['periods']), /periods needs an action: add, list or remove/);
    usageError(await w.exec(['pool']), /pool needs an action: list or adopt/);
  });

  it('an unknown command, no command, a stray argument and a repeated option are usage errors', async () => {
    usageError(await w.exec(['perods', 'list', '--module', '1']), /unknown command "perods" \(did you mean "periods"\?\)/);
    usageError(await w.exec([]), /name a command/);
    usageError(await w.exec(['pool', 'list', 'everything']), /unexpected argument "everything"/);
    usageError(await w.exec(['periods', 'list', '--module', '1', '--module', '2']), /--module is given twice/);
    usageError(await w.exec(['pool', 'list', '--json=yes']), /--json is a switch/);
  });

  it('--module 999999 (a module the host does not know) stores nothing and lists nothing', async () => {
    const add = await w.exec(['periods', 'add', '--module', '999999', '--source', '1', '--target', '12']);
    usageError(add, /no processing module 999999/);
    expect(w.store((s) => s.periodRules(999999))).to.deep.equal([]);
    usageError(await w.exec(['pool', 'list', '--module', '999999']), /no processing module 999999/);
    usageError(await w.exec(['maintain', '--module', '999999']), /no processing module 999999/);
    // the one host call allowed: reading the module, nothing written
    expect(w.host.sim.calls().filter((c) => c.func !== 'processing.edit').map((c) => c.func)).to.deep.equal([]);
  });

  it('--module abc, a missing value and a missing required option are usage errors', async () => {
    usageError(await w.exec(['periods', 'add', '--module', 'abc', '--source', '1', '--target', '12']), /--module must be a positive whole number, not "abc"/);
    usageError(await w.exec(['pool', 'list', '--module', 'abc']), /--module must be a positive whole number/);
    usageError(await w.exec(['pool', 'list', '--module', '0']), /--module must be a positive whole number/);
    usageError(await w.exec(['periods', 'list', '--module']), /--module needs a value/);
    usageError(await w.exec(['periods', 'list', '--module', '--json']), /--module needs a value/);
    usageError(await w.exec(['periods', 'add', '--module', '1', '--source', '1']), /periods add needs --target/);
    usageError(await w.exec(['periods', 'remove', '--module', '1']), /periods remove needs --id/);
    usageError(await w.exec(['pool', 'adopt', '--module', '1']), /pool adopt needs --license/);
    usageError(await w.exec(['diagnose', '--item', 'x1']), /--item must be a positive whole number/);
    usageError(await w.exec(['reconcile', '--apply', '--module', '-3']), /--module must be a positive whole number/);
    expect(rules()).to.deep.equal([rule]);
  });

  it('a malformed period or half a tariff limit is refused before anything is stored', async () => {
    usageError(await w.exec(['periods', 'add', '--module', '1', '--source', '5', '--target', '12']), /--source must be a BILLmanager period code/);
    usageError(await w.exec(['periods', 'add', '--module', '1', '--source', '1', '--target', '3']), /--target must be a license period/);
    usageError(await w.exec(['periods', 'add', '--module', '1', '--source', '1', '--target', '12', '--itemtype', 'soft']), /both --itemtype and --pricelist/);
    expect(rules()).to.deep.equal([rule]);
  });

  it('a failure of the command itself is exit 1 and one clean line', async () => {
    const r = await w.exec(['periods', 'remove', '--module', String(MODULE), '--id', '99999']);
    expect(r.code).to.equal(1);
    expect(r.stderr.split('\n').filter(Boolean), r.stderr).to.have.length(1);
    expect(r.stderr).to.match(/^pmisplicense periods remove: .*99999/);
    expect(r.stderr).to.not.match(/\.\.|BillManager/);
  });

  it('unusable environment values are refused naming the variable (admin: exit 2, nothing done)', async () => {
    const cases: Array<[string, string]> = [
      ['PMISPLICENSE_HTTP_TIMEOUT', 'abc'],
      ['PMISPLICENSE_HTTP_TIMEOUT', '-5'],
      ['PMISPLICENSE_KEY_WAIT', 'abc'],
      ['PMISPLICENSE_ORDER_SETTLE', '-5'],
      ['PMISPLICENSE_LOCK_WAIT', '1e9'],
      ['PMISPLICENSE_NOW', 'garbage'],
      ['PMISPLICENSE_NOW', '2026-02-30'],
    ];
    for (const [name, value] of cases) {
      const r = await w.exec(['periods', 'add', '--module', String(MODULE), '--source', '6', '--target', '12'], { env: { [name]: value } });
      expect(r.code, `${name}=${value}: ${r.stderr}`).to.equal(2);
      expect(r.stderr.split('\n').filter(Boolean)).to.have.length(1);
      expect(r.stderr).to.include(name);
    }
    expect(rules()).to.deep.equal([rule]);
  });

  it('unusable environment values make a protocol command answer an error document of type command', async () => {
    w.addService({ id: 801 });
    const before = w.requests().length;
    const r = await w.command('sync_item', { item: 801, env: { PMISPLICENSE_HTTP_TIMEOUT: 'abc' } });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/<error type="command" object="PMISPLICENSE_HTTP_TIMEOUT"/);
    expect(r.stdout).to.include('PMISPLICENSE_HTTP_TIMEOUT');
    expect(w.requests().length).to.equal(before);
  });

  it('-h, --help and --version answer with exit 0; per-action help differs from the group help and has an example', async () => {
    for (const flag of ['-h', '--help']) {
      const h = await w.exec([flag]);
      expect(h.code).to.equal(0);
      expect(h.stderr).to.equal('');
      for (const c of ['periods', 'pool', 'reconcile', 'maintain', 'diagnose', 'sandbox', 'demo', 'panel']) expect(h.stdout).to.include(c);
    }
    const v = await w.exec(['--version']);
    expect(v.code).to.equal(0);
    expect(v.stdout).to.equal(`${VERSION}\n`);
    const group = await w.exec(['periods', '--help']);
    const add = await w.exec(['periods', 'add', '--help']);
    expect(group.code).to.equal(0);
    expect(add.code).to.equal(0);
    expect(add.stdout).to.not.equal(group.stdout);
    expect(add.stdout).to.match(/^Usage: pmisplicense periods add --module N --source P --target P/);
    expect(add.stdout).to.match(/Examples?:\n {2}pmisplicense periods add --module 1 --source 1 --target 12/);
    for (const cmd of [['periods', 'list'], ['periods', 'remove'], ['pool', 'list'], ['pool', 'adopt'], ['reconcile'], ['maintain'], ['diagnose'], ['sandbox'], ['demo']]) {
      const h = await w.exec([...cmd, '-h']);
      expect(h.code, cmd.join(' ')).to.equal(0);
      expect(h.stdout, cmd.join(' ')).to.match(new RegExp(`^Usage: pmisplicense ${cmd.join(' ')}`));
      expect(h.stdout, cmd.join(' ')).to.match(/Examples?:\n {2}pmisplicense /);
    }
  });
});

describe('sandbox command line', function () {
  this.timeout(30_000);
  before(() => ensureBuilt());

  /** Run synchronously with a deadline: a server that started would be killed and fail the test. */
  function sandbox(args: string[]) {
    const r = spawnSync(process.execPath, [EXE, 'sandbox', ...args], {
      env: { PATH: process.env.PATH, PMISPLICENSE_SANDBOX_PASSWORD: 'Sandbox-Pa55word-xyz', PMISPLICENSE_LOG: '/dev/null' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
  }

  it('a misspelt --password does not start the server', () => {
    const r = sandbox(['--pasword', 'y']);
    expect(r.signal, 'the server started').to.equal(null);
    usageError(r, /sandbox has no option "--pasword" \(did you mean "--password"\?\)/);
  });

  it('refuses a balance that is not a non-negative number and a port out of range', () => {
    for (const [args, msg] of [
      [['--balance', 'lots'], /--balance must be a number of 0 or more, not "lots"/],
      [['--balance', '-10'], /--balance must be a number of 0 or more, not "-10"/],
      [['--port', '70000'], /--port must be a port number from 0 to 65535/],
      [['--port', 'http'], /--port must be a port number/],
      [['--now', 'tomorrow'], /--now must be an ISO-8601 day or instant/],
    ] as Array<[string[], RegExp]>) {
      const r = sandbox(args);
      expect(r.signal, `${args.join(' ')}: the server started`).to.equal(null);
      usageError(r, msg);
    }
  });
});

describe('the panel handler is routed without the admin command line', function () {
  this.timeout(30_000);
  before(() => ensureBuilt());

  it('pmisplicense panel never answers with an admin usage error', () => {
    const r = spawnSync(process.execPath, [EXE, 'panel'], { env: { PATH: process.env.PATH, PMISPLICENSE_LOG: '/dev/null', PMISPLICENSE_DB: '/nonexistent/x.db' }, input: '<doc/>', encoding: 'utf8', timeout: 10_000 });
    expect(r.stderr).to.not.match(/has no option|needs an action|unknown (command|argument)/i);
    expect(r.status).to.not.equal(2);
  });
});

