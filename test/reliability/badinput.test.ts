// Reliability, part 4: bad input. Every case feeds the module one kind of malformed or hostile
// input, as BILLmanager (or a broken installation) could, and checks that the module answers with
// a clear error document (or, where right, a clean success), the exit code SPEC 2 says, the right
// running-operation outcome (SPEC 4), and that NOTHING changed: no upstream request, no purchase,
// the state file's licenses and journal as they were, the host's service params as they were, no
// stack trace on stdout.
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SIM_TASK_TYPES } from '../../src/sandbox/host.js';
import { SANDBOX_PASSWORD, SANDBOX_USER, World, type RunResult } from '../support/world.js';
import { recordCase } from './record.js';

const STACK = /at .*\.js:\d+/;
/** Upstream functions that change something (money, a license). */
const CHANGING = new Set(['soft.order.param', 'service.prolong', 'soft.suspend', 'soft.resume', 'soft.delete']);

type RoOutcome =
  /** recorded, manual, and a task for the service */
  | 'manual+task'
  /** recorded and manual; no task (there is no service to attach it to, or no task type) */
  | 'manual'
  /** recorded, left for BILLmanager's retry */
  | 'retry'
  /** the failure could not be recorded (no usable --runningoperation, or no mgrctl at all) */
  | 'unrecorded'
  /** no --runningoperation given */
  | 'none';

interface Expectation {
  code: 0 | 1;
  /** error type and object of the error document (failures only) */
  type?: string;
  object?: string;
  msg?: RegExp;
  ro: RoOutcome;
  /** 'none' (default): no upstream request at all; 'readonly': reads only, nothing changed upstream */
  requests?: 'none' | 'readonly';
}

interface Snapshot {
  licenses: unknown[];
  journal: unknown[];
  requests: number;
  purchases: number;
  prolongs: number;
  spent: number;
  upstream: string;
  params: Record<number, Record<string, string> | null>;
  hostWrites: number;
}

describe('reliability: bad input', function () {
  this.timeout(600_000);
  let w: World;
  /** Every service id the suite created: their params must never change. */
  const services: number[] = [];
  let nextItem = 100;
  let nextRo = 1000;
  let pooledLicense = 0;
  let boundLicense = 0;
  /** A regular file: nothing can be created "inside" it, whoever runs the test (root included). */
  let plainFile = '';

  const BOUND = 1;

  function addService(s: Parameters<World['addService']>[0]): number {
    w.addService(s);
    services.push(s.id);
    return s.id;
  }

  function hostWrites(): number {
    return w.host.sim.calls().filter((c) => c.func === 'service.saveparam' || c.func.startsWith('service.post')).length;
  }

  function snapshot(): Snapshot {
    return {
      licenses: w.store((s) => s.licenses()),
      journal: w.store((s) => s.journal()),
      requests: w.sandbox.requests().length,
      purchases: w.sandbox.purchases(),
      prolongs: w.sandbox.prolongs(),
      spent: w.sandbox.spent,
      upstream: JSON.stringify(w.sandbox.licenses()),
      params: Object.fromEntries(services.map((id) => [id, w.host.sim.service(id)?.params ?? null])),
      hostWrites: hostWrites(),
    };
  }

  /** Nothing changed upstream, in the state file, or in the host's services. */
  function expectUnchanged(before: Snapshot, requests: 'none' | 'readonly', success: boolean): void {
    const after = snapshot();
    const newRequests = w.sandbox.requests().slice(before.requests);
    if (requests === 'none') expect(newRequests.map((r) => r.func), 'upstream requests').to.deep.equal([]);
    const changing = newRequests.filter((r) => r.applied && (CHANGING.has(r.func) || (r.func === 'soft.edit' && r.params.sok === 'ok')));
    expect(changing.map((r) => r.func), 'changing upstream requests').to.deep.equal([]);
    expect(after.purchases, 'purchases').to.equal(before.purchases);
    expect(after.prolongs, 'prolongs').to.equal(before.prolongs);
    expect(after.spent, 'money spent').to.equal(before.spent);
    expect(after.upstream, 'upstream licenses').to.equal(before.upstream);
    // A successful read may refresh a row's timestamp; a failure may not touch the file at all.
    const strip = (ls: unknown[]) => (success ? ls.map((l) => ({ ...(l as object), updatedAt: undefined })) : ls);
    expect(strip(after.licenses), 'local licenses').to.deep.equal(strip(before.licenses));
    expect(after.journal, 'journal').to.deep.equal(before.journal);
    expect(after.params, 'service params').to.deep.equal(before.params);
    if (!success) expect(after.hostWrites, 'saveparam / post* calls').to.equal(before.hostWrites);
  }

  function parseError(stdout: string): { type: string; object: string; value: string; msg: string } {
    const m = /^<doc><error type="([^"]*)" object="([^"]*)" lang="(en|ru)"><param name="object">[^<]*<\/param><param name="value">([^<]*)<\/param><msg>([^<]+)<\/msg><\/error><\/doc>\n$/.exec(stdout);
    expect(m, `an error document on stdout, got ${JSON.stringify(stdout)}`).to.not.equal(null);
    const unescape = (t: string) => t.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    return { type: m![1]!, object: m![2]!, value: unescape(m![4]!), msg: unescape(m![5]!) };
  }

  function expectRo(ro: number | undefined, item: number | undefined, command: string, outcome: RoOutcome, stdout: string): void {
    if (outcome === 'none') return;
    const rec = ro === undefined ? undefined : w.host.sim.runningOperation(ro);
    const tasks = w.host.sim.tasks().filter((t) => t.runningoperation === ro);
    if (outcome === 'unrecorded') {
      expect(rec, 'nothing recorded on the running operation').to.equal(undefined);
      expect(tasks).to.have.length(0);
      return;
    }
    expect(rec, `running operation ${ro} recorded`).to.not.equal(undefined);
    expect(rec!.errorxml, 'errorxml = the printed error document').to.equal(stdout.trim());
    expect(rec!.manual, 'manual').to.equal(outcome !== 'retry');
    if (outcome === 'manual+task') {
      expect(tasks.map((t) => [t.item, t.type])).to.deep.equal([[item, SIM_TASK_TYPES[command]]]);
    } else {
      expect(tasks, 'no task').to.have.length(0);
    }
    // Never a task for a service that is not this one (e.g. item=0).
    expect(w.host.sim.calls('task.edit').filter((c) => c.argv.includes(`runningoperation=${ro}`) && !c.argv.includes(`item=${item}`))).to.have.length(0);
  }

  /** Runs one case: `run` spawns the module; everything else is checked here and recorded. */
  async function check(name: string, command: string, o: { item?: number; ro?: number }, e: Expectation, run: () => Promise<RunResult>): Promise<RunResult> {
    const before = snapshot();
    // Answered, not hung: run() resolves only when the process has exited; a hang is bounded by
    // the suite's generous timeout, not by a wall-clock figure a loaded machine breaks.
    const r = await run();
    expect(r.stdout, 'no stack trace on stdout').to.not.match(STACK);
    expect(r.stderr, 'no stack trace on stderr').to.not.match(STACK);
    expect(r.code, r.stdout + r.stderr).to.equal(e.code);
    let desc = `exit ${r.code}`;
    if (e.code === 1) {
      const err = parseError(r.stdout);
      if (e.type) expect(err.type, err.msg).to.equal(e.type);
      if (e.object) expect(err.object, err.msg).to.equal(e.object);
      if (e.msg) expect(err.msg).to.match(e.msg);
      desc += `, type=${err.type}`;
    }
    expectRo(o.ro, o.item, command, e.ro, r.stdout);
    expectUnchanged(before, e.requests ?? 'none', e.code === 0);
    const roText = { 'manual+task': 'manual+task', manual: 'manual, no task', retry: 'left for retry', unrecorded: 'not recorded', none: '' }[e.ro];
    const outcome = [desc, roText, e.code === 0 ? 'no purchase, state as it was' : 'nothing changed'].filter(Boolean).join(', ');
    recordCase({ suite: 'badinput', name, ok: true, counts: { processes: 1 }, outcome }); // no times: the document must not change between runs
    return r;
  }

  /** `open` of a service as BILLmanager runs it, with a fresh running operation. */
  function openCase(name: string, item: number, e: Expectation, env?: NodeJS.ProcessEnv): Promise<RunResult> {
    const ro = nextRo++;
    return check(name, 'open', { item, ro }, e, () => w.command('open', { item, ro, env }));
  }

  before(async () => {
    w = await World.create({ day: '2026-01-10' });
    plainFile = join(w.dir, 'plain-file');
    writeFileSync(plainFile, 'not a directory\n');
    // A bound license and a pooled one, so that "nothing changed" has something to change.
    addService({ id: BOUND, ip: '203.0.113.1', expiredate: '2026-02-10' });
    expect((await w.command('open', { item: BOUND, ro: 1 })).code).to.equal(0);
    addService({ id: 2, ip: '203.0.113.2', expiredate: '2026-03-10' });
    expect((await w.command('open', { item: 2, ro: 2 })).code).to.equal(0);
    expect((await w.command('close', { item: 2, ro: 3 })).code).to.equal(0);
    const ls = w.store((s) => s.licenses());
    boundLicense = ls.find((l) => l.item === BOUND)!.upstreamId;
    pooledLicense = ls.find((l) => l.state === 'free')!.upstreamId;
    expect(boundLicense).to.be.above(0);
    expect(pooledLicense).to.be.above(0);
  });

  after(async () => {
    // The suite as a whole broke no money invariant either.
    expect(w.store((s) => s.licenseOfService(BOUND))?.upstreamId).to.equal(boundLicense);
    expect(w.store((s) => s.licenses().find((l) => l.upstreamId === pooledLicense))?.state).to.equal('free');
    await w.close();
  });

  // --- stdin (check_connection) --------------------------------------------------------------

  const form = (inner: string) => `<doc><processingmodule>${inner}</processingmodule></doc>`;
  const full = () => `<url>${w.sandbox.url}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password>`;

  const STDIN_CASES: Array<{ name: string; stdin: () => string; object: string; msg: RegExp }> = [
    { name: 'malformed XML on stdin', stdin: () => `<doc><processingmodule><url>${w.sandbox.url}</url><username>x`, object: 'stdin', msg: /not usable XML: malformed XML/ },
    { name: 'not XML at all on stdin', stdin: () => 'url=https://example.com&username=a&password=b', object: 'stdin', msg: /not usable XML/ },
    { name: 'DOCTYPE with an external entity (XXE)', stdin: () => `<?xml version="1.0"?><!DOCTYPE doc [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${form(`<url>${w.sandbox.url}</url><username>&xxe;</username><password>p</password>`)}`, object: 'stdin', msg: /DOCTYPE/ },
    {
      name: 'entity expansion ("billion laughs")',
      stdin: () => {
        const ents = ['<!ENTITY l0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('');
        return `<?xml version="1.0"?><!DOCTYPE doc [${ents}]>${form(`<url>${w.sandbox.url}</url><username>&l9;</username><password>p</password>`)}`;
      },
      object: 'stdin',
      msg: /DOCTYPE or entity/,
    },
    { name: 'lower-case <!doctype> with an entity', stdin: () => `<!doctype doc [<!ENTITY a "b">]>${form(full())}`, object: 'stdin', msg: /DOCTYPE/ },
    { name: 'empty stdin', stdin: () => '', object: 'stdin', msg: /empty XML document/ },
    { name: 'whitespace-only stdin', stdin: () => '  \n\t\n', object: 'stdin', msg: /empty XML document/ },
    { name: 'form without url', stdin: () => form(`<username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password>`), object: 'url', msg: /has no url/ },
    { name: 'form without username', stdin: () => form(`<url>${w.sandbox.url}</url><password>${SANDBOX_PASSWORD}</password>`), object: 'username', msg: /has no username/ },
    { name: 'form with an empty password', stdin: () => form(`<url>${w.sandbox.url}</url><username>${SANDBOX_USER}</username><password></password>`), object: 'password', msg: /has no password/ },
    { name: 'form of another shape (<doc><foo/></doc>)', stdin: () => '<doc><foo/></doc>', object: 'url', msg: /has no url/ },
    { name: 'check_connection: ftp:// URL', stdin: () => form(`<url>ftp://127.0.0.1/billmgr</url><username>u</username><password>p-123456</password>`), object: 'url', msg: /unsupported scheme "ftp"/ },
    { name: 'check_connection: not a URL', stdin: () => form(`<url>api.ispsystem.com billmgr</url><username>u</username><password>p-123456</password>`), object: 'url', msg: /not a valid URL/ },
  ];

  for (const c of STDIN_CASES) {
    it(`${c.name} -> exit 1, type=value object=${c.object}, no request`, async () => {
      const r = await check(c.name, 'check_connection', {}, { code: 1, type: 'value', object: c.object, msg: c.msg, ro: 'none' }, () => w.command('check_connection', { stdin: c.stdin() }));
      expect(r.stdout).to.not.include('root:x:0').and.to.not.include('lollol');
    });
  }

  it('a 50 MB stdin is refused quickly, after reading about 1 MB of it', async () => {
    const big = `<doc><processingmodule><url>${'x'.repeat(50 * 1024 * 1024)}</url></processingmodule></doc>`;
    const r = await check('50 MB stdin', 'check_connection', {}, { code: 1, type: 'value', object: 'stdin', msg: /larger than 1048576 bytes.*Nothing was done/, ro: 'none' }, () =>
      w.command('check_connection', { stdin: big }),
    );
    // The value is how much it had read when it stopped: about 1 MB, not 50 (refused by progress,
    // not by a wall-clock figure).
    const read = Number(parseError(r.stdout).value);
    expect(read).to.be.above(1024 * 1024).and.below(4 * 1024 * 1024);
  });

  // --- the command line ----------------------------------------------------------------------

  const BAD_ITEMS = ['abc', '0', '-5', '1.5', '1e3', '99999999999999999999', ''];
  for (const bad of BAD_ITEMS) {
    it(`--item ${JSON.stringify(bad)} -> exit 1, type=command, recorded on the running operation, manual, no task`, async () => {
      const ro = nextRo++;
      await check(`--item ${JSON.stringify(bad)}`, 'open', { ro }, { code: 1, type: 'command', msg: /--item must be a positive whole number/, ro: 'manual' }, () =>
        w.exec(['--command', 'open', '--item', bad, '--runningoperation', String(ro)]),
      );
    });
  }

  it('missing --item -> exit 1, type=command, recorded, manual, no task for a made-up service', async () => {
    const ro = nextRo++;
    await check('missing --item', 'open', { ro }, { code: 1, type: 'command', object: 'command', msg: /needs --item/, ro: 'manual' }, () => w.command('open', { ro }));
  });

  it('--runningoperation abc -> exit 1, type=command, nothing recorded anywhere', async () => {
    await check('--runningoperation abc', 'open', { item: BOUND }, { code: 1, type: 'command', msg: /--runningoperation must be a positive whole number/, ro: 'none' }, () =>
      w.exec(['--command', 'open', '--item', String(BOUND), '--runningoperation', 'abc']),
    );
    expect(w.host.sim.calls('runningoperation.edit').filter((c) => c.argv.some((a) => a.includes('runningoperation must be')))).to.have.length(0);
  });

  it('--command=X --item=N form is accepted (sync_item of the bound service)', async () => {
    const r = await check('--item=N form', 'sync_item', {}, { code: 0, ro: 'none', requests: 'readonly' }, () => w.exec([`--command=sync_item`, `--item=${BOUND}`]));
    expect(r.stdout).to.equal('');
    expect(w.logText()).to.include(`command sync_item item=${BOUND}`);
    expect(w.sandbox.requests('soft.edit').at(-1)!.params.elid).to.equal(String(boundLicense));
  });

  it('unknown command -> exit 1, type=command, recorded, manual (the host has no task type for it)', async () => {
    const ro = nextRo++;
    await check('unknown command', 'frobnicate', { item: BOUND, ro }, { code: 1, type: 'command', msg: /Unknown command "frobnicate"/, ro: 'manual' }, () =>
      w.command('frobnicate', { item: BOUND, ro }),
    );
  });

  it('unknown options are ignored: features, and open of the bound service (a retry: nothing bought)', async () => {
    const f = await check('unknown options (features)', 'features', {}, { code: 0, ro: 'none' }, () => w.exec(['--command', 'features', '--frob', 'x', '--zzz', '--level=30', '--lang', 'xx']));
    expect(f.stdout).to.include('<feature name="open"/>');
    const ro = nextRo++;
    const r = await check('unknown options (open retry)', 'open', { item: BOUND, ro }, { code: 0, ro: 'none', requests: 'readonly' }, () =>
      w.exec(['--command', 'open', '--newoption', '5', '--item', String(BOUND), '--flag', '--runningoperation', String(ro), '--subject=x=y']),
    );
    expect(r.stdout).to.equal('');
    expect(w.host.sim.runningOperation(ro)).to.equal(undefined);
    expect(w.store((s) => s.licenseOfService(BOUND))?.upstreamId).to.equal(boundLicense);
  });

  // --- the service and the module, as the host reports them ----------------------------------

  it('unknown service (the host replies missed) -> exit 1, type=host, manual', async () => {
    const ro = nextRo++;
    await check('unknown service', 'open', { item: 99_999, ro }, { code: 1, type: 'host', msg: /Service 99999 was not found in BILLmanager/, ro: 'manual' }, () => w.command('open', { item: 99_999, ro }));
  });

  it('service without processingmodule -> exit 1, type=value object=processingmodule, manual+task', async () => {
    const id = addService({ id: nextItem++, processingmodule: null, expiredate: '2026-02-10' });
    await openCase('service without processingmodule', id, { code: 1, type: 'value', object: 'processingmodule', msg: /has no processing module/, ro: 'manual+task' });
  });

  it('missing module credentials (processing.edit of an unknown module) -> exit 1, type=host, manual+task', async () => {
    const id = addService({ id: nextItem++, processingmodule: 77, expiredate: '2026-02-10' });
    await openCase('unknown processing module', id, { code: 1, type: 'host', msg: /Processing module 77 was not found/, ro: 'manual+task' });
  });

  it('module with an empty password -> exit 1, type=value object=password, manual+task, no request', async () => {
    w.host.sim.addModule({ id: 8, url: w.sandbox.url, username: SANDBOX_USER, password: '' });
    const id = addService({ id: nextItem++, processingmodule: 8, expiredate: '2026-02-10' });
    await openCase('module with an empty password', id, { code: 1, type: 'value', object: 'password', msg: /no password/, ro: 'manual+task' });
  });

  // The host reader trims the IP (BILLmanager's forms keep what the admin typed); an address with
  // anything inside it is invalid, and so are addresses no server can have.
  const BAD_IPS = ['0.0.0.0', '256.1.1.1', '::1', '127.0.0.1', '224.0.0.1', '255.255.255.255', '1.2. 3.4', '1.2.3.4 5.6.7.8', '01.2.3.4', 'fe80::1%eth0', 'example.com', '1.2.3.4/24'];
  for (const ip of BAD_IPS) {
    it(`IP ${JSON.stringify(ip)} -> exit 1, type=value object=ip, manual+task`, async () => {
      const id = addService({ id: nextItem++, ip, expiredate: '2026-02-10' });
      await openCase(`IP ${JSON.stringify(ip)}`, id, { code: 1, type: 'value', object: 'ip', msg: /not a server address/, ro: 'manual+task' });
    });
  }

  it('IP " 1.2.3.4 " (spaces around) is trimmed: the license is bound to 1.2.3.4', async () => {
    const id = addService({ id: nextItem++, ip: ' 1.2.3.4 ', expiredate: '2026-02-10' });
    const ro = nextRo++;
    const before = w.sandbox.purchases();
    const r = await w.command('open', { item: id, ro });
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout + r.stderr).to.not.match(STACK);
    expect(w.sandbox.purchases()).to.equal(before + 1);
    const lic = w.store((s) => s.licenseOfService(id))!;
    expect(lic.ip).to.equal('1.2.3.4');
    expect(w.sandbox.license(lic.upstreamId)!.ip).to.equal('1.2.3.4');
    recordCase({ suite: 'badinput', name: 'IP " 1.2.3.4 " with spaces', ok: true, counts: { processes: 1 }, outcome: 'exit 0, trimmed: one license bound to 1.2.3.4' });
  });

  it('IPv6 "2001:DB8::10" is a valid server address: one license bound to it', async () => {
    const id = addService({ id: nextItem++, ip: '2001:DB8::10', expiredate: '2026-02-10' });
    const before = w.sandbox.purchases();
    const r = await w.command('open', { item: id, ro: nextRo++ });
    expect(r.code, r.stdout).to.equal(0);
    expect(w.sandbox.purchases()).to.equal(before + 1);
    expect(w.store((s) => s.licenseOfService(id))!.ip).to.equal('2001:DB8::10');
    recordCase({ suite: 'badinput', name: 'IPv6 2001:DB8::10', ok: true, counts: { processes: 1 }, outcome: 'exit 0, one license bound to the IPv6 address' });
  });

  it('empty IP (no IP yet) -> exit 1, type=noip, left for retry (NOT manual)', async () => {
    const id = addService({ id: nextItem++, ip: '', expiredate: '2026-02-10' });
    await openCase('empty IP (no IP yet)', id, { code: 1, type: 'noip', object: 'ip', msg: /has no IP address yet/, ro: 'retry' });
  });

  for (const period of ['5', '-7', 'abc', '', '1.0', '+1']) {
    it(`period ${JSON.stringify(period)} -> exit 1, type=value object=period, manual+task`, async () => {
      const id = addService({ id: nextItem++, period, expiredate: '2026-02-10' });
      await openCase(`period ${JSON.stringify(period)}`, id, { code: 1, type: 'value', object: 'period', msg: /is not a BILLmanager period code/, ro: 'manual+task' });
    });
  }

  for (const panel of ['ispmanager', '', '0', '-3541', '35.41', '03541']) {
    it(`panel ${JSON.stringify(panel)} -> exit 1, type=value object=panel, manual+task`, async () => {
      const id = addService({ id: nextItem++, panel, expiredate: '2026-02-10' });
      await openCase(`panel ${JSON.stringify(panel)}`, id, { code: 1, type: 'value', object: 'panel', msg: panel === '' ? /cannot tell which control panel license/ : /is not a tariff id/, ro: 'manual+task' });
    });
  }

  // Bad input on a service that already has a license: nothing is released or changed upstream.
  const BOUND_CHANGES: Array<{ name: string; change: { ip?: string; panel?: string; period?: string }; object: string }> = [
    { name: 'setparam to an invalid IP', change: { ip: '256.1.1.1' }, object: 'ip' },
    { name: 'setparam to a panel that is not a tariff id', change: { panel: 'ispmanager' }, object: 'panel' },
    { name: 'setparam with an unknown period', change: { period: '5' }, object: 'period' },
  ];
  for (const c of BOUND_CHANGES) {
    it(`${c.name} on a bound service -> exit 1, type=value object=${c.object}, license kept, manual+task`, async () => {
      const orig = w.host.sim.service(BOUND)!;
      w.host.sim.updateService(BOUND, c.change);
      try {
        const ro = nextRo++;
        await check(c.name, 'setparam', { item: BOUND, ro }, { code: 1, type: 'value', object: c.object, ro: 'manual+task' }, () => w.command('setparam', { item: BOUND, ro }));
      } finally {
        w.host.sim.updateService(BOUND, { ip: orig.ip, panel: orig.panel, period: orig.period });
      }
      expect(w.store((s) => s.licenseOfService(BOUND))).to.include({ upstreamId: boundLicense, state: 'bound' });
    });
  }

  // --- the host's command-line client ------------------------------------------------------

  it('mgrctl missing (PMISPLICENSE_MGRCTL=/nonexistent) -> exit 1, type=host naming the path; cannot be recorded', async () => {
    const r = await openCase('mgrctl missing', BOUND, { code: 1, type: 'host', msg: /mgrctl not found at \/nonexistent/, ro: 'unrecorded' }, { PMISPLICENSE_MGRCTL: '/nonexistent' });
    expect(r.stdout).to.include('PMISPLICENSE_MGRCTL');
    expect(w.logText()).to.match(/could not report the failure to BILLmanager: mgrctl not found/);
  });

  it('mgrctl exits non-zero -> exit 1, type=host, left for retry', async () => {
    const id = addService({ id: nextItem++, expiredate: '2026-02-10' });
    w.host.sim.injectFault({ func: 'soft.edit', kind: 'exit' });
    await openCase('mgrctl exits non-zero', id, { code: 1, type: 'host', msg: /mgrctl soft\.edit failed with exit code 1/, ro: 'retry' });
  });

  it('mgrctl prints garbage -> exit 1, type=host (unreadable reply), left for retry', async () => {
    const id = addService({ id: nextItem++, expiredate: '2026-02-10' });
    w.host.sim.injectFault({ func: 'soft.edit', kind: 'garbage' });
    await openCase('mgrctl prints garbage', id, { code: 1, type: 'host', msg: /mgrctl soft\.edit returned an unreadable reply/, ro: 'retry' });
  });

  it('mgrctl replies with an error to processing.edit -> exit 1, type=host, recorded', async () => {
    const id = addService({ id: nextItem++, expiredate: '2026-02-10' });
    w.host.sim.injectFault({ func: 'processing.edit', kind: 'error', message: 'Internal error, try later' });
    await openCase('mgrctl error reply to processing.edit', id, { code: 1, type: 'host', msg: /BILLmanager refused processing\.edit: Internal error, try later/, ro: 'retry' });
  });

  // --- the state file and the log --------------------------------------------------------------

  it('state file under a regular file (cannot be created) -> exit 1, type=state, manual+task, nothing created', async () => {
    const db = join(plainFile, 'x.db');
    await openCase('unwritable state file', BOUND, { code: 1, type: 'state', object: 'db', msg: /state file .* cannot be used/, ro: 'manual+task' }, { PMISPLICENSE_DB: db });
    expect(existsSync(db)).to.equal(false);
  });

  it('state file path is a directory -> exit 1, type=state, manual+task', async () => {
    const dir = join(w.dir, 'a-directory.db');
    mkdirSync(dir, { recursive: true });
    await openCase('state file is a directory', BOUND, { code: 1, type: 'state', object: 'db', msg: /cannot be used/, ro: 'manual+task' }, { PMISPLICENSE_DB: dir });
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('corrupted state file (random bytes) -> exit 1, type=state, manual+task, the file left byte for byte', async () => {
    const db = join(w.dir, 'corrupt.db');
    const bytes = randomBytes(64 * 1024);
    writeFileSync(db, bytes);
    await openCase('corrupted state file', BOUND, { code: 1, type: 'state', object: 'db', msg: /file is not a database/, ro: 'manual+task' }, { PMISPLICENSE_DB: db });
    expect(readFileSync(db).equals(bytes), 'the corrupt file is evidence: not overwritten').to.equal(true);
    expect(existsSync(`${db}-wal`)).to.equal(false);
  });

  it('log file that cannot be opened: features still works (it is answered without opening the log)', async () => {
    const logPath = join(plainFile, 'x.log');
    const r = await check('log cannot be opened (features)', 'features', {}, { code: 0, ro: 'none' }, () => w.command('features', { env: { PMISPLICENSE_LOG: logPath } }));
    expect(r.stdout).to.include('<feature name="check_connection"/>');
    expect(r.stderr).to.equal('');
  });

  it('log file that cannot be opened: check_connection still works, the log goes to stderr', async () => {
    const logPath = join(plainFile, 'x.log');
    const form = `<doc><processingmodule><url>${w.sandbox.url}</url><username>${SANDBOX_USER}</username><password>${SANDBOX_PASSWORD}</password></processingmodule></doc>`;
    const r = await w.command('check_connection', { stdin: form, env: { PMISPLICENSE_LOG: logPath } });
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stderr).to.include(`cannot open log ${logPath}`).and.to.include('logging to stderr').and.to.include('INFO command check_connection');
    expect(r.stderr).to.not.include(SANDBOX_PASSWORD);
  });

  it('log file that cannot be opened: open (a retry of the bound service) still works, the log goes to stderr', async () => {
    const ro = nextRo++;
    const r = await check('log cannot be opened (open retry)', 'open', { item: BOUND, ro }, { code: 0, ro: 'none', requests: 'readonly' }, () =>
      w.command('open', { item: BOUND, ro, env: { PMISPLICENSE_LOG: join(plainFile, 'x.log') } }),
    );
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.include(`command open item=${BOUND}`).and.to.include(`service ${BOUND}: open done`);
    expect(r.stderr).to.not.include(SANDBOX_PASSWORD);
  });

  // --- the module's connection settings ------------------------------------------------------

  it('http:// URL to a non-loopback host in the module settings -> exit 1, type=value object=url, manual+task, no request', async () => {
    w.host.sim.addModule({ id: 5, url: 'http://198.51.100.7/billmgr', username: SANDBOX_USER, password: SANDBOX_PASSWORD });
    const id = addService({ id: nextItem++, processingmodule: 5, expiredate: '2026-02-10' });
    await openCase('http:// to a non-loopback host', id, { code: 1, type: 'value', object: 'url', msg: /plain http to a host that is not this machine/, ro: 'manual+task' });
  });

  it('URL with embedded credentials -> exit 1, type=value object=url, manual+task, the credentials not echoed', async () => {
    const secretUrl = w.sandbox.url.replace('http://', `http://${SANDBOX_USER}:${SANDBOX_PASSWORD}@`);
    w.host.sim.addModule({ id: 6, url: secretUrl, username: SANDBOX_USER, password: 'another-Pa55word' });
    const id = addService({ id: nextItem++, processingmodule: 6, expiredate: '2026-02-10' });
    const ro = nextRo;
    const r = await openCase('URL with embedded credentials', id, { code: 1, type: 'value', object: 'url', msg: /must not contain a user name or password/, ro: 'manual+task' });
    expect(parseError(r.stdout).value).to.match(/^http:\/\/\*\*\*@127\.0\.0\.1:\d+\/billmgr$/);
    for (const text of [r.stdout, r.stderr, w.logText(), w.host.sim.runningOperation(ro)!.errorxml!]) {
      expect(text).to.not.include(SANDBOX_PASSWORD).and.to.not.include('another-Pa55word');
    }
    w.host.sim.addModule({ id: 6, url: w.sandbox.url, username: SANDBOX_USER, password: SANDBOX_PASSWORD });
  });

  it('the whole suite left the money invariants intact', () => {
    // Only the successful cases bought: " 1.2.3.4 " and the IPv6 one, one license each.
    const names = w.sandbox.requests('soft.order.param').filter((r) => r.applied).map((r) => r.params.licname);
    expect(new Set(names).size).to.equal(names.length);
    expect(w.store((s) => s.journal().filter((j) => j.finishedAt === null))).to.deep.equal([]);
    expect(w.host.sim.calls('task.edit').filter((c) => c.argv.includes('item=0'))).to.have.length(0);
  });
});
